"""The records service: the one way records are written and read, for every caller.

The REST API, the pages, the rule and process engines and imports all call this class, so
validation, defaults, computed fields, optimistic locking, the audit trail and events cannot be
skipped by any of them.  It works in the caller's connection and transaction, and wraps every
write in a SAVEPOINT: a refused write (validation, conflict, permission, a broken unique
constraint) leaves the caller's transaction exactly as it was, and a bulk write either writes
every row or none.  The one exception is a single create of an entity whose create can only be
refused before its first statement (no unique field, no child rows or links written after the
row, validation rules that read the record alone, the default scope): it needs no SAVEPOINT,
which is two statements of the five a create used to cost.

A write, in order: permission → values checked by field type (all problems at once, with
paths) → defaults (static or formula) → local formulas → required, links, unique → auto numbers
→ rows written (executemany in chunks for bulk) → computed fields recomputed here and on the
records that read these ones → validation rules on the stored result → audit entries and outbox
events through the :class:`~.context.Journal`, in the same transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.engines import definitions as defs
from tessera.engines.definitions import EntityModel, FieldModel, naming
from tessera.engines.definitions.fields import FieldType
from tessera.engines.definitions.fields.temporal import DateTime
from tessera.engines.forms.compiled import ALL
from tessera.engines.forms.computed import Recomputer, chunks, formula_record, stored_value
from tessera.engines.forms.context import Action, AllowAll, JournalEntry, RowJournal
from tessera.engines.forms.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tessera.engines.forms.inserts import column_names, insert_rows, one_row_insert
from tessera.engines.forms.reads import Reads, TimelineEntry, timeline
from tessera.engines.forms.values import (
    check_values,
    checker_for,
    created,
    created_many,
    diff,
    from_row,
    is_blank,
    jsonable,
    required_errors,
    row_reader,
    to_columns,
)
from tessera.engines.memo import PerObject
from tessera.engines.messages import _l

BULK_CHUNK = 1000
_ABSENT: Any = object()  # a field a new record leaves out unless it is given
_CHILD_SYSTEM = ("version", "created_at", "updated_at", "created_by", "updated_by", "owner",
                 "deleted_at")  # fmt: skip


def _ids(value: Any) -> list[Any]:
    """A link value (an id or None) or a multi-link value (a list of ids) as a list."""
    return list(value) if isinstance(value, list) else [value]


_Writers = list[tuple[str, str | None, FieldModel]]
_WRITERS: PerObject[_Writers] = PerObject()


def _writers(model: EntityModel) -> _Writers:
    """Per entity, once: each column field's key, and its column when the value is stored as it
    is (None: the field type's ``to_columns`` decides, as for a location's two columns)."""
    hit = _WRITERS.get(model)
    if hit is not None:
        return hit
    plain = (FieldType.to_columns, DateTime.to_columns)
    return _WRITERS.put(
        model,
        [
            (f.key, f.columns[0] if type(f.kind).to_columns in plain else None, f)
            for f in model.fields
            if f.columns
        ],
    )


def _same(model: EntityModel, key: str, new: Any, old: Any) -> bool:
    """Whether writing ``new`` over ``old`` changes nothing: equal as stored, or both blank
    (None, "", an empty list) — a form sends ``[]`` for a tag field left empty and ``""`` for
    an empty box, which must not show as a change in the timeline nor bump the version.  A
    JSON field's ``{}`` or ``[]`` is a value of its own, not a blank."""
    if jsonable(new) == jsonable(old):
        return True
    if model.has_field(key) and model.field(key).type == "json":
        return False
    return is_blank(new) and is_blank(old)


def _column_values(writers: _Writers, record: Mapping[str, Any]) -> dict[str, Any]:
    """``record``'s value of every column of :func:`_writers` (same keys for every record)."""
    row: dict[str, Any] = {}
    for key, column, f in writers:
        value = record.get(key)
        if column is not None:  # one column holding the value as it is
            row[column] = value
        elif value is None:
            row.update(dict.fromkeys(f.columns))
        else:
            row.update(f.kind.to_columns(f.spec, value))
    return row


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}" if key else prefix


