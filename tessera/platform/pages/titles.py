"""Names for the ids a page shows: linked records' titles, users' and departments' names.

One query per target entity per page, through the records service (so a linked record the
viewer may not see keeps its bare ``#id``), and one query each for users and departments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import ListQuery
from tessera.platform.models import Department, User
from tessera.platform.pages.context import Runtime
from tessera.platform.pages.widgets import Titles, text

BATCH = 500


def title_of(runtime: Runtime, entity: EntityModel, record: Mapping[str, Any]) -> str:
    """A record's name: its title field as text, else ``Entity #id``."""
    if entity.title and entity.has_field(entity.title):
        f = entity.field(entity.title)
        if f.type not in ("link", "multi_link", "user", "department", "child_table"):
            shown = text(f, record.get(entity.title), runtime.locale, runtime.identity.time_zone)
            if shown:
                return shown
    return f"{entity.label(runtime.locale)} #{record.get('id')}"


def collect(
    runtime: Runtime,
    entity: EntityModel,
    records: Sequence[Mapping[str, Any]],
    keys: Iterable[str],
    titles: Titles | None = None,
) -> Titles:
    """Fill ``titles`` with the names the fields ``keys`` of ``records`` point at (child-table
    rows included)."""
    titles = titles or Titles()
    wanted: dict[str, set[int]] = {}
    users: set[int] = set()
    departments: set[int] = set()

    def visit(model: EntityModel, rows: Iterable[Mapping[str, Any]], fields: Iterable[str]) -> None:
        for key in fields:
            if not model.has_field(key):
                if key in ("owner", "created_by", "updated_by"):
                    users.update(r[key] for r in rows if isinstance(r.get(key), int))
                continue
            f = model.field(key)
            for row in rows:
                value = row.get(key)
                if value in (None, []):
                    continue
                if f.type == "child_table":
                    child = runtime.model.entity(str(f.target))
                    visit(child, value, [cf.key for cf in child.fields])
                elif f.type == "link":
                    wanted.setdefault(str(f.target), set()).add(_id(value))
                elif f.type == "multi_link":
                    wanted.setdefault(str(f.target), set()).update(_id(v) for v in value)
                elif f.type == "user":
                    users.add(_id(value))
                elif f.type == "department":
                    departments.add(_id(value))

    visit(entity, records, list(keys))
    for target, ids in wanted.items():
        model = runtime.model.entity(target)
        ordered = sorted(i for i in ids if (target, i) not in titles.records)
        fields = [model.title] if model.title else []
        for start in range(0, len(ordered), BATCH):
            batch = ordered[start : start + BATCH]
            page = runtime.service.list(
                target,
                ListQuery(filter={"field": "id", "op": "in", "value": batch}, fields=fields,
                          limit=BATCH),
            )  # fmt: skip
            for record in page.records:
                titles.records[(target, record["id"])] = title_of(runtime, model, record)
    titles.users.update(_names(runtime.conn, User.__table__, users - set(titles.users)))
    titles.departments.update(
        _names(runtime.conn, Department.__table__, departments - set(titles.departments))
    )
    return titles


def _id(value: Any) -> int:
    return int(value["id"]) if isinstance(value, Mapping) else int(value)


def _names(conn: sa.Connection, table: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(table.c.id, table.c.name).where(table.c.id.in_(sorted(ids))))
    return {int(r.id): str(r.name) for r in rows}
