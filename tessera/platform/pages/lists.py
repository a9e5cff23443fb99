"""The list page: a table of records with sort, filters, search, columns, saved views, paging
and bulk actions.

Everything a list shows is in its query string (``q``, ``sort``, ``filter`` (JSON of the
filter builder), ``formula``, ``cols``, ``limit``, ``after``, ``view``), so a list can be
bookmarked and shared.  A view of the definition adds its fixed ``filters`` and ``where``
underneath whatever the user adds; a saved view is a stored query string.  Pages are keyset
pages (the records service's signed cursors), so page 2,000 costs what page 1 costs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import ListQuery, Page, ValidationFailed, parse_sort
from tessera.engines.forms.filters import _UNSORTABLE
from tessera.platform.i18n import error_text
from tessera.platform.identity.current import login_required
from tessera.platform.pages import saved
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import Runtime, open_app
from tessera.platform.pages.forms import choices
from tessera.platform.pages.nav import entity_url, frame
from tessera.platform.pages.titles import collect
from tessera.platform.pages.widgets import label_of, options

PAGE_SIZES = (25, 50, 100, 200)
#: field types bulk edit does not offer (computed, or values a single input cannot hold)
NOT_BULK_EDITABLE = frozenset(
    {"formula", "rollup", "lookup", "auto_number", "child_table", "attachment", "image",
     "multi_link", "location", "json"}
)  # fmt: skip
MAX_COLUMNS = 30
STATE_KEYS = ("q", "sort", "filter", "formula", "cols", "limit")


def operator_labels() -> dict[str, str]:
    """The filter builder's operator names, in the interface language."""
    return {
        "eq": _("is"),
        "ne": _("is not"),
        "lt": _("is less than"),
        "le": _("is at most"),
        "gt": _("is greater than"),
        "ge": _("is at least"),
        "between": _("is between"),
        "contains": _("contains"),
        "not_contains": _("does not contain"),
        "starts_with": _("starts with"),
        "ends_with": _("ends with"),
        "in": _("is any of"),
        "not_in": _("is none of"),
        "is_empty": _("is empty"),
        "is_not_empty": _("is not empty"),
        "has_any": _("has any of"),
        "has_all": _("has all of"),
        "has_none": _("has none of"),
        "in_last_days": _("in the last days"),
        "in_next_days": _("in the next days"),
        "today": _("is today"),
        "this_week": _("is this week"),
        "this_month": _("is this month"),
        "within_box": _("is within the box"),
    }


@dataclass
class ListState:
    """What the user chose, as found in (and written back to) the query string."""

    view: str = ""
    q: str = ""
    sort: str = ""
    filter: str = ""
    formula: str = ""
    cols: list[str] = field(default_factory=list)
    limit: int = 50
    after: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ListState:
        getlist = getattr(args, "getlist", None)
        raw_cols = getlist("cols") if getlist else [args.get("cols", "")]
        cols = [c for part in raw_cols for c in str(part).split(",") if c.strip()][:MAX_COLUMNS]
        try:
            limit = int(args.get("limit") or 50)
        except ValueError:
            limit = 50
        return cls(
            view=str(args.get("view") or "")[:60], q=str(args.get("q") or "")[:200],
            sort=str(args.get("sort") or "")[:300], filter=str(args.get("filter") or "")[:20000],
            formula=str(args.get("formula") or "")[:4000], cols=[c.strip() for c in cols],
            limit=limit if limit in PAGE_SIZES else 50, after=str(args.get("after") or "")[:2000],
        )  # fmt: skip

    def chosen(self) -> bool:
        return any((self.q, self.sort, self.filter, self.formula, self.cols)) or self.limit != 50

    def params(self, **changes: Any) -> dict[str, Any]:
        state = replace(self, **changes)
        out: dict[str, Any] = {
            "view": state.view, "q": state.q, "sort": state.sort, "filter": state.filter,
            "formula": state.formula, "cols": ",".join(state.cols),
            "limit": state.limit if state.limit != 50 else "", "after": state.after,
        }  # fmt: skip
        return {k: v for k, v in out.items() if v not in ("", None)}

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def saved_query(self) -> dict[str, Any]:
        """What a saved view stores: the user's choices, not the page they were on."""
        params = self.params(after="", view="")
        return {k: v for k, v in params.items() if k in STATE_KEYS}


def sortable(f: Any) -> bool:
    stored = (f.spec.get("_stored") or {}).get("type")
    return bool(f.columns) and f.type not in _UNSORTABLE and stored not in _UNSORTABLE


def default_columns(entity: EntityModel) -> list[str]:
    keys = [entity.title] if entity.title else []
    for f in entity.fields:
        if len(keys) >= 6:
            break
        if f.key not in keys and f.type not in ("long_text", "rich_text", "json", "child_table"):
            keys.append(f.key)
    return keys


@dataclass
class ListPlan:
    """The state turned into a records query, with the view it started from."""

    state: ListState
    columns: list[str]
    query: ListQuery
    view: Mapping[str, Any] | None
    saved_view: Any | None
    user_filter: Any | None