class RecordService(Reads):
    """``RecordService(conn, app, metadata, journal, actor, clock=..., scope=...)``; see the
    module docstring and ``docs/records.md``."""

    #: the last record :meth:`_create` wrote, as stored (so :meth:`create` need not read it again)
    _created: dict[str, Any]

    # -- public writes ---------------------------------------------------------------------
    def create(self, entity: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Create one record; returns it as :meth:`get` would."""
        model = self.entity(entity)
        if self._plain_create(model):
            # every refusal comes before the first write, so the caller's transaction is left
            # as it was without a SAVEPOINT (two statements saved per record)
            _, entries = self._create(model, [values], bulk=False, plain=True)
            self._journal(entries)
        else:
            with self.conn.begin_nested():
                _, entries = self._create(model, [values], bulk=False)
                self._journal(entries)
        hidden = self.hidden(model)
        return {k: v for k, v in self._created.items() if k not in hidden}

    def bulk_create(self, entity: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create many records in one transaction: all or none; errors carry ``[row].field``."""
        model = self.entity(entity)
        if not isinstance(rows, Sequence) or isinstance(rows, str | bytes):
            raise ValidationFailed.one("", _l("give a list of records"), "type")
        with self.conn.begin_nested():
            ids, entries = self._create(model, list(rows), bulk=True)
            self._journal(entries)
        return ids

    def update(
        self,
        entity: str,
        record_id: int,
        values: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Change the given fields only.  With ``expected_version``, a record changed since
        that version is refused with :class:`Conflict` naming the fields changed since."""
        model = self.entity(entity)
        with self.conn.begin_nested():
            entry = self._update(model, record_id, values, expected_version, "")
            self._journal([entry] if entry else [])
        return self.get(entity, record_id)

    def bulk_update(
        self, entity: str, items: Sequence[tuple[int, Mapping[str, Any], int | None]]
    ) -> None:
        """``[(id, values, expected_version)]`` in one transaction: all or none."""
        model = self.entity(entity)
        entries: list[JournalEntry] = []
        errors: list[FieldError] = []
        with self.conn.begin_nested():
            for i, (record_id, values, expected) in enumerate(items):
                try:
                    entry = self._update(model, record_id, values, expected, f"[{i}]")
                except ValidationFailed as failed:
                    errors += failed.errors
                    continue
                if entry is not None:
                    entries.append(entry)
            if errors:
                raise ValidationFailed(errors)
            self._journal(entries)

    def delete(self, entity: str, record_id: int, *, expected_version: int | None = None) -> None:
        """Move a record to the trash (restorable)."""
        self.bulk_delete(entity, [record_id], expected_versions={record_id: expected_version})

    def bulk_delete(
        self,
        entity: str,
        ids: Sequence[int],
        *,
        expected_versions: Mapping[int, int | None] | None = None,
    ) -> None:
        model = self.entity(entity)
        with self.conn.begin_nested():
            self._trash(model, list(ids), expected_versions or {}, restoring=False)

    def restore(self, entity: str, record_id: int) -> dict[str, Any]:
        """Bring a record back from the trash."""
        model = self.entity(entity)
        with self.conn.begin_nested():
            self._trash(model, [record_id], {}, restoring=True)
        return self.get(entity, record_id)

    def bulk_restore(self, entity: str, ids: Sequence[int]) -> None:
        model = self.entity(entity)
        with self.conn.begin_nested():
            self._trash(model, list(ids), {}, restoring=True)

    def purge(self, entity: str, record_id: int) -> None:
        """Delete a record in the trash for good (its child rows and link rows with it; links
        to it from other records are cleared, and those records' audit trails say so)."""
        self.bulk_purge(entity, [record_id])

    def bulk_purge(self, entity: str, ids: Sequence[int]) -> None:
        model = self.entity(entity)
        with self.conn.begin_nested():
            self._purge(model, list(ids))

    def history(
        self, entity: str, record_id: int, *, locale: str | None = None
    ) -> list[TimelineEntry]:
        """The record's audit trail as a timeline, oldest first."""
        model = self.entity(entity)
        self.row(model, record_id, trashed=None)
        entries = self.journal.entries(self.conn, self.app.key, model.key, record_id)
        hidden = self.hidden(model)
        if hidden:  # a hidden field's old and new values are not the actor's to read either
            entries = [
                replace(e, changes={k: v for k, v in e.changes.items() if k not in hidden})
                for e in entries
            ]
        return timeline(self.app, model, entries, locale or self.actor.locale)

    # -- creating --------------------------------------------------------------------------
    def _plain_create(self, model: EntityModel) -> bool:
        """Whether a create of ``model`` can be refused only before its first write: the
        entity allows it (:attr:`~.compiled.EntityPlan.plain_create`) and the scope is the
        default one (a scope may refuse a record once it is stored)."""
        return self.compiled.plan(model.key).plain_create and type(self.scope) is AllowAll

    def _create(
        self,
        model: EntityModel,
        given: list[Mapping[str, Any]],
        *,
        bulk: bool,
        plain: bool = False,
    ) -> tuple[list[int], list[JournalEntry]]:
        if not self.scope.can("create", model, None):
            raise PermissionDenied(
                _l("you may not create %(entity)s records"), entity=model.named()
            )
        now = self.clock()
        recompute = Recomputer(self.conn, self.compiled, self.tables, self.context())
        writable = self.scope.writable_fields(model)
        records: list[dict[str, Any]] = []
        errors: list[FieldError] = []
        # compiled once per app version, entity, channel and writable set (values.checker_for)
        checker = checker_for(self.app, model, via=self.actor.via, writable=writable)
        check, required = checker.check, checker.required_errors
        new = self._new_maker(model, now, recompute)
        children = [
            (f.key, self.app.entity(str(f.target))) for f in model.fields if f.type == "child_table"
        ]
        for i, values in enumerate(given):
            clean, problems = check(values)
            record = new(clean)
            if not problems:
                problems = required(record)
            for key, child in children:
                for j, row in enumerate(record[key]):
                    problems += [e.under(f"{key}[{j}]") for e in required_errors(child, row)]
            if problems:
                errors += [e.under(f"[{i}]") for e in problems] if bulk else problems
            records.append(record)
        if not errors:
            items = [(f"[{i}]" if bulk else "", r) for i, r in enumerate(records)]
            errors += self._reference_errors(model, items, lock=plain)
            errors += self._unique_errors(model, items)
        if errors:
            raise ValidationFailed(errors)
        if plain:  # rules read only the record itself: check them before anything is written
            system = {"id": None, "version": 1, "created_at": now, "updated_at": now,
                      "created_by": self.actor.user_id, "updated_by": self.actor.user_id,
                      "deleted_at": None}  # fmt: skip
            self._check_rule_records(model, [{**system, **r} for r in records], [""])
        self._number(model, records, now)
        ids: list[int] = []
        entries: list[JournalEntry] = []
        plan = self.compiled.plan(model.key)
        reread = bool(plan.derived) or any(
            f.type in ("child_table", "multi_link") for f in model.fields
        )
        # PostgreSQL, one plain record whose stored values are all known before it is written:
        # the row, its audit row and its event go in one statement (one round trip, not two)
        journaled = (
            plain and not reread and self.dialect == "postgresql"
            and isinstance(self.journal, RowJournal)
        )  # fmt: skip
        rows: Sequence[Mapping[Any, Any]]
        for start in range(0, len(records), BULK_CHUNK):
            batch = records[start : start + BULK_CHUNK]
            batch_ids, returned = self._insert(model, batch, now, recompute, journaled=journaled)
            ids += batch_ids
            if reread:  # computed after the insert, or stored in other tables: read it back
                snapshots, rows = self._snapshot(model, batch_ids)
            else:  # every column's value is known: what was inserted, and the new id
                stored = row_reader(model, self.table(model)).records(returned)
                snapshots = {r["id"]: r for r in stored}
                names = column_names(self.table(model))
                rows = (
                    [dict(zip(names, r, strict=True)) for r in returned]
                    if not plain and plan.rules
                    else []
                )
            self._created = snapshots[batch_ids[-1]]  # create() returns it without reading again
            # the scope after the write, too: one check for the whole chunk
            refused = self.scope.refused("create", model, [snapshots[i] for i in batch_ids])
            if refused:
                n = batch_ids.index(refused[0])
                outside = (
                    _l("[%(row)s] you may not create this %(entity)s: it would be outside "
                       "the records you may create")
                    if bulk
                    else _l("you may not create this %(entity)s: it would be outside the "
                            "records you may create")
                )  # fmt: skip
                raise PermissionDenied(outside, row=start + n, entity=model.named())
            if not plain:
                self._check_rules(
                    model, rows, [f"[{start + n}]" if bulk else "" for n in range(len(batch))]
                )
            if not journaled:
                app, entity = self.app.key, model.key
                diffs = created_many(model, [snapshots[i] for i in batch_ids])
                entries += [
                    JournalEntry("created", app, entity, i, 1, changes)
                    for i, changes in zip(batch_ids, diffs, strict=True)
                ]
        return ids, entries

    def _new_maker(
        self, model: EntityModel, now: dt.datetime, recompute: Recomputer
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """:meth:`_new` for many records created at ``now``: the static defaults are worked out
        once (they depend on the field and ``now`` only), the rest as :meth:`_new` does."""
        plan = self.compiled.plan(model.key)
        if model.child or plan.defaults or any(f.type == "child_table" for f in model.fields):
            return partial(self._new, model, now=now, recompute=recompute)
        # in field order, as _new builds them; a junction field (multi link) only when given
        statics = [
            (f.key, _ABSENT if f.kind.storage == "junction" else f.kind.default(f.spec, now))
            for f in model.fields
            if not f.kind.computed
        ]
        junctions = any(v is _ABSENT for _, v in statics)
        mutable = any(isinstance(v, list | dict) for _, v in statics)
        owner = self.actor.user_id
        local = recompute.local if plan.local else None

        def new(clean: dict[str, Any]) -> dict[str, Any]:
            record = {k: clean.get(k, v) for k, v in statics}
            if junctions:
                record = {k: v for k, v in record.items() if v is not _ABSENT}
            if mutable:
                for k, v in statics:
                    if k not in clean and isinstance(v, list | dict):
                        record[k] = copy.deepcopy(v)
            record["owner"] = clean.get("owner", owner)
            if local is not None:
                local(plan, record)
            return record

        return new

    def _new(
        self, model: EntityModel, clean: dict[str, Any], now: dt.datetime, recompute: Recomputer
    ) -> dict[str, Any]:
        """A new record's values: given, then static defaults, then formula defaults, then the
        local formulas; child rows likewise."""
        plan = self.compiled.plan(model.key)
        record: dict[str, Any] = {}
        for f in model.fields:
            if f.key in clean:
                record[f.key] = clean[f.key]
            elif f.type == "child_table":
                record[f.key] = []
            elif (
                not f.kind.computed and f.kind.storage != "junction" and f.key not in plan.defaults
            ):
                record[f.key] = f.kind.default(f.spec, now)
        for key, formula in plan.defaults.items():
            if key not in clean:
                value, problem = formula.field.kind.check(
                    formula.field.spec, recompute.evaluate(formula, record)
                )
                record[key] = None if problem else value
        if not model.child:
            record["owner"] = clean.get("owner", self.actor.user_id)
        for f in model.fields:
            if f.type == "child_table":
                child = self.app.entity(str(f.target))
                record[f.key] = [self._new(child, row, now, recompute) for row in record[f.key]]
        recompute.local(plan, record)
        return record

    def _number(self, model: EntityModel, records: list[dict[str, Any]], now: dt.datetime) -> None:
        """Draw auto numbers (one counter statement per field, however many records)."""
        day = now.astimezone(ZoneInfo(self.actor.time_zone)).date()
        counters = self.tables[naming.counter_table(self.app.key)]
        for f in model.fields:
            if f.type == "auto_number" and records:
                for record, number in zip(
                    records,
                    self._numbers(
                        counters, model, f.key, str(f.spec["pattern"]), day, len(records)
                    ),
                    strict=True,
                ):
                    record[f.key] = number
            elif f.type == "child_table":
                child = self.app.entity(str(f.target))
                rows = [row for record in records for row in record.get(f.key, ())]
                if rows:
                    self._number(child, rows, now)

    def _numbers(
        self,
        counters: sa.Table,
        model: EntityModel,
        key: str,
        pattern: str,
        day: dt.date,
        count: int,
    ) -> list[str]:
        if count == 1:
            return [defs.next_number(self.conn, counters, model.key, key, pattern, day)]
        period = defs.period_key(pattern, day)
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(counters)
            .values(entity=model.key, field=key, period=period, value=count)
            .on_conflict_do_update(
                index_elements=["entity", "field", "period"],
                set_={"value": counters.c.value + count},
            )
            .returning(counters.c.value)
        )
        last = int(self.conn.execute(statement).scalar_one())
        return [defs.format_number(pattern, n, day) for n in range(last - count + 1, last + 1)]

    def _columns(self, model: EntityModel, record: Mapping[str, Any]) -> dict[str, Any]:
        """Every column of the entity's fields (same keys for every row, for executemany)."""
        return _column_values(_writers(model), record)

    def _insert(
        self,
        model: EntityModel,
        records: list[dict[str, Any]],
        now: dt.datetime,
        recompute: Recomputer,
        *,
        journaled: bool = False,
    ) -> tuple[list[int], list[tuple[Any, ...]]]:
        """Insert the rows; their ids, and the rows as stored (in table column order: every
        column is written, so only the id comes back from the database).  ``journaled``: one
        record, written with its audit row and event (:meth:`_insert_journaled`)."""
        table = self.table(model)
        user = self.actor.user_id
        system = {"created_at": now, "updated_at": now, "created_by": user, "updated_by": user,
                  "version": 1, "deleted_at": None}  # fmt: skip
        writers = _writers(model)  # once per chunk, not per record
        rows = []
        for record in records:
            row = _column_values(writers, record)
            row["owner_id"] = record.get("owner")
            rows.append(row)
        try:
            if journaled:
                ids = [self._insert_journaled(model, table, {**system, **rows[0]}, now)]
                rows[0]["id"] = ids[0]
            else:
                ids = insert_rows(self.conn, table, rows, system)
        except sa.exc.IntegrityError:
            raise ValidationFailed.one(
                "",
                _l("another record was saved with the same unique value at the same time"),
                "unique",
            ) from None
        names = column_names(table)
        stored = []
        for record, row, record_id in zip(records, rows, ids, strict=True):
            record["id"] = record_id
            row.update(system)  # the rows are written: they may now hold the system columns
            stored.append(tuple(map(row.get, names)))
        self._write_relations(model, records, now, creating=True)
        recompute.propagate(model.key, ids, {ALL})
        return ids, stored

    def _insert_journaled(
        self, model: EntityModel, table: sa.Table, row: dict[str, Any], now: dt.datetime
    ) -> int:
        """One new row with its ``created`` audit row and event in one statement
        (:class:`~.context.RowJournal`); the diff is the stored values', known before the
        write because nothing of the record is computed after it."""
        assert isinstance(self.journal, RowJournal)
        stored = row_reader(model, table).records([tuple(map(row.get, column_names(table)))])
        entry = JournalEntry("created", self.app.key, model.key, 0, 1, created(model, stored[0]))
        insert = one_row_insert(table)
        return self.journal.write_with_row(self.conn, self.actor, now, entry, insert, row)

    def _write_relations(
        self, model: EntityModel, records: list[dict[str, Any]], now: dt.datetime, *, creating: bool
    ) -> None:
        """Junction rows and child rows of freshly inserted records."""
        for f in model.fields:
            if f.type == "multi_link":
                junction = self.tables[naming.junction_table(self.app.key, model.key, f.key)]
                links = [
                    {"source_id": r["id"], "target_id": t, "sort_order": n}
                    for r in records
                    for n, t in enumerate(r.get(f.key) or ())
                ]
                if links:
                    self.conn.execute(sa.insert(junction), links)
            elif f.type == "child_table":
                child = self.app.entity(str(f.target))
                table = self.table(child)
                user = self.actor.user_id
                rows = [
                    {**self._columns(child, row), "parent_id": r["id"], "sort_order": n,
                     "created_at": now, "updated_at": now, "created_by": user, "updated_by": user,
                     "version": 1}
                    for r in records
                    for n, row in enumerate(r.get(f.key) or ())
                ]  # fmt: skip
                if rows:
                    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
                    child_ids = [int(i) for i in self.conn.execute(statement, rows).scalars()]
                    Recomputer(self.conn, self.compiled, self.tables, self.context()).propagate(
                        child.key, child_ids, {ALL}
                    )

    # -- checks against the database -------------------------------------------------------
    def _reference_errors(
        self,
        model: EntityModel,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        own: int | None = None,
        *,
        lock: bool = False,
    ) -> list[FieldError]:
        """Links, users and departments that do not exist (or that the actor cannot see).

        The owner is not looked up when it is the actor (the actor's id is written as
        ``created_by`` anyway, under the same foreign key).  ``lock`` keeps the rows found from
        being deleted until the transaction ends (PostgreSQL's ``FOR KEY SHARE``, what its own
        foreign-key check takes), so a write without a SAVEPOINT cannot fail on them later."""
        errors: list[FieldError] = []
        checks: list[tuple[str, str | None]] = [("owner", "users")] if not model.child else []
        for f in model.fields:
            if f.type in ("link", "multi_link"):
                checks.append((f.key, str(f.target)))
            elif f.type == "user":
                checks.append((f.key, "users"))
            elif f.type == "department":
                checks.append((f.key, "departments"))
        for key, target in checks:
            wanted = {i for _, record in items for i in _ids(record.get(key)) if i is not None}
            if key == "owner":
                wanted.discard(self.actor.user_id)
            if not wanted or target is None or target not in self.tables:
                continue
            found = self._existing(target, wanted, lock=lock)
            for prefix, record in items:
                value = record.get(key)
                for i in value if isinstance(value, list) else [value]:
                    if i is not None and i not in found:
                        errors.append(
                            FieldError.of(
                                _join(prefix, key),
                                _l("there is no user #%(id)s")
                                if target == "users"
                                else _l("there is no department #%(id)s")
                                if target == "departments"
                                else _l("there is no record #%(id)s to link to"),
                                "not_found",
                                id=i,
                            )
                        )
        for f in model.fields:
            if f.type == "child_table":
                child = self.app.entity(str(f.target))
                rows = [
                    (_join(prefix, f"{f.key}[{j}]"), row)
                    for prefix, record in items
                    for j, row in enumerate(record.get(f.key) or ())
                ]
                errors += self._reference_errors(child, rows)
                errors += self._unique_errors(child, rows)
        return errors

    def _existing(self, target: str, wanted: set[int], *, lock: bool = False) -> set[int]:
        table = self.tables[target]
        conditions: list[Any] = []
        if self.app.has_entity(target):
            entity = self.app.entity(target)
            conditions = [table.c.deleted_at.is_(None), *self.visible(entity, table)]
        found: set[int] = set()
        for batch in chunks(sorted(wanted)):
            query = sa.select(table.c.id).where(table.c.id.in_(batch), *conditions)
            if lock and self.dialect == "postgresql":
                query = query.with_for_update(key_share=True)
            found |= set(self.conn.scalars(query))
        return found

    def _unique_errors(
        self,
        model: EntityModel,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        own: int | None = None,
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        table = self.table(model)
        for f in model.fields:
            if not f.spec.get("unique") or not f.columns:
                continue
            seen: dict[Any, str] = {}
            for prefix, record in items:
                value = record.get(f.key)
                if is_blank(value) or f.key not in record:
                    continue
                if value in seen:
                    errors.append(
                        FieldError.of(
                            _join(prefix, f.key),
                            _l("“%(value)s” is given twice for “%(label)s”"),
                            "unique",
                            value=value,
                            label=f.named(),
                        )
                    )
                seen.setdefault(value, prefix)
            values = list(seen)
            for start in range(0, len(values), 1000):
                query = sa.select(table.c[f.columns[0]]).where(
                    table.c[f.columns[0]].in_(values[start : start + 1000])
                )
                if own is not None:
                    query = query.where(table.c.id != own)
                for taken in self.conn.scalars(query):
                    errors.append(
                        FieldError.of(
                            _join(seen[taken], f.key),
                            _l("another record already has “%(value)s” as %(label)s"),
                            "unique",
                            value=taken,
                            label=f.named(),
                        )
                    )
        return errors

    def _check_rules(
        self, model: EntityModel, rows: Sequence[Mapping[Any, Any]], prefixes: Sequence[str]
    ) -> None:
        """Validation rules (``error_if``) on the records as stored, computed fields included."""
        if self.compiled.plan(model.key).rules:
            self._check_rule_records(model, [formula_record(model, r) for r in rows], prefixes)

    def _check_rule_records(
        self, model: EntityModel, records: Sequence[Mapping[str, Any]], prefixes: Sequence[str]
    ) -> None:
        rules = self.compiled.plan(model.key).rules
        if not rules:
            return
        recompute = Recomputer(self.conn, self.compiled, self.tables, self.context())
        errors: list[FieldError] = []
        for record, prefix in zip(records, prefixes, strict=True):
            for rule in rules:
                try:
                    broken = rule.evaluate(record, recompute.context, recompute.loader)
                except Exception:
                    broken = False
                if broken:
                    errors.append(
                        FieldError(
                            _join(prefix, rule.field or ""),
                            rule.text(self.actor.locale),
                            f"rule:{rule.key}",
                        )
                    )
        if errors:
            raise ValidationFailed(errors)

    # -- updating --------------------------------------------------------------------------
    def _update(
        self,
        model: EntityModel,
        record_id: int,
        values: Mapping[str, Any],
        expected: int | None,
        prefix: str,
    ) -> JournalEntry | None:
        before_row = self.row(model, record_id, trashed=False, lock=True)
        before = from_row(model, before_row)
        if not self.scope.can("update", model, before):
            raise PermissionDenied(_l("you may not change this %(entity)s"), entity=model.named())
        version = int(before_row["version"])
        if expected is not None and expected != version:
            raise self._conflict(model, record_id, expected, version)
        clean, errors = check_values(
            self.app, model, values, via=self.actor.via, writable=self.scope.writable_fields(model)
        )
        if errors:
            raise ValidationFailed([e.under(prefix) if prefix else e for e in errors])
        snapshots, _ = self._snapshot(model, [record_id])
        snapshot = snapshots[record_id]
        changed = {k for k, v in clean.items() if not _same(model, k, v, snapshot.get(k))}
        child_keys = {
            k for k in changed if model.has_field(k) and model.field(k).type == "child_table"
        }
        for key in list(child_keys):
            if self._child_rows_same(snapshot[key], clean[key]):
                changed.discard(key)
                child_keys.discard(key)
        if not changed:
            return None
        now = self.clock()
        recompute = Recomputer(self.conn, self.compiled, self.tables, self.context())
        merged = formula_record(model, before_row)
        merged.update({k: clean[k] for k in changed if k not in child_keys})
        plan = self.compiled.plan(model.key)
        old_local = {f.field.key: merged.get(f.field.key) for f in plan.local}
        recompute.local(plan, merged)
        changed |= {k for k, v in old_local.items() if jsonable(merged.get(k)) != jsonable(v)}
        scalar = {k: merged[k] for k in changed if k not in child_keys}
        problems = [e for e in required_errors(model, merged) if e.path in changed]
        items = [(prefix, {k: clean[k] for k in changed if k in clean})]
        problems += self._reference_errors(model, items)
        problems += self._unique_errors(model, items, own=record_id)
        child_plans = {}
        for key in child_keys:
            plan_for_key, child_errors = self._plan_children(
                model, key, snapshot[key], clean[key], now, recompute
            )
            child_plans[key] = plan_for_key
            problems += [e.under(prefix) if prefix else e for e in child_errors]
        if problems:
            raise ValidationFailed(problems)
        table = self.table(model)
        columns = {c: v for c, v in to_columns(model, scalar).items()}
        result = self.conn.execute(
            sa.update(table)
            .where(table.c.id == record_id, table.c.version == version)
            .values(**columns, version=version + 1, updated_at=now, updated_by=self.actor.user_id)
        )
        if result.rowcount != 1:
            raise self._conflict(model, record_id, version, version + 1)
        for key, (inserts, updates, deletes, deleted_rows) in child_plans.items():
            self._apply_children(
                model, key, record_id, inserts, updates, deletes, deleted_rows, now
            )
        for f in model.fields:
            if f.type == "multi_link" and f.key in changed:
                junction = self.tables[naming.junction_table(self.app.key, model.key, f.key)]
                self.conn.execute(sa.delete(junction).where(junction.c.source_id == record_id))
                links = [{"source_id": record_id, "target_id": t, "sort_order": n}
                         for n, t in enumerate(clean[f.key] or ())]  # fmt: skip
                if links:
                    self.conn.execute(sa.insert(junction), links)
        recompute.propagate(model.key, [record_id], set(changed), [dict(before_row)])
        after, rows = self._snapshot(model, [record_id])
        if not self.scope.can("update", model, after[record_id]):
            raise PermissionDenied(
                _l("you may not change this %(entity)s so that it leaves the records you may "
                   "change"),
                entity=model.named(),
            )  # fmt: skip
        self._check_rules(model, rows, [prefix])
        return JournalEntry(
            "updated", self.app.key, model.key, record_id, version + 1,
            diff(model, snapshot, after[record_id]),
        )  # fmt: skip

    def _child_rows_same(self, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
        if len(old) != len(new):
            return False
        for existing, given in zip(old, new, strict=True):
            if given.get("id") != existing.get("id"):
                return False
            if any(jsonable(v) != jsonable(existing.get(k)) for k, v in given.items()):
                return False
        return True

    def _plan_children(
        self,
        model: EntityModel,
        key: str,
        old: list[dict[str, Any]],
        new: list[dict[str, Any]],
        now: dt.datetime,
        recompute: Recomputer,
    ) -> tuple[
        tuple[list[dict[str, Any]], list[dict[str, Any]], list[int], list[dict[str, Any]]],
        list[FieldError],
    ]:
        """What to insert, update and delete to turn the stored rows into the given ones."""
        child = self.app.entity(str(model.field(key).target))
        plan = self.compiled.plan(child.key)
        existing = {row["id"]: row for row in old}
        inserts, updates, errors = [], [], []
        for n, given in enumerate(new):
            path = f"{key}[{n}]"
            if "id" in given:
                if given["id"] not in existing:
                    errors.append(
                        FieldError.of(
                            f"{path}.id",
                            _l("#%(id)s is not a row of this record"),
                            "not_found",
                            id=given["id"],
                        )
                    )
                    continue
                merged = {**existing[given["id"]], **given}
                recompute.local(plan, merged)
                errors += [e.under(path) for e in required_errors(child, merged) if e.path in given]
                updates.append({**merged, "_sort": n})
            else:
                row = self._new(child, given, now, recompute)
                errors += [e.under(path) for e in required_errors(child, row)]
                inserts.append({**row, "_sort": n})
        kept = {u["id"] for u in updates}
        deletes = [i for i in existing if i not in kept]
        items = [(f"{key}[{n}]", r) for n, r in enumerate(inserts + updates)]
        errors += self._reference_errors(child, items)
        self._number(child, inserts, now)
        table = self.table(child)
        deleted_rows = (
            [
                dict(r)
                for r in self.conn.execute(
                    sa.select(table).where(table.c.id.in_(deletes))
                ).mappings()
            ]
            if deletes
            else []
        )
        return (inserts, updates, deletes, deleted_rows), errors

    def _apply_children(
        self,
        model: EntityModel,
        key: str,
        parent_id: int,
        inserts: list[dict[str, Any]],
        updates: list[dict[str, Any]],
        deletes: list[int],
        deleted_rows: list[dict[str, Any]],
        now: dt.datetime,
    ) -> None:
        child = self.app.entity(str(model.field(key).target))
        table = self.table(child)
        user = self.actor.user_id
        touched: list[int] = []
        if deletes:
            self.conn.execute(sa.delete(table).where(table.c.id.in_(deletes)))
        for row in updates:
            self.conn.execute(
                sa.update(table)
                .where(table.c.id == row["id"], table.c.parent_id == parent_id)
                .values(
                    **self._columns(child, row), sort_order=row["_sort"], updated_at=now,
                    updated_by=user, version=table.c.version + 1,
                )
            )  # fmt: skip
            touched.append(row["id"])
        if inserts:
            rows = [
                {**self._columns(child, r), "parent_id": parent_id, "sort_order": r["_sort"],
                 "created_at": now, "updated_at": now, "created_by": user, "updated_by": user,
                 "version": 1}
                for r in inserts
            ]  # fmt: skip
            statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
            touched += [int(i) for i in self.conn.execute(statement, rows).scalars()]
        recompute = Recomputer(self.conn, self.compiled, self.tables, self.context())
        recompute.propagate(child.key, touched + deletes, {ALL}, deleted_rows)

    def _conflict(
        self, model: EntityModel, record_id: int, expected: int, current: int
    ) -> Conflict:
        changed: set[str] = set()
        for entry in self.journal.entries(self.conn, self.app.key, model.key, record_id):
            pair = entry.changes.get("version")
            if (
                isinstance(pair, list)
                and len(pair) == 2
                and isinstance(pair[1], int)
                and pair[1] > expected
            ):
                changed |= {k for k in entry.changes if k != "version"}
        return Conflict(sorted(changed), current)

    # -- trash, restore, purge ---------------------------------------------------------------
    def _rows(
        self, model: EntityModel, ids: list[int], *, trashed: bool
    ) -> dict[int, sa.RowMapping]:
        table = self.table(model)
        found: dict[int, sa.RowMapping] = {}
        deleted = table.c.deleted_at
        for batch in chunks(ids):
            query = sa.select(table).where(
                table.c.id.in_(batch), deleted.is_not(None) if trashed else deleted.is_(None),
                *self.visible(model, table),
            )  # fmt: skip
            if self.dialect == "postgresql":
                query = query.with_for_update()
            found.update({r["id"]: r for r in self.conn.execute(query).mappings()})
        missing = [i for i in ids if i not in found]
        if missing:
            absent = (
                _l("there is no %(entity)s #%(id)s in the trash")
                if trashed
                else _l("there is no %(entity)s #%(id)s")
            )
            raise NotFound(absent, entity=model.named(), id=missing[0])
        return found

    def _trash(
        self,
        model: EntityModel,
        ids: list[int],
        expected: Mapping[int, int | None],
        *,
        restoring: bool,
    ) -> None:
        if model.child:
            raise PermissionDenied(
                _l("rows of a child table are changed through their parent record")
            )
        rows = self._rows(model, ids, trashed=restoring)
        action: Action = "restore" if restoring else "delete"
        for record_id, row in rows.items():
            if not self.scope.can(action, model, from_row(model, row)):
                denied = (
                    _l("you may not restore this %(entity)s")
                    if restoring
                    else _l("you may not delete this %(entity)s")
                )
                raise PermissionDenied(denied, entity=model.named())
            wanted = expected.get(record_id)
            if wanted is not None and wanted != row["version"]:
                raise self._conflict(model, record_id, wanted, int(row["version"]))
        now = self.clock()
        table = self.table(model)
        stamp = None if restoring else now
        for batch in chunks(ids):
            self.conn.execute(
                sa.update(table).where(table.c.id.in_(batch)).values(
                    deleted_at=stamp, version=table.c.version + 1, updated_at=now,
                    updated_by=self.actor.user_id,
                )
            )  # fmt: skip
        Recomputer(self.conn, self.compiled, self.tables, self.context()).propagate(
            model.key, ids, {ALL}, [dict(r) for r in rows.values()]
        )
        self._journal([
            JournalEntry(
                "restored" if restoring else "deleted", self.app.key, model.key, i,
                int(row["version"]) + 1,
                {"deleted_at": [jsonable(row["deleted_at"]), jsonable(stamp)],
                 "version": [int(row["version"]), int(row["version"]) + 1]},
            )
            for i, row in rows.items()
        ])  # fmt: skip

    def _purge(self, model: EntityModel, ids: list[int]) -> None:
        if model.child:
            raise PermissionDenied(
                _l("rows of a child table are changed through their parent record")
            )
        rows = self._rows(model, ids, trashed=True)
        for row in rows.values():
            if not self.scope.can("purge", model, from_row(model, row)):
                raise PermissionDenied(
                    _l("you may not purge this %(entity)s"), entity=model.named()
                )
        now = self.clock()
        recompute = Recomputer(self.conn, self.compiled, self.tables, self.context())
        entries: list[JournalEntry] = []
        for other in self.app.entities:  # clear links to the purged records first
            for f in other.fields:
                if f.type != "link" or f.target != model.key:
                    continue
                table = self.table(other)
                column = table.c[f.columns[0]]
                for batch in chunks(ids):
                    pointing = list(
                        self.conn.execute(
                            sa.select(table.c.id, column, table.c.version).where(column.in_(batch))
                        ).all()
                    )
                    if not pointing:
                        continue
                    self.conn.execute(
                        sa.update(table).where(column.in_(batch)).values(
                            {column: None, "version": table.c.version + 1, "updated_at": now,
                             "updated_by": self.actor.user_id}
                        )
                    )  # fmt: skip
                    recompute.propagate(other.key, [p[0] for p in pointing], {f.key})
                    entries += [
                        JournalEntry("updated", self.app.key, other.key, p[0], p[2] + 1,
                                     {f.key: [p[1], None], "version": [p[2], p[2] + 1]})
                        for p in pointing
                    ]  # fmt: skip
        children: list[tuple[str, list[dict[str, Any]]]] = []
        for f in model.fields:
            if f.type == "child_table":
                child = self.app.entity(str(f.target))
                table = self.table(child)
                found = [
                    dict(r)
                    for r in self.conn.execute(
                        sa.select(table).where(table.c.parent_id.in_(ids))
                    ).mappings()
                ]
                children.append((child.key, found))
        table = self.table(model)
        for batch in chunks(ids):
            self.conn.execute(sa.delete(table).where(table.c.id.in_(batch)))
        for child_key, found in children:
            recompute.propagate(child_key, [r["id"] for r in found], {ALL}, found)
        recompute.propagate(model.key, ids, {ALL}, [dict(r) for r in rows.values()])
        entries += [JournalEntry("purged", self.app.key, model.key, i, None, {}) for i in rows]
        self._journal(entries)

    # -- snapshots and the journal ---------------------------------------------------------
    def _snapshot(
        self, model: EntityModel, ids: Iterable[int]
    ) -> tuple[dict[int, dict[str, Any]], list[sa.RowMapping]]:
        """Full records (child rows and multi links included) for diffs, and their rows."""
        table = self.table(model)
        wanted = list(ids)
        found: list[sa.Row[Any]] = []
        for batch in chunks(wanted):
            found += self.conn.execute(sa.select(table).where(table.c.id.in_(batch))).all()
        order = {i: n for n, i in enumerate(wanted)}
        found.sort(key=lambda r: order[r.id])
        rows = [r._mapping for r in found]
        records = self.shape(model, found, self._fields(model, None, True, with_hidden=True))
        for record in records:
            for key in model.fields:
                if key.type == "child_table":
                    for row in record.get(key.key, ()):
                        for system in _CHILD_SYSTEM:
                            row.pop(system, None)
        return {r["id"]: r for r in records}, rows

    def _journal(self, entries: list[JournalEntry]) -> None:
        if entries:
            self.journal.write(self.conn, self.actor, self.clock(), entries)


__all__ = ["RecordService", "stored_value"]
