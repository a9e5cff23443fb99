"""A :class:`RecordLoader` over a SQLAlchemy connection, for the Python back end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .schema import EntitySpec, FieldSpec


class ConnectionLoader:
    """Loads related records by id with one small query each (a per-record evaluator)."""

    def __init__(self, conn: sa.Connection, tables: Mapping[str, sa.Table]) -> None:
        self.conn = conn
        self.tables = tables

    def _table(self, entity: EntitySpec) -> sa.Table:
        return self.tables[entity.key] if entity.key in self.tables else self.tables[entity.table]

    def _record(self, entity: EntitySpec, row: sa.RowMapping) -> dict[str, Any]:
        out = {"id": row[entity.id_column]}
        for fs in entity.fields.values():
            if fs.column is not None and fs.column in row:
                out[fs.key] = row[fs.column]
        return out

    def load_one(self, entity: EntitySpec, record_id: Any) -> Mapping[str, Any] | None:
        t = self._table(entity)
        row = (
            self.conn.execute(sa.select(t).where(t.c[entity.id_column] == record_id))
            .mappings()
            .first()
        )
        return None if row is None else self._record(entity, row)

    def load_many(
        self, entity: EntitySpec, remote_column: str, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        t = self._table(entity)
        rows = self.conn.execute(
            sa.select(t).where(t.c[remote_column] == record_id).order_by(t.c[entity.id_column])
        )
        return [self._record(entity, r) for r in rows.mappings()]

    def load_linked(
        self, field: FieldSpec, target: EntitySpec, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        assert field.junction is not None
        jname, this_col, target_col = field.junction
        t, j = self._table(target), self.tables[jname]
        q = (
            sa.select(t)
            .join(j, j.c[target_col] == t.c[target.id_column])
            .where(j.c[this_col] == record_id)
        )
        return [
            self._record(target, r)
            for r in self.conn.execute(q.order_by(t.c[target.id_column])).mappings()
        ]
