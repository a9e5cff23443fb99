"""SQLAlchemy tables built from a compiled app.

One table per entity with the system columns every record has, one junction table per multi
link, the child entity's ``parent_id``/``sort_order`` for child tables, and the app's counter
table for auto numbers.  All names come from :mod:`naming`; indexes and constraints are named
explicitly so the schema diff never depends on a database's naming habits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions import naming
from tessera.engines.definitions.autonumber import counter_table
from tessera.engines.definitions.fields.relations import RecordId
from tessera.engines.definitions.model import AppModel, EntityModel

NAMING_CONVENTION: dict[str, str] = {
    "pk": "pk_%(table_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

#: system columns, in table order (``parent_id``/``sort_order`` follow for child entities)
SYSTEM_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "owner_id",
    "version",
    "deleted_at",
)


@dataclass(frozen=True)
class PlatformTables:
    """The platform's own tables that app tables reference (created by its migrations)."""

    users: sa.Table
    departments: sa.Table


def build_metadata(app: AppModel, platform: PlatformTables) -> sa.MetaData:
    """A new ``MetaData`` holding every table of ``app`` (and nothing else)."""
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    deferred = cycle_links(app)
    for entity in app.entities:
        _entity_table(metadata, app, entity, platform, deferred)
    for entity in app.entities:
        for f in entity.fields:
            if f.type == "multi_link":
                _junction_table(metadata, app, entity, f.key, str(f.target))
    counter_table(metadata, naming.counter_table(app.key))
    return metadata


def _system_columns(table: str, platform: PlatformTables) -> list[sa.Column[Any]]:
    users = platform.users.c.id
    now = sa.func.current_timestamp()
    return [
        sa.Column("id", RecordId, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column(
            "created_by", sa.Integer, sa.ForeignKey(users, name=naming.fk_name(table, "created_by"))
        ),
        sa.Column(
            "updated_by", sa.Integer, sa.ForeignKey(users, name=naming.fk_name(table, "updated_by"))
        ),
        sa.Column(
            "owner_id", sa.Integer, sa.ForeignKey(users, name=naming.fk_name(table, "owner_id"))
        ),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    ]


def cycle_links(app: AppModel) -> frozenset[tuple[str, str]]:
    """``(entity, field)`` of the link fields whose foreign keys close a cycle between tables.

    A lead that links to the contact it became and a contact that links back to its lead make
    two tables that each need the other to exist first.  Those keys are declared
    ``use_alter=True``: SQLAlchemy then leaves them out when it orders tables (no "cannot sort
    tables" warning), PostgreSQL gets them as ``ALTER TABLE … ADD CONSTRAINT`` once every table
    exists, and SQLite, which cannot ALTER constraints and does not check a referenced table
    when one is created, keeps them inline.  Links are taken in document order and a link is
    deferred only when the ones before it already lead from its target back to its entity, so
    the choice is stable and as small as that order allows; links of an entity to itself are
    never deferred (a table may always reference itself).  Child tables' ``parent_id`` keys are
    never deferred either: they are added to the graph first.
    """
    edges: dict[str, set[str]] = {e.key: set() for e in app.entities}
    for entity in app.entities:
        if entity.parent is not None:
            edges[entity.key].add(entity.parent)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            for nxt in edges[current] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return False

    deferred: set[tuple[str, str]] = set()
    for entity in app.entities:
        for f in entity.fields:
            target = str(f.target)
            if f.type != "link" or target == entity.key:
                continue
            if reaches(target, entity.key):
                deferred.add((entity.key, f.key))
            else:
                edges[entity.key].add(target)
    return frozenset(deferred)


def _entity_table(
    metadata: sa.MetaData,
    app: AppModel,
    entity: EntityModel,
    platform: PlatformTables,
    deferred: frozenset[tuple[str, str]] = frozenset(),
) -> sa.Table:
    name = entity.table
    columns = _system_columns(name, platform)
    indexes: list[sa.Index] = [
        sa.Index(naming.index_name(name, ["owner_id"]), "owner_id"),
        sa.Index(naming.index_name(name, ["deleted_at"]), "deleted_at"),
    ]
    if entity.parent is not None:
        parent = naming.entity_table(app.key, entity.parent)
        columns += [
            sa.Column(
                "parent_id",
                RecordId,
                sa.ForeignKey(
                    f"{parent}.id", name=naming.fk_name(name, "parent_id"), ondelete="CASCADE"
                ),
                nullable=False,
            ),
            sa.Column("sort_order", sa.Integer, nullable=False, server_default=sa.text("0")),
        ]
        indexes.append(
            sa.Index(
                naming.index_name(name, ["parent_id", "sort_order"]), "parent_id", "sort_order"
            )
        )
    for f in entity.fields:
        for column in f.kind.columns(f.spec):
            target = _reference(app, f.type, f.target, platform)
            if target is not None:
                column.append_foreign_key(
                    sa.ForeignKey(
                        target,
                        name=naming.fk_name(name, column.name),
                        use_alter=(entity.key, f.key) in deferred,
                    )
                )
            columns.append(column)
            unique = bool(f.spec.get("unique")) or f.type == "auto_number"
            if unique or f.spec.get("index") or target is not None:
                indexes.append(
                    sa.Index(
                        naming.index_name(name, [column.name], unique), column.name, unique=unique
                    )
                )
    for index in entity.indexes:
        cols = [
            entity.field(k).columns[0] if entity.has_field(k) else _system(k) for k in index.fields
        ]
        indexes.append(
            sa.Index(naming.index_name(name, cols, index.unique), *cols, unique=index.unique)
        )
    return sa.Table(name, metadata, *columns, *_dedupe(indexes))


def _system(key: str) -> str:
    return "owner_id" if key == "owner" else key


def _dedupe(indexes: list[sa.Index]) -> list[sa.Index]:
    seen: dict[str, sa.Index] = {}
    for index in indexes:
        seen.setdefault(str(index.name), index)
    return list(seen.values())


def _reference(app: AppModel, type_: str, target: str | None, platform: PlatformTables) -> Any:
    if type_ == "user":
        return platform.users.c.id
    if type_ == "department":
        return platform.departments.c.id
    if type_ == "link":
        return f"{naming.entity_table(app.key, str(target))}.id"
    return None


def _junction_table(
    metadata: sa.MetaData, app: AppModel, entity: EntityModel, field: str, target: str
) -> sa.Table:
    name = naming.junction_table(app.key, entity.key, field)
    source_table = entity.table
    target_table = naming.entity_table(app.key, target)
    return sa.Table(
        name,
        metadata,
        sa.Column(
            "source_id",
            RecordId,
            sa.ForeignKey(
                f"{source_table}.id", name=naming.fk_name(name, "source_id"), ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        sa.Column(
            "target_id",
            RecordId,
            sa.ForeignKey(
                f"{target_table}.id", name=naming.fk_name(name, "target_id"), ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Index(naming.index_name(name, ["target_id"]), "target_id"),
    )


def row_values(entity: EntityModel, values: dict[str, Any]) -> dict[str, Any]:
    """Validated field values (by key) as column values of ``entity``'s table."""
    row: dict[str, Any] = {}
    for key, value in values.items():
        f = entity.field(key)
        row.update(f.kind.to_columns(f.spec, f.kind.validate(f.spec, value)))
    return row


def record_values(entity: EntityModel, row: Any) -> dict[str, Any]:
    """A database row of ``entity``'s table as field values by key (column fields only)."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    return {f.key: f.kind.from_columns(f.spec, mapping) for f in entity.fields if f.columns}
