"""The every-field-type app and tokens of the API tests serve the transfer tests too."""

from tests.platform.api.conftest import kit, token_for

__all__ = ["kit", "token_for"]