def plan(runtime: Runtime, entity: EntityModel, args: Mapping[str, Any]) -> ListPlan:
    """The list's records query from the query string (raises ValidationFailed for bad input)."""
    state = ListState.from_args(args)
    saved_view = saved.find(runtime.conn, runtime.key, entity.key, state.view, runtime.identity)
    if saved_view is not None and not state.chosen():
        state = replace(ListState.from_args(saved_view.query), view=state.view, after=state.after)
    view = (
        runtime.view(entity.key, state.view, "list") if state.view and saved_view is None else None
    )
    columns = [c for c in state.cols if entity.has_field(c)] or list(
        (view or {}).get("columns") or default_columns(entity)
    )
    leaves: list[Any] = [dict(f) for f in (view or {}).get("filters", ())]
    user_filter = None
    if state.filter:
        try:
            user_filter = json.loads(state.filter)
        except ValueError:
            raise ValidationFailed.one("filter", _("The filter is not valid.")) from None
        leaves.append(user_filter)
    conditions = [c for c in ((view or {}).get("where"), state.formula.strip()) if c]
    if state.sort:
        sort = parse_sort(state.sort)
    else:
        sort = [(s["field"], s.get("direction", "asc")) for s in (view or {}).get("sort", ())]
    if not sort or sort[-1][0] != "id":
        sort = [*sort, ("id", "desc")]
    query = ListQuery(
        filter=leaves[0] if len(leaves) == 1 else ({"and": leaves} if leaves else None),
        where=" AND ".join(f"({c})" for c in conditions) if conditions else None,
        sort=sort[:5], after=state.after or None, limit=state.limit, fields=columns,
        search=state.q or None,
    )  # fmt: skip
    return ListPlan(state, columns, query, view, saved_view, user_filter)


def fields_meta(runtime: Runtime, entity: EntityModel) -> list[dict[str, Any]]:
    """What the filter builder and column chooser need to know of each field."""
    out = []
    for f in entity.fields:
        out.append({
            "key": f.key, "label": label_of(f, runtime.locale), "type": f.type,
            "ops": list(f.kind.operators), "sortable": sortable(f),
            "options": [[k, label] for k, label, _c in options(f, runtime.locale)],
        })  # fmt: skip
    return out


def bulk_fields(runtime: Runtime, entity: EntityModel) -> list[Any]:
    """The fields bulk edit offers: those one input can set and the user's roles let them write."""
    writable = runtime.service.scope.writable_fields(entity)
    return [
        f for f in entity.fields
        if f.type not in NOT_BULK_EDITABLE and not f.spec.get("read_only")
        and (writable is None or f.key in writable)
    ]  # fmt: skip


@blueprint.get("/<app_key>/<entity_key>/")
@login_required
def list_page(app_key: str, entity_key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        error = None
        status = 200
        try:
            list_plan = plan(runtime, entity, request.args)
            page = runtime.service.list(entity.key, list_plan.query)
        except ValidationFailed as failed:
            error = "; ".join(error_text(e) for e in failed.errors)
            status = 400
            list_plan = plan(runtime, entity, {"view": request.args.get("view", "")[:60]})
            page = Page([], None)
        titles = collect(runtime, entity, page.records, list_plan.columns)
        state = list_plan.state
        context = {
            **frame(runtime, entity, "list"),
            "runtime": runtime, "plan": list_plan, "state": state, "page": page, "titles": titles,
            "columns": [entity.field(c) for c in list_plan.columns if entity.has_field(c)],
            "field_labels": (labels := {f.key: label_of(f, runtime.locale) for f in entity.fields}),
            "column_labels": labels,
            "numeric_columns": {
                c for c in list_plan.columns if entity.has_field(c)
                and entity.field(c).type in ("integer", "decimal", "currency", "percent")
            },
            "sortable": {f.key for f in entity.fields if sortable(f)},
            "sorted_by": parse_sort(state.sort)[0] if state.sort and not error else None,
            "error": error, "page_sizes": PAGE_SIZES,
            "fields_meta": fields_meta(runtime, entity), "operators": operator_labels(),
            "definition_views": runtime.views(entity.key, "list"),
            "saved_views": saved.visible(runtime.conn, runtime.key, entity.key, runtime.identity),
            "list_url": entity_url(app_key, entity.key),
            "export_query": state.query_string(after=""),
            "bulk_fields": bulk_fields(runtime, entity),
            **choices(runtime, entity),
        }  # fmt: skip
        return render_template("pages/list.html", **context), status


@blueprint.get("/<app_key>/<entity_key>/_/count")
@login_required
def list_count(app_key: str, entity_key: str) -> ResponseReturnValue:
    """The number of records a list's query matches (fetched after the page shows)."""
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        try:
            query = plan(runtime, entity, request.args).query
            total = runtime.service.count(entity.key, replace(query, after=None))
        except ValidationFailed as failed:
            return jsonify({"error": error_text(failed.errors[0])}), 400
    return jsonify({"total": total})
