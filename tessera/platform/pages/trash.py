"""An entity's trash: the records deleted from its list, to restore or (for those allowed)
purge for good, one at a time or many at once.

Everything goes through the records service: the page is a keyset list with ``trashed=True``
(so the permission scope narrows it like any list), restore and purge are the service's
``bulk_restore`` and ``bulk_purge`` (all or nothing, each checked against the scope; a record
the user may not see is "not found", one they may see but not change is refused).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.forms import ListQuery, NotFound, PermissionDenied, ValidationFailed
from tessera.platform.identity.current import login_required
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import open_app
from tessera.platform.pages.lists import default_columns
from tessera.platform.pages.nav import entity_url, frame
from tessera.platform.pages.titles import collect, title_of

PAGE_SIZE = 50
MAX_IDS = 1000


@blueprint.get("/<app_key>/<entity_key>/trash")
@login_required
def trash_page(app_key: str, entity_key: str) -> ResponseReturnValue:
    after = request.args.get("after", "")[:2000] or None
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        columns = [c for c in default_columns(entity) if c != entity.title][:3]
        fields = list(dict.fromkeys([*([entity.title] if entity.title else []), *columns]))
        query = ListQuery(trashed=True, fields=fields, limit=PAGE_SIZE, after=after,
                          sort=[("updated_at", "desc"), ("id", "desc")])  # fmt: skip
        status = 200
        try:
            page = runtime.service.list(entity.key, query)
        except ValidationFailed:  # a cursor from elsewhere, or one tampered with
            page = runtime.service.list(entity.key, replace(query, after=None))
            status = 400
        scope = runtime.service.scope
        context: dict[str, Any] = {
            **frame(runtime, entity),
            "runtime": runtime, "records": page.records, "next_cursor": page.next_cursor,
            "after": after, "columns": [entity.field(c) for c in columns],
            "titles": collect(runtime, entity, page.records, fields),
            "names": {r["id"]: title_of(runtime, entity, r) for r in page.records},
            "may_restore": scope.can("restore", entity, None),
            "may_purge": scope.can("purge", entity, None),
            "list_url": entity_url(app_key, entity.key),
            "trash_url": entity_url(app_key, entity.key, "trash"),
        }  # fmt: skip
        return render_template("pages/trash.html", **context), status


@blueprint.post("/<app_key>/<entity_key>/trash")
@login_required
def trash_action(app_key: str, entity_key: str) -> ResponseReturnValue:
    """``action=restore|purge`` of the selected ``ids`` (all or nothing)."""
    action = request.form.get("action")
    if action not in ("restore", "purge"):
        abort(400)
    raw = request.form.getlist("ids")
    if any(not i.isdigit() or len(i) > 18 for i in raw):
        abort(400)
    ids = list(dict.fromkeys(int(i) for i in raw))[:MAX_IDS]
    back = entity_url(app_key, entity_key, "trash")
    if not ids:
        flash(_("Select some records first."), "error")
        return redirect(back)
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        try:
            if action == "restore":
                runtime.service.bulk_restore(entity.key, ids)
            else:
                runtime.service.bulk_purge(entity.key, ids)
        except NotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
    if action == "restore":
        flash(_("%(n)d records restored.", n=len(ids)), "success")
    else:
        flash(_("%(n)d records deleted for good.", n=len(ids)), "success")
    return redirect(back)
