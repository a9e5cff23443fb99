"""The every-field-type app and tokens of the API tests serve the transfer tests too; a
Chinese-speaking user signed in to both the pages and the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.api.conftest import Api, Token, kit, token_for

__all__ = ["kit", "token_for"]


@pytest.fixture
def signed_in(
    kit: Platform, app: Flask, user_factory: Callable[..., User], token_for: Token, web: Web
) -> tuple[Web, Api]:
    user = user_factory(name="Ada", locale="zh-CN")
    web.sign_in(user.email)
    return web, Api(app.test_client(), token_for(user))
