"""The kanban board: one column per option of a select field, cards dragged between columns.

A move is an ordinary update through the records service (``/_/move``), with the card's
version for optimistic locking, so validation rules, permissions and the audit trail apply to
it as to any edit; when the service refuses, the page puts the card back and shows why.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.engines.definitions.fields.base import option_keys
from tessera.engines.forms import (
    Conflict,
    ListQuery,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tessera.platform.i18n import error_text
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


@dataclass(frozen=True)
class BoardPlan:
    """What a board shows: the grouping field, the card fields and the view's filter and sort."""

    by: str
    card_fields: list[str]
    fields: list[str]
    sort: list[tuple[str, str]]
    view: Mapping[str, Any] | None

    def query(self, column: str, after: str | None = None) -> ListQuery:
        """One column's keyset page (``column`` "" is the column of records without a value)."""
        condition = {"field": self.by, "op": "eq", "value": column} if column else {
            "field": self.by, "op": "is_empty"}  # fmt: skip
        return ListQuery(filter=_filter(self.view, condition), where=(self.view or {}).get("where"),
                         fields=self.fields, sort=[*self.sort, ("id", "desc")][:5],
                         limit=CARDS_PER_COLUMN, after=after)  # fmt: skip


def board_plan(runtime: Runtime, entity: EntityModel) -> BoardPlan:
    view = runtime.view(entity.key, request.args.get("view"), "kanban")
    by = group_field(runtime, entity, view)
    card_fields = [c for c in (view or {}).get("columns", ()) if entity.has_field(c)]
    if not card_fields:
        card_fields = [
            x.key for x in entity.fields
            if x.key not in (entity.title, by) and x.type not in ("long_text", "rich_text",
                "json", "child_table", "attachment", "image", "multi_link", "location")
        ][:3]  # fmt: skip
    fields = list(dict.fromkeys([*([entity.title] if entity.title else []), *card_fields]))
    sort = [(s["field"], s.get("direction", "asc")) for s in (view or {}).get("sort", ())]
    return BoardPlan(by, card_fields, fields, sort, view)


def _cards_context(
    runtime: Runtime, entity: EntityModel, board: BoardPlan, records: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "runtime": runtime, "titles": collect(runtime, entity, records, board.fields),
        "card_fields": [entity.field(c) for c in board.card_fields],
        "names": {r["id"]: title_of(runtime, entity, r) for r in records},
    }  # fmt: skip


@blueprint.get("/<app_key>/<entity_key>/kanban")
@login_required
def kanban(app_key: str, entity_key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        board = board_plan(runtime, entity)
        f = entity.field(board.by)
        columns = []
        groups = [(key, label, colour) for key, label, colour in options(f, runtime.locale)]
        groups.append(("", _("No %(field)s", field=label_of(f, runtime.locale)), ""))
        records: list[dict[str, Any]] = []
        for key, label, colour in groups:
            query = board.query(key)
            page = runtime.service.list(entity.key, query)
            # the badge is the column's true size: COUNT in SQL when there is more than a page
            count = (
                runtime.service.count(entity.key, query) if page.next_cursor else len(page.records)
            )
            if not key and not page.records:
                continue
            records += page.records
            columns.append({"key": key, "label": label, "colour": colour,
                            "tone": option_tone(f, key), "records": page.records, "count": count,
                            "next": page.next_cursor,
                            "list_url": entity_url(app_key, entity.key, filter=json.dumps(
                                {"field": board.by, "op": "eq", "value": key} if key
                                else {"field": board.by, "op": "is_empty"}))})  # fmt: skip
        context = {
            **frame(runtime, entity, "kanban"), **_cards_context(runtime, entity, board, records),
            "by": f, "columns": columns,
            "select_fields": [x for x in entity.fields if x.type == "select"],
            "view": board.view, "move_url": entity_url(app_key, entity.key, "_/move"),
            "more_url": entity_url(app_key, entity.key, "_/cards", view=request.args.get("view"),
                                   by=board.by),
        }  # fmt: skip
        return render_template("pages/kanban.html", **context)


@blueprint.get("/<app_key>/<entity_key>/_/cards")
@login_required
def more_cards(app_key: str, entity_key: str) -> ResponseReturnValue:
    """``?by=stage&column=won&after=<cursor>``: the column's next keyset page of cards, as
    ``{"html", "next"}`` (the board's "Load more")."""
    column = request.args.get("column", "")[:100]
    after = request.args.get("after", "")[:2000] or None
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        board = board_plan(runtime, entity)
        if column and column not in option_keys(entity.field(board.by).spec):
            return jsonify({"error": _("The request is not valid.")}), 400
        try:
            page = runtime.service.list(entity.key, board.query(column, after))
        except ValidationFailed as failed:
            return jsonify({"error": error_text(failed.errors[0])}), 400
        html = render_template(
            "pages/cards.html", app_key=app_key, entity=entity, records=page.records,
            **_cards_context(runtime, entity, board, page.records),
            locale=runtime.locale, time_zone=runtime.identity.time_zone,
        )  # fmt: skip
    return jsonify({"html": html, "next": page.next_cursor})


#: field types a drag can set: a card to another column, a calendar event to another day
MOVABLE = ("select", "date", "datetime")


def moved_value(runtime: Runtime, entity: EntityModel, record_id: int, key: str, to: Any) -> Any:
    """The value a move writes.  A date-time keeps its time of day in the user's zone and
    takes the day it was dropped on; a malformed day is handed on as typed, so the field type
    refuses it with its own message."""
    f = entity.field(key)
    if f.type != "datetime" or not isinstance(to, str):
        return to or None
    try:
        day = dt.date.fromisoformat(to)
    except ValueError:
        return to
    zone = ZoneInfo(runtime.identity.time_zone or "UTC")
    current = runtime.service.get(entity.key, record_id, fields=[key]).get(key)
    local = current.astimezone(zone) if isinstance(current, dt.datetime) else None
    moment = dt.datetime.combine(day, local.timetz() if local else dt.time(9, tzinfo=zone))
    return moment.astimezone(dt.UTC).isoformat()


@blueprint.post("/<app_key>/<entity_key>/_/move")
@login_required
def move(app_key: str, entity_key: str) -> ResponseReturnValue:
    """``{"id", "field", "to", "version"}``: set a select field of one record (a card moved to
    another column) or a date field (a calendar event dropped on another day, ``to`` being
    ``YYYY-MM-DD``).  An ordinary update through the records service, with optimistic locking."""
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
    if to is not None and not isinstance(to, str):
        return jsonify({"error": _("The request is not valid.")}), 400
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        if not entity.has_field(key) or entity.field(key).type not in MOVABLE:
            return jsonify({"error": _("The request is not valid.")}), 400
        try:
            value = moved_value(runtime, entity, record_id, key, to)
            saved = runtime.service.update(
                entity.key, record_id, {key: value}, expected_version=version
            )
        except ValidationFailed as failed:
            return jsonify({"error": " ".join(error_text(e) for e in failed.errors)}), 422
        except Conflict:
            return jsonify({"error": _("Someone else changed this record. Reload the page.")}), 409
        except PermissionDenied as denied:
            return jsonify({"error": error_text(denied)}), 403
        except NotFound:
            return jsonify({"error": _("This record no longer exists.")}), 404
    stored = saved.get(key)
    shown = stored.isoformat() if isinstance(stored, dt.date) else stored
    return jsonify({"id": saved["id"], "version": saved["version"], "value": shown})
