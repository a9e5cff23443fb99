"""The record page: the layout's tabs and sections, every related list, attachments and the
record's timeline (its audit history), all read through the records service.

Related lists cover every entity that links here (a link or a multi link to this entity), each
with its count, its newest rows and a quick-add link that opens the other entity's form with
the link filled in.  A ``related`` entry of the form's definition chooses its label, columns,
sort and size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import render_template, url_for
from flask.typing import ResponseReturnValue

from tessera.engines.definitions import EntityModel, FieldModel
from tessera.engines.forms import ListQuery, ValidationFailed
from tessera.platform.identity.current import login_required
from tessera.platform.models import Import
from tessera.platform.pages import shares
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import Runtime, open_app, record_or_404
from tessera.platform.pages.layout import Conditions, layout_of
from tessera.platform.pages.lists import default_columns
from tessera.platform.pages.nav import entity_url, frame
from tessera.platform.pages.titles import collect, title_of
from tessera.platform.pages.widgets import Titles, label_of
from tessera.platform.transfer.imports import SOURCE_PREFIX, import_id_of

RELATED_ROWS = 5


def _configured(runtime: Runtime, entity: EntityModel) -> dict[tuple[str, str], Mapping[str, Any]]:
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for section in (runtime.entity_doc(entity.key).get("form") or {}).get("sections", ()):
        for related in section.get("related", ()):
            found[(str(related["entity"]), str(related["link"]))] = related
    return found


def related_lists(
    runtime: Runtime, entity: EntityModel, record_id: int, titles: Titles
) -> list[dict[str, Any]]:
    configured = _configured(runtime, entity)
    out: list[dict[str, Any]] = []
    for other in runtime.model.entities:
        if other.child:
            continue
        for f in other.fields:
            if f.type not in ("link", "multi_link") or f.target != entity.key:
                continue
            config = configured.get((other.key, f.key), {})
            out.append(_related(runtime, other, f, record_id, config, titles))
    return out


def _related(
    runtime: Runtime,
    other: EntityModel,
    link: FieldModel,
    record_id: int,
    config: Mapping[str, Any],
    titles: Titles,
) -> dict[str, Any]:
    condition: dict[str, Any] = (
        {"field": link.key, "op": "eq", "value": record_id} if link.type == "link"
        else {"field": link.key, "op": "has_any", "value": [record_id]}
    )  # fmt: skip
    columns = [c for c in config.get("columns", ()) if other.has_field(c)] or [
        c for c in default_columns(other) if c != link.key
    ][:4]
    sort = [(s["field"], s.get("direction", "asc")) for s in config.get("sort", ())]
    limit = int(config.get("limit", RELATED_ROWS))
    try:
        page = runtime.service.list(
            other.key,
            ListQuery(filter=condition, fields=columns, limit=min(limit, 200),
                      sort=[*sort, ("id", "desc")][:5]),
        )  # fmt: skip
        count = runtime.service.count(other.key, ListQuery(filter=condition))
    except ValidationFailed:
        page, count = None, 0
    records = page.records if page else []
    collect(runtime, other, records, columns, titles)
    label = runtime.label(config.get("label"), "") or runtime.entity_label(other, plural=True)
    if (
        len(
            [
                f
                for f in other.fields
                if f.target == link.target and f.type in ("link", "multi_link")
            ]
        )
        > 1
    ):
        label = f"{label} · {label_of(link, runtime.locale)}"
    return {
        "entity": other, "link": link, "label": label, "count": count, "records": records,
        "columns": [other.field(c) for c in columns],
        "titles": [title_of(runtime, other, r) for r in records],
        "display": config.get("display", "table"),
        "add_url": entity_url(runtime.key, other.key, "new", **{link.key: record_id})
        if link.type == "link" else entity_url(runtime.key, other.key, "new"),
        "all_url": entity_url(runtime.key, other.key),
    }  # fmt: skip


def import_files(
    runtime: Runtime, entity: EntityModel, timeline: list[Any]
) -> dict[str, tuple[str, str | None]]:
    """``{"import:<id>": (file name, its page or None)}`` of the imports that wrote entries of
    ``timeline``, so an entry says which file it came from ("by import · 展会线索.csv"); the
    person who ran an import gets a link to its page (its counts and error report), which is
    theirs alone."""
    ids = {import_id_of(e.source) for e in timeline} - {None}
    if not ids:
        return {}
    rows = runtime.conn.execute(
        sa.select(Import.id, Import.file_name, Import.created_by).where(Import.id.in_(ids))
    )
    mine = runtime.identity.user_id
    return {
        f"{SOURCE_PREFIX}{row.id}": (
            row.file_name,
            url_for("transfer.import_page", app_key=runtime.key, entity_key=entity.key,
                    import_id=row.id) if row.created_by == mine else None,
        )
        for row in rows
    }  # fmt: skip


@blueprint.get("/<app_key>/<entity_key>/<int:record_id>")
@login_required
def record_page(app_key: str, entity_key: str, record_id: int) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        record = record_or_404(runtime, entity.key, record_id)
        layout = layout_of(runtime, entity)
        conditions = Conditions(runtime, entity, layout)
        results = conditions.evaluate(record)
        titles = collect(runtime, entity, [record], [f.key for f in entity.fields])
        timeline = list(reversed(runtime.service.history(entity.key, record_id)))
        attachments = [
            (f, ref) for f in entity.fields if f.type in ("attachment", "image")
            for ref in record.get(f.key) or ()
        ]  # fmt: skip
        context = {
            **frame(runtime, entity),
            "runtime": runtime, "record": record, "record_id": record_id,
            "title": title_of(runtime, entity, record), "layout": layout,
            "hidden": conditions.hidden(results), "titles": titles,
            "related": related_lists(runtime, entity, record_id, titles),
            "timeline": timeline, "attachments": attachments,
            "import_files": import_files(runtime, entity, timeline),
            "children": {f.key: runtime.model.entity(str(f.target)) for f in entity.fields
                         if f.type == "child_table"},
            "may_edit": runtime.service.scope.can("update", entity, record),
            "may_delete": runtime.service.scope.can("delete", entity, record),
            "share": shares.dialog(runtime, entity, record_id)
            if shares.may_share(runtime, entity, record) else None,
            "edit_url": entity_url(app_key, entity.key, f"{record_id}/edit"),
            "delete_url": entity_url(app_key, entity.key, f"{record_id}/delete"),
            "list_url": entity_url(app_key, entity.key),
        }  # fmt: skip
        return render_template("pages/detail.html", **context)
