"""JSON helpers the pages' scripts call: link-picker search and live condition evaluation.

Both go through the records service (search is a permission-scoped list; evaluation reads
links through the same scope), and both take their field names from the definition only.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from tessera.engines.definitions import FieldModel
from tessera.engines.forms import ListQuery, NotFound, ValidationFailed
from tessera.platform.i18n import error_text
from tessera.platform.identity.current import login_required
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import open_app
from tessera.platform.pages.forms import children_of, editable_keys, typed
from tessera.platform.pages.layout import Conditions, layout_of
from tessera.platform.pages.titles import title_of
from tessera.platform.pages.widgets import read_form

SEARCH_RESULTS = 12


@blueprint.get("/<app_key>/<entity_key>/_/search")
@login_required
def link_search(app_key: str, entity_key: str) -> ResponseReturnValue:
    """``?field=customer&q=hua`` (or ``field=lines.product`` for a child table's link):
    records of the link's target matching ``q``, as ``[{id, title}]``."""
    path = request.args.get("field", "")[:60]
    text = request.args.get("q", "")[:100]
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        f: FieldModel | None = None
        head, _sep, tail = path.partition(".")
        if entity.has_field(head):
            f = entity.field(head)
            if tail and f.type == "child_table":
                child = runtime.model.entity(str(f.target))
                f = child.field(tail) if child.has_field(tail) else None
        if f is None or f.type not in ("link", "multi_link"):
            return jsonify({"error": _("The request is not valid.")}), 400
        target = runtime.model.entity(str(f.target))
        fields = [target.title] if target.title else []
        try:
            order = [("id", "desc")]
            if target.title and _sortable(target.title, target):
                order = [(target.title, "asc")]
            page = runtime.service.list(
                target.key,
                ListQuery(search=text or None, fields=fields, limit=SEARCH_RESULTS, sort=order),
            )
        except ValidationFailed as failed:
            return jsonify({"error": error_text(failed.errors[0])}), 400
        results = [{"id": r["id"], "title": title_of(runtime, target, r)} for r in page.records]
    return jsonify({"results": results})


def _sortable(key: str, entity: Any) -> bool:
    from tessera.platform.pages.lists import sortable

    return bool(entity.has_field(key) and sortable(entity.field(key)))


@blueprint.post("/<app_key>/<entity_key>/_/evaluate")
@login_required
def evaluate(app_key: str, entity_key: str) -> ResponseReturnValue:
    """The form's current values (form-encoded, as the form would post them, plus ``_id``)
    in; which fields are hidden and which read-only out."""
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        layout = layout_of(runtime, entity)
        conditions = Conditions(runtime, entity, layout)
        form = MultiDict(request.form)
        values, _problems = read_form(
            entity, children_of(runtime, entity), form, editable_keys(entity, layout),
            runtime.identity.time_zone,
        )  # fmt: skip
        record: dict[str, Any] = {}
        record_id = request.form.get("_id", "")
        if record_id.isdigit():
            try:
                record = runtime.service.get(entity.key, int(record_id))
            except NotFound:
                record = {}
        merged = {**record, **typed(entity, values)}
        results = conditions.evaluate(merged)
    return jsonify({
        "hidden": sorted(conditions.hidden(results)),
        "read_only": sorted(conditions.read_only(results)),
        "sections": sorted(
            s.index for s in layout.sections
            if s.visible_if is not None and not results.get(f"section:{s.index}")
        ),
    })  # fmt: skip
