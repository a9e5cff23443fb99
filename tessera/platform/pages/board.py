"""The kanban board: one column per option of a select field, cards dragged between columns.

A move is an ordinary update through the records service (``/_/move``), with the card's
version for optimistic locking, so validation rules, permissions and the audit trail apply to
it as to any edit; when the service refuses, the page puts the card back and shows why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import (
    Conflict,
    ListQuery,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tessera.platform.identity.current import login_required
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import Runtime, open_app
from tessera.platform.pages.nav import entity_url, frame
from tessera.platform.pages.titles import collect, title_of
from tessera.platform.pages.widgets import label_of, option_tone, options

CARDS_PER_COLUMN = 50


def group_field(runtime: Runtime, entity: EntityModel, view: Mapping[str, Any] | None) -> str:
    wanted = request.args.get("by") or (view or {}).get("group_by")
    selects = [f.key for f in entity.fields if f.type == "select"]
    if wanted in selects:
        return str(wanted)
    if not selects:
        abort(404)
    return selects[0]


def _filter(view: Mapping[str, Any] | None, extra: dict[str, Any]) -> dict[str, Any]:
    leaves = [dict(f) for f in (view or {}).get("filters", ())] + [extra]
    return leaves[0] if len(leaves) == 1 else {"and": leaves}


@blueprint.get("/<app_key>/<entity_key>/kanban")
@login_required
def kanban(app_key: str, entity_key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        view = runtime.view(entity.key, request.args.get("view"), "kanban")
        by = group_field(runtime, entity, view)
        f = entity.field(by)
        card_fields = [c for c in (view or {}).get("columns", ()) if entity.has_field(c)]
        if not card_fields:
            card_fields = [
                x.key for x in entity.fields
                if x.key not in (entity.title, by) and x.type not in ("long_text", "rich_text",
                    "json", "child_table", "attachment", "image", "multi_link", "location")
            ][:3]  # fmt: skip
        fields = list(dict.fromkeys([*([entity.title] if entity.title else []), *card_fields]))
        sort = [(s["field"], s.get("direction", "asc")) for s in (view or {}).get("sort", ())]
        where = (view or {}).get("where")
        columns = []
        groups = [(key, label, colour) for key, label, colour in options(f, runtime.locale)]
        groups.append(("", _("No %(field)s", field=label_of(f, runtime.locale)), ""))
        records: list[dict[str, Any]] = []
        for key, label, colour in groups:
            condition = {"field": by, "op": "eq", "value": key} if key else {
                "field": by, "op": "is_empty"}  # fmt: skip
            query = ListQuery(filter=_filter(view, condition), where=where, fields=fields,
                              sort=[*sort, ("id", "desc")][:5], limit=CARDS_PER_COLUMN)  # fmt: skip
            page = runtime.service.list(entity.key, query)
            count = (
                runtime.service.count(entity.key, query) if page.next_cursor else len(page.records)
            )
            if not key and not page.records:
                continue
            records += page.records
            columns.append({"key": key, "label": label, "colour": colour,
                            "tone": option_tone(f, key), "records": page.records, "count": count,
                            "more": page.next_cursor is not None})  # fmt: skip
        titles = collect(runtime, entity, records, fields)
        context = {
            **frame(runtime, entity, "kanban"),
            "runtime": runtime, "by": f, "columns": columns, "titles": titles,
            "card_fields": [entity.field(c) for c in card_fields],
            "names": {r["id"]: title_of(runtime, entity, r) for r in records},
            "select_fields": [x for x in entity.fields if x.type == "select"],
            "view": view, "move_url": entity_url(app_key, entity.key, "_/move"),
        }  # fmt: skip
        return render_template("pages/kanban.html", **context)


@blueprint.post("/<app_key>/<entity_key>/_/move")
@login_required
def move(app_key: str, entity_key: str) -> ResponseReturnValue:
    """``{"id", "field", "to", "version"}``: set a select field of one record (a card moved)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": _("The request is not valid.")}), 400
    record_id, key, to, version = (
        body.get("id"),
        body.get("field"),
        body.get("to"),
        body.get("version"),
    )
    if not isinstance(record_id, int) or not isinstance(key, str) or not isinstance(version, int):
        return jsonify({"error": _("The request is not valid.")}), 400
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        if not entity.has_field(key) or entity.field(key).type != "select":
            return jsonify({"error": _("The request is not valid.")}), 400
        try:
            saved = runtime.service.update(
                entity.key, record_id, {key: to or None}, expected_version=version
            )
        except ValidationFailed as failed:
            return jsonify({"error": " ".join(e.message for e in failed.errors)}), 422
        except Conflict:
            return jsonify({"error": _("Someone else changed this record. Reload the board.")}), 409
        except PermissionDenied as denied:
            return jsonify({"error": str(denied)}), 403
        except NotFound:
            return jsonify({"error": _("This record no longer exists.")}), 404
    return jsonify({"id": saved["id"], "version": saved["version"], "value": saved.get(key)})
