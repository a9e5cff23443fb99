"""Keeping formula, rollup and lookup fields current, on the written records and beyond.

After a write the service calls :meth:`Recomputer.propagate` with the entity, the ids written
and the fields that changed.  It recomputes the entity's derived fields that read those fields,
then follows the triggers compiled from the definition (:mod:`.compiled`) to the records of
other entities that read them — a line item changes, its quote's total changes, and a formula
reading that total changes after it — until nothing is left.  Everything is done per *set* of
ids, so a bulk write of 5,000 line items costs a few statements per affected field, not 5,000:

* rollups and lookups: one ``UPDATE … SET col = (correlated subquery) WHERE id IN (…)``;
* formulas that follow links or read related lists: the Python evaluator (compiled once per app
  version) with a loader over the connection, then one executemany ``UPDATE``.

Records in the trash do not count in rollups or related lists.  Propagated recomputation is
bookkeeping, not an edit: it does not bump versions (so it never causes a spurious conflict)
and writes no audit rows; the written record's own audit diff includes its computed fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.definitions import EntityModel, FieldModel
from tessera.engines.definitions.fields import InvalidValue
from tessera.engines.forms.compiled import ALL, CompiledApp, CompiledFormula, EntityPlan, Hop
from tessera.engines.forms.values import from_row

CHUNK = 1000


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class TrashAwareLoader(ex.ConnectionLoader):
    """The expression language's loader, leaving trashed records out of related lists."""

    def load_many(
        self, entity: ex.EntitySpec, remote_column: str, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        t = self._table(entity)
        query = sa.select(t).where(t.c[remote_column] == record_id)
        if "deleted_at" in t.c:
            query = query.where(t.c.deleted_at.is_(None))
        rows = self.conn.execute(query.order_by(t.c[entity.id_column])).mappings()
        return [self._record(entity, r) for r in rows]

    def load_linked(
        self, field: ex.FieldSpec, target: ex.EntitySpec, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        return [r for r in super().load_linked(field, target, record_id) if not _trashed(r)]


def _trashed(record: Mapping[str, Any]) -> bool:
    return record.get("deleted_at") is not None


def formula_record(entity: EntityModel, row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as the formula evaluator reads it: fields by key, plus ``parent`` for child rows."""
    record = from_row(entity, row)
    if "parent_id" in row:
        record["parent"] = row["parent_id"]
    return record


def stored_value(f: FieldModel, value: Any) -> dict[str, Any]:
    """A formula result as column values; a result the column cannot hold is stored blank."""
    try:
        checked = f.kind.validate(f.spec, value)
    except (InvalidValue, ValueError, TypeError, ArithmeticError):
        checked = None
    return {f.columns[0]: checked} if f.columns else {}


class Recomputer:
    def __init__(
        self,
        conn: sa.Connection,
        compiled: CompiledApp,
        tables: Mapping[str, sa.Table],
        context: ex.EvalContext,
    ) -> None:
        self.conn = conn
        self.compiled = compiled
        self.tables = tables
        self.context = context
        self.loader = TrashAwareLoader(conn, tables)

    def evaluate(self, formula: CompiledFormula, record: Mapping[str, Any]) -> Any:
        try:
            return formula.evaluate(record, self.context, self.loader)
        except (ex.EvaluationError, LookupError, ArithmeticError, ValueError, TypeError):
            return None

    def local(self, plan: EntityPlan, record: dict[str, Any]) -> None:
        """Evaluate the entity's local formulas into ``record`` (before it is written)."""
        for formula in plan.local:
            value = self.evaluate(formula, record)
            columns = stored_value(formula.field, value)
            record[formula.field.key] = (
                formula.field.kind.from_columns(formula.field.spec, columns) if columns else None
            )

    # -- propagation -----------------------------------------------------------------------
    def propagate(
        self,
        entity: str,
        ids: Iterable[int],
        changed: set[str],
        before: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Recompute what depends on ``changed`` fields of records ``ids`` of ``entity``.

        ``before`` holds the rows as they were (column names), so records that *used to* point
        at something (a ticket moved to another customer, a purged line item) are found too.
        """
        pending: dict[str, tuple[set[int], set[str]]] = {entity: (set(ids), set(changed))}
        first = True
        rounds = 0
        while pending:
            rounds += 1
            if rounds > 1000:  # the validator forbids cycles; this is a guard, not a feature
                raise RuntimeError("computed fields did not settle; is there a dependency cycle?")
            name = next(iter(pending))
            ids_now, fields = pending.pop(name)
            plan = self.compiled.plan(name)
            live = {i for i in ids_now if i is not None}
            fields |= self._recompute(plan, live, fields)
            for trigger in plan.triggers:
                if not trigger.fires(fields):
                    continue
                extra = before if first else ()
                targets = self._walk(trigger.hops, live, extra)
                if not targets:
                    continue
                known_ids, known_fields = pending.setdefault(trigger.target, (set(), set()))
                known_ids |= targets
                known_fields.add(trigger.target_field)
            first = False

    def _walk(
        self, hops: Sequence[Hop], ids: set[int], before: Sequence[Mapping[str, Any]]
    ) -> set[int]:
        current = set(ids)
        for n, hop in enumerate(hops):
            found: set[int] = set()
            table = self.tables[hop.table]
            if hop.kind == "there" and n == 0:
                found |= {row[hop.column] for row in before if row.get(hop.column) is not None}
            for batch in chunks(current):
                if hop.kind == "there":
                    query = sa.select(table.c[hop.column]).where(table.c.id.in_(batch))
                elif hop.kind == "here":
                    query = sa.select(table.c.id).where(table.c[hop.column].in_(batch))
                else:
                    query = sa.select(table.c.source_id).where(table.c.target_id.in_(batch))
                found |= {v for v in self.conn.scalars(query) if v is not None}
            current = found
            if not current:
                break
        return current

    def _recompute(self, plan: EntityPlan, ids: set[int], fields: set[str]) -> set[str]:
        """Recompute the derived fields of ``plan`` that read ``fields``; returns their keys."""
        done: set[str] = set()
        if not ids:
            return done
        table = self.tables[plan.entity.key]
        for f, inputs in plan.derived:
            if not (ALL in fields or f.key in fields or inputs & (fields | done)):
                continue
            done.add(f.key)
            if f.type == "formula":
                formula = plan.formulas.get(f.key)
                if formula is not None:
                    self._formula(plan.entity, table, formula, ids)
                continue
            values = self._rollup(plan.entity, f, table) if f.type == "rollup" else None
            if f.type == "lookup":
                values = self._lookup(plan.entity, f, table)
            if values:
                for batch in chunks(ids):
                    self.conn.execute(sa.update(table).where(table.c.id.in_(batch)).values(values))
        return done

    def _rollup(self, entity: EntityModel, f: FieldModel, table: sa.Table) -> dict[str, Any]:
        app = self.compiled.app
        source = str(f.spec["source"])
        if "." in source:
            other_key, link = source.split(".", 1)
            other = app.entity(other_key)
            pointer = other.field(link).columns[0]
        else:
            other = app.entity(str(entity.field(source).target))
            pointer = "parent_id"
        rows = self.tables[other.key].alias()
        aggregate = str(f.spec["aggregate"])
        query = sa.select().select_from(rows).where(rows.c[pointer] == table.c.id)
        if "deleted_at" in rows.c:
            query = query.where(rows.c.deleted_at.is_(None))
        if aggregate == "count":
            column: Any = sa.func.count()
        else:
            value = rows.c[other.field(str(f.spec["field"])).columns[0]]
            column = getattr(sa.func, aggregate)(value)
            if aggregate == "sum":
                column = sa.func.coalesce(column, 0)
        return {f.columns[0]: query.add_columns(column).scalar_subquery()}

    def _lookup(self, entity: EntityModel, f: FieldModel, table: sa.Table) -> dict[str, Any]:
        link = entity.field(str(f.spec["link"]))
        target = self.compiled.app.entity(str(link.target))
        read = target.field(str(f.spec["field"]))
        rows = self.tables[target.key].alias()
        return {
            mine: sa.select(rows.c[theirs])
            .where(rows.c.id == table.c[link.columns[0]])
            .scalar_subquery()
            for mine, theirs in zip(f.columns, read.columns, strict=False)
        }

    def _formula(
        self, entity: EntityModel, table: sa.Table, formula: CompiledFormula, ids: set[int]
    ) -> None:
        column = formula.field.columns[0]
        for batch in chunks(ids):
            rows = self.conn.execute(sa.select(table).where(table.c.id.in_(batch))).mappings()
            updates = []
            for row in rows:
                value = stored_value(
                    formula.field, self.evaluate(formula, formula_record(entity, row))
                )[column]
                if value != row[column]:
                    updates.append({"_id": row["id"], "_value": value})
            if updates:
                self.conn.execute(
                    sa.update(table)
                    .where(table.c.id == sa.bindparam("_id"))
                    .values({column: sa.bindparam("_value")}),
                    updates,
                )
