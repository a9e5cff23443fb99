"""The admin area: users, departments, roles, API tokens, the audit log and the mail outbox.

Every route of this blueprint is for system administrators only; the check is a
``before_request`` of the blueprint, so a new page cannot forget it.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask.typing import ResponseReturnValue

from tessera.platform.identity.current import current_identity, login_required

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.before_request
@login_required
def _system_admins_only() -> ResponseReturnValue | None:
    identity = current_identity()
    if identity is None or not identity.is_system_admin:
        abort(403)
    return None


@blueprint.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("admin.users"))


# The pages register themselves on ``blueprint`` when imported.
import tessera.platform.identity.admin.ops  # noqa: E402
import tessera.platform.identity.admin.org  # noqa: E402
import tessera.platform.identity.admin.users  # noqa: E402, F401
