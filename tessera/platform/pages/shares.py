"""The share dialog of a record page: share one record with a user or a department, to read or
to edit, list its shares and withdraw one.

Who may share is who may change the record (``permissions.share`` checks it, as the API does):
its owner under an ``own`` update scope, a manager under ``department_tree``, a user it was
shared with to ``edit``, a system administrator.  The dialog is drawn only for them, and only
in apps that declare permissions (in an open app a share would add nothing).  Both POST routes
are CSRF-protected like every form and answer 404 for records the user cannot see.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import NotFound, PermissionDenied, ValidationFailed
from tessera.platform import permissions
from tessera.platform.i18n import error_text
from tessera.platform.identity.current import login_required
from tessera.platform.models import Department, User
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import Runtime, open_app, record_or_404
from tessera.platform.pages.nav import entity_url

#: at most this many people and departments are offered in the dialog's list
CHOICES = 2000


def may_share(runtime: Runtime, entity: EntityModel, record: dict[str, Any]) -> bool:
    """Whether the page shows the share dialog for this record."""
    if not permissions.policy_of(runtime.live).enabled:
        return False
    return runtime.service.scope.can("update", entity, record)


def dialog(runtime: Runtime, entity: EntityModel, record_id: int) -> dict[str, Any]:
    """What the dialog shows: current shares with their grantees' names, and whom to add."""
    users, departments = User.__table__, Department.__table__
    shares = permissions.shares_of(runtime.conn, runtime.key, entity.key, record_id)
    names = dict(runtime.conn.execute(
        sa.select(users.c.id, users.c.name).where(
            users.c.id.in_([s["user_id"] for s in shares if s["user_id"]])
        )
    ).all())  # fmt: skip
    teams = dict(runtime.conn.execute(sa.select(departments.c.id, departments.c.name)).all())
    people = runtime.conn.execute(
        sa.select(users.c.id, users.c.name)
        .where(users.c.is_active.is_(True), users.c.id != runtime.identity.user_id)
        .order_by(users.c.name)
        .limit(CHOICES)
    ).all()
    listed = [
        {
            "kind": "user" if s["user_id"] else "department",
            "id": s["user_id"] or s["department_id"],
            "name": names.get(s["user_id"], f"#{s['user_id']}") if s["user_id"]
            else teams.get(s["department_id"], f"#{s['department_id']}"),
            "access": s["access"],
        }
        for s in shares
    ]  # fmt: skip
    return {
        "shares": listed,
        "people": people,
        "departments": sorted(teams.items(), key=lambda item: str(item[1]))[:CHOICES],
        "action": entity_url(runtime.key, entity.key, f"{record_id}/shares"),
        "remove": entity_url(runtime.key, entity.key, f"{record_id}/shares/remove"),
    }


def _grantee() -> tuple[int | None, int | None]:
    """``(user_id, department_id)`` from the form's ``grantee`` (``user:7``, ``department:3``)."""
    kind, _sep, number = (request.form.get("grantee") or "").partition(":")
    if not number.isdigit() or kind not in ("user", "department") or len(number) > 18:
        abort(400)
    return (int(number), None) if kind == "user" else (None, int(number))


def _change(app_key: str, entity_key: str, record_id: int, remove: bool) -> ResponseReturnValue:
    user_id, department_id = _grantee()
    access = request.form.get("access", "read")
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        record_or_404(runtime, entity.key, record_id)
        actor = runtime.service.actor
        try:
            if remove:
                permissions.unshare(
                    runtime.conn, app_key, entity.key, record_id, actor,
                    user_id=user_id, department_id=department_id,
                )  # fmt: skip
                flash(_("The record is no longer shared with them."), "success")
            else:
                permissions.share(
                    runtime.conn, app_key, entity.key, record_id, actor,
                    user_id=user_id, department_id=department_id, access=access,
                )  # fmt: skip
                flash(_("The record has been shared."), "success")
        except NotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
        except ValidationFailed as failed:
            flash(_("Not shared: %(why)s", why=error_text(failed.errors[0])), "error")
    return redirect(entity_url(app_key, entity_key, str(record_id)))


@blueprint.post("/<app_key>/<entity_key>/<int:record_id>/shares")
@login_required
def share_record(app_key: str, entity_key: str, record_id: int) -> ResponseReturnValue:
    return _change(app_key, entity_key, record_id, remove=False)


@blueprint.post("/<app_key>/<entity_key>/<int:record_id>/shares/remove")
@login_required
def unshare_record(app_key: str, entity_key: str, record_id: int) -> ResponseReturnValue:
    return _change(app_key, entity_key, record_id, remove=True)
