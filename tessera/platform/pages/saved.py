"""Saved views: a list's query string stored under a name, personal or shared.

A saved view is looked up by ``(app, entity, key)`` *and* visibility — its owner's, or shared —
so guessing another user's key shows nothing.  Only its owner (or a system administrator) may
delete it.  The stored query is re-validated every time it is used, like any query string.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import abort, flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.platform.identity.current import Identity, login_required, safe_next
from tessera.platform.models import SavedView, utcnow
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import open_app
from tessera.platform.pages.nav import entity_url

TABLE: sa.Table = SavedView.__table__  # type: ignore[assignment]
KEY_PREFIX = "my-"
MAX_NAME = 80


def _visible_to(identity: Identity) -> sa.ColumnElement[bool]:
    return sa.or_(TABLE.c.owner_id == identity.user_id, TABLE.c.shared.is_(True))


def find(
    conn: sa.Connection, app: str, entity: str, key: str, identity: Identity
) -> sa.Row[Any] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    return conn.execute(
        sa.select(TABLE).where(
            TABLE.c.app == app, TABLE.c.entity == entity, TABLE.c.key == key,
            _visible_to(identity),
        )
    ).first()  # fmt: skip


def visible(conn: sa.Connection, app: str, entity: str, identity: Identity) -> list[sa.Row[Any]]:
    return list(
        conn.execute(
            sa.select(TABLE)
            .where(TABLE.c.app == app, TABLE.c.entity == entity, _visible_to(identity))
            .order_by(TABLE.c.shared, sa.func.lower(TABLE.c.name), TABLE.c.id)
        )
    )


ALLOWED = ("q", "sort", "filter", "formula", "cols", "limit")


def query_from(text: str) -> dict[str, str]:
    """The list parameters worth keeping from a list's query string."""
    return {k: v[:20000] for k, v in parse_qsl(text[:40000]) if k in ALLOWED and v}


@blueprint.post("/<app_key>/<entity_key>/views")
@login_required
def save_view(app_key: str, entity_key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        name = " ".join(request.form.get("name", "").split())[:MAX_NAME]
        if not name:
            flash(_("Give the view a name."), "error")
            return redirect(entity_url(app_key, entity.key) + "?" + request.form.get("query", ""))
        key = KEY_PREFIX + secrets.token_hex(5)
        now = utcnow()
        runtime.conn.execute(
            sa.insert(TABLE).values(
                app=app_key, entity=entity.key, key=key, name=name,
                owner_id=runtime.identity.user_id, shared=request.form.get("shared") == "1",
                query=query_from(request.form.get("query", "")), created_at=now, updated_at=now,
            )
        )  # fmt: skip
    flash(_("View “%(name)s” saved.", name=name), "success")
    return redirect(entity_url(app_key, entity_key, view=key))


@blueprint.post("/<app_key>/<entity_key>/views/<key>/delete")
@login_required
def delete_view(app_key: str, entity_key: str, key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        found = find(runtime.conn, app_key, entity_key, key, runtime.identity)
        if found is None:
            abort(404)
        if found.owner_id != runtime.identity.user_id and not runtime.identity.is_system_admin:
            abort(403)
        runtime.conn.execute(sa.delete(TABLE).where(TABLE.c.id == found.id))
    flash(_("View “%(name)s” deleted.", name=found.name), "success")
    return redirect(safe_next(request.form.get("next")) or entity_url(app_key, entity_key))
