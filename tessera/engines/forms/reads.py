"""Reading records: one record, pages of records, and a record's history.

Every read goes through the scope: its ``read_filter`` is part of every query (get, list,
count, search, expanded links, child rows' parents, history), and ``can("read", …)`` is asked
for single records, so no read path can skip permissions.  A record the actor may not see is
:class:`NotFound`, not :class:`PermissionDenied`: its existence is not revealed.

Lists use keyset pagination: the cursor carries the last row's sort values and id, and the next
page starts with ``WHERE sort >= :v AND (sort > :v OR (… AND id > :id))`` — a range the index on
the sort column can seek to — so page 10,000 costs what page 1 costs.  Blank sort values come
last in both directions: the page query first reads the rows whose first sort value is not
blank, then (when it runs out) the blank ones.
"""

from __future__ import annotations

import base64
import builtins
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.definitions import AppModel, EntityModel, humanise, naming
from tessera.engines.forms.compiled import compile_records, record_tables
from tessera.engines.forms.context import Actor, AllowAll, Clock, Journal, Scope, utc_now
from tessera.engines.forms.errors import NotFound, ValidationFailed
from tessera.engines.forms.filters import FilterCompiler, check_sort, sort_column
from tessera.engines.forms.search import search_condition
from tessera.engines.forms.values import (
    SYSTEM_FIELDS,
    UNKNOWN_FIELD,
    from_row,
    jsonable,
    row_reader,
)
from tessera.engines.messages import _l

MAX_LIMIT = 500
#: system fields a child row does not show (it lives and dies with its parent record)
_CHILD_SYSTEM = ("version", "created_at", "updated_at", "created_by", "updated_by", "owner",
                 "deleted_at")  # fmt: skip


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for.  ``filter`` is a formula (text) or a JSON filter (dict);
    ``fields`` None means every column field (child tables and multi links only when named)."""

    filter: str | Mapping[str, Any] | None = None
    sort: Sequence[tuple[str, str]] = ()
    after: str | None = None
    limit: int = 50
    fields: Sequence[str] | None = None
    expand: Sequence[str] = ()
    search: str | None = None
    with_total: bool = False
    trashed: bool = False
    #: a formula condition ANDed with ``filter`` (a view's ``where`` beside its JSON filters)
    where: str | None = None


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: Any
    new: Any
    old_text: str
    new_text: str


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    via: str
    changes: list[Change] = field(default_factory=list)
    #: ``automation:<rule key>`` when an automation wrote; ``actor_name`` is then its name
    actor_key: str | None = None
    #: ``import:<id>`` when an import wrote (the page names its file)
    source: str | None = None

    @property
    def is_automation(self) -> bool:
        return bool(self.actor_key and self.actor_key.startswith("automation:"))

    def sentence(self) -> str:
        """``Ada updated Amount (100 → 120), Stage (new → won) via page``."""
        who = self.actor_name or (f"user #{self.actor_id}" if self.actor_id else "the system")
        if self.is_automation:
            who = f"Automation: {self.actor_name or str(self.actor_key).partition(':')[2]}"
        what = ", ".join(
            f"{c.label} ({c.old_text or '—'} → {c.new_text or '—'})" for c in self.changes
        )
        return f"{who} {self.action} {what} via {self.via}".replace("  ", " ").strip()


class Reads:
    """The read half of the records service (see :class:`~.service.RecordService`)."""

    def __init__(
        self,
        conn: sa.Connection,
        app: AppModel,
        metadata: sa.MetaData,
        journal: Journal,
        actor: Actor,
        *,
        clock: Clock = utc_now,
        scope: Scope | None = None,
        cursor_key: bytes | None = None,
    ) -> None:
        self.conn = conn
        self.app = app
        self.metadata = metadata
        self.journal = journal
        self.actor = actor
        self.clock = clock
        self.scope: Scope = scope or AllowAll()
        self.cursor_key = cursor_key
        self.compiled = compile_records(app)
        self.tables = record_tables(metadata, app)
        self.dialect = conn.dialect.name

    # -- shared helpers --------------------------------------------------------------------
    def context(self) -> ex.EvalContext:
        return ex.EvalContext(
            now=self.clock(),
            user_id=self.actor.user_id,
            department_id=self.actor.department_id,
            time_zone=self.actor.time_zone,
            locale=self.actor.locale,
        )

    def entity(self, key: str) -> EntityModel:
        if not isinstance(key, str) or not self.app.has_entity(key):
            raise NotFound(_l("there is no entity “%(key)s”"), key=str(key)[:40])
        return self.app.entity(key)

    def table(self, entity: EntityModel) -> sa.Table:
        return self.tables[entity.key]

    def hidden(self, entity: EntityModel) -> set[str]:
        """Fields the scope hides from this actor (absent from every read, unusable in filters,
        sorts and search)."""
        hook = getattr(self.scope, "hidden_fields", None)
        return set(hook(entity)) if hook is not None else set()

    def reachable_tables(self) -> Mapping[str, sa.Table]:
        """The tables a formula reads through links, each narrowed to the rows the actor may
        read: the filter ``account.name = "Acme"`` must not match a lead whose account the
        actor cannot see, or it would tell what that account is called.  A linked record out
        of scope reads as blank, as in an expanded link."""
        tables = dict(self.tables)
        for other in self.app.entities:
            if other.child or other.key not in self.tables:
                continue
            table = self.tables[other.key]
            condition = self.scope.read_filter(other, table)
            if condition is not None:
                scoped = sa.select(table).where(condition).subquery(table.name)
                tables[other.key] = scoped  # type: ignore[assignment]  # read as a table
        return tables

    def visible(self, entity: EntityModel, table: sa.Table) -> list[sa.ColumnElement[bool]]:
        condition = self.scope.read_filter(entity, table)
        return [] if condition is None else [condition]

    def row(
        self,
        entity: EntityModel,
        record_id: Any,
        *,
        trashed: bool | None = False,
        lock: bool = False,
    ) -> sa.RowMapping:
        """The row of a record the actor may see (``trashed`` None: in the trash or not)."""
        return self._row(entity, record_id, trashed=trashed, lock=lock)._mapping

    def _row(
        self,
        entity: EntityModel,
        record_id: Any,
        *,
        trashed: bool | None = False,
        lock: bool = False,
    ) -> sa.Row[Any]:
        """:meth:`row` as the positional row its entity's :class:`RowReader` reads."""
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise NotFound(_l("there is no record “%(id)s”"), id=str(record_id)[:40])
        table = self.table(entity)
        query = sa.select(table).where(table.c.id == record_id, *self.visible(entity, table))
        if trashed is not None:
            deleted = table.c.deleted_at
            query = query.where(deleted.is_not(None) if trashed else deleted.is_(None))
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        found = self.conn.execute(query).first()
        if found is None or not self.scope.can(
            "read", entity, row_reader(entity, table).records([found])[0]
        ):
            missing = (
                _l("there is no %(entity)s #%(id)s in the trash")
                if trashed
                else _l("there is no %(entity)s #%(id)s")
            )
            raise NotFound(missing, entity=entity.named(), id=record_id)
        return found

    def _fields(
        self,
        entity: EntityModel,
        fields: Sequence[str] | None,
        default_all: bool,
        *,
        with_hidden: bool = False,
    ) -> list[str]:
        hidden = set() if with_hidden else self.hidden(entity)
        if fields is None:
            return [
                f.key
                for f in entity.fields
                if (f.columns or (default_all and f.type in ("child_table", "multi_link")))
                and f.key not in hidden
            ]
        wanted = []
        for i, key in enumerate(fields):
            if not isinstance(key, str) or not (entity.has_field(key) or key in SYSTEM_FIELDS):
                raise ValidationFailed.one(
                    f"fields[{i}]",
                    UNKNOWN_FIELD,
                    "unknown_field",
                    entity=entity.named(),
                    key=str(key)[:40],
                )
            if key not in SYSTEM_FIELDS and key not in hidden:  # asked-for hidden: left out
                wanted.append(key)
        return wanted

    def shape(
        self,
        entity: EntityModel,
        rows: Sequence[Mapping[Any, Any]] | Sequence[sa.Row[Any]],
        keys: Sequence[str],
        expand: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Rows as records with the chosen fields, related lists loaded per page, not per row.

        Rows of ``select(table)`` are read by the entity's precompiled :class:`RowReader`;
        mappings (a row by column name) one by one."""
        if all(isinstance(row, sa.Row) for row in rows):
            records = row_reader(entity, self.table(entity), keys).records(rows)  # type: ignore[arg-type]
        else:
            records = []
            for row in rows:
                full = from_row(entity, row)  # type: ignore[arg-type]
                records.append({k: v for k, v in full.items() if k in SYSTEM_FIELDS or k in keys})
        ids = [r["id"] for r in records]
        for key in keys:
            f = entity.field(key)
            if f.type == "multi_link":
                linked = self.linked_ids(entity, key, ids)
                for r in records:
                    r[key] = linked.get(r["id"], [])
            elif f.type == "child_table":
                children = self.child_rows(entity, key, ids)
                for r in records:
                    r[key] = children.get(r["id"], [])
        for i, key in enumerate(expand):
            self._expand(entity, records, key, f"expand[{i}]")
        return records

    def linked_ids(self, entity: EntityModel, key: str, ids: Sequence[int]) -> dict[int, list[int]]:
        junction = self.tables[naming.junction_table(self.app.key, entity.key, key)]
        out: dict[int, list[int]] = {}
        if not ids:
            return out
        query = (
            sa.select(junction.c.source_id, junction.c.target_id)
            .where(junction.c.source_id.in_(ids))
            .order_by(junction.c.source_id, junction.c.sort_order, junction.c.target_id)
        )
        for source, target in self.conn.execute(query):
            out.setdefault(source, []).append(target)
        return out

    def child_rows(
        self, entity: EntityModel, key: str, ids: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        child = self.app.entity(str(entity.field(key).target))
        table = self.table(child)
        out: dict[int, list[dict[str, Any]]] = {}
        if not ids:
            return out
        query = (
            sa.select(table)
            .where(table.c.parent_id.in_(ids))
            .order_by(table.c.parent_id, table.c.sort_order, table.c.id)
        )
        rows = self.conn.execute(query).all()
        parent = list(table.c).index(table.c.parent_id)
        for row, record in zip(
            rows, self.shape(child, rows, self._fields(child, None, True)), strict=True
        ):
            for system in _CHILD_SYSTEM:
                record.pop(system, None)
            out.setdefault(row[parent], []).append(record)
        return out

    def _expand(
        self, entity: EntityModel, records: list[dict[str, Any]], key: str, path: str
    ) -> None:
        if (
            not isinstance(key, str)
            or not entity.has_field(key)
            or entity.field(key).type
            not in (
                "link",
                "multi_link",
            )
        ):
            raise ValidationFailed.one(
                path, _l("“%(key)s” is not a link to expand"), "bad_expand", key=str(key)[:40]
            )
        f = entity.field(key)
        target = self.app.entity(str(f.target))
        table = self.table(target)
        wanted: set[int] = set()
        if f.type == "multi_link":  # links not loaded yet: one query for the whole page
            missing = [r["id"] for r in records if r.get(key) is None]
            linked = self.linked_ids(entity, key, missing) if missing else {}
            for r in records:
                if r.get(key) is None:
                    r[key] = linked.get(r["id"], [])
                wanted |= set(r[key])
        else:
            wanted = {r[key] for r in records if r.get(key) is not None}
        found: dict[int, dict[str, Any]] = {}
        hidden = self.hidden(target)
        reader = row_reader(target, table)
        for start in range(0, len(wanted), 1000):
            batch = sorted(wanted)[start : start + 1000]
            rows = self.conn.execute(
                sa.select(table).where(table.c.id.in_(batch), *self.visible(target, table))
            )
            for record in reader.records(rows):
                if self.scope.can("read", target, record):
                    found[record["id"]] = {k: v for k, v in record.items() if k not in hidden}
        for r in records:
            value = r.get(key)
            if f.type == "multi_link":
                r[key] = [found.get(i, {"id": i}) for i in value or ()]
            elif value is not None:
                r[key] = found.get(value, {"id": value})

    # -- public reads ----------------------------------------------------------------------
    def get(
        self,
        entity: str,
        record_id: int,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] = (),
        trashed: bool | None = False,
    ) -> dict[str, Any]:
        """One record: every field (child tables and multi links included) unless ``fields``
        narrows it; ``expand`` replaces link ids with the linked records the actor may see."""
        model = self.entity(entity)
        keys = self._fields(model, fields, default_all=True)
        found = self._row(model, record_id, trashed=trashed)
        return self.shape(model, [found], keys, expand)[0]

    def list(self, entity: str, query: ListQuery | None = None) -> Page:
        """A page of records; see :class:`ListQuery`."""
        q = query or ListQuery()
        model = self.entity(entity)
        table = self.table(model)
        if not self.scope.can("read", model, None):
            return Page([], None, 0 if q.with_total else None)
        if not isinstance(q.limit, int) or not 1 <= q.limit <= MAX_LIMIT:
            raise ValidationFailed.one(
                "limit", _l("the page size is 1 to %(max)s"), "bad_limit", max=MAX_LIMIT
            )
        keys = self._fields(model, q.fields, default_all=False)
        where = self.where(model, table, q)
        hidden = self.hidden(model)
        sort = [
            (sort_column(model, table, key, f"sort[{i}]", hidden), direction)
            for i, (key, direction) in enumerate(check_sort(q.sort))
            if key != "id"
        ]
        id_direction = q.sort[-1][1] if q.sort else "asc"
        fingerprint = _fingerprint(q, sort)
        cursor = self.decode_cursor(q.after, fingerprint, sort) if q.after else None
        rows = self._page(table, where, sort, id_direction, cursor, q.limit + 1)
        next_cursor = None
        if len(rows) > q.limit:
            rows = rows[: q.limit]
            last = rows[-1]._mapping
            next_cursor = self.encode_cursor(
                fingerprint, [last[c.name] for c, _ in sort], last["id"]
            )
        total = None
        if q.with_total:
            total = int(
                self.conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0
            )
        return Page(self.shape(model, rows, keys, q.expand), next_cursor, total)

    def count(self, entity: str, query: ListQuery | None = None) -> int:
        model = self.entity(entity)
        table = self.table(model)
        if not self.scope.can("read", model, None):
            return 0
        where = self.where(model, table, query or ListQuery())
        return int(
            self.conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0
        )

    def where(
        self, model: EntityModel, table: sa.Table, q: ListQuery
    ) -> builtins.list[sa.ColumnElement[bool]]:
        deleted = table.c.deleted_at
        where: builtins.list[sa.ColumnElement[bool]] = [
            deleted.is_not(None) if q.trashed else deleted.is_(None)
        ]
        where += self.visible(model, table)
        if q.filter is not None:
            compiler = FilterCompiler(
                self.app, model, table,
                self.reachable_tables() if isinstance(q.filter, str) else self.tables,
                self.compiled.schema, self.context(), self.dialect, hidden=self.hidden,
            )  # fmt: skip
            if isinstance(q.filter, str):
                where.append(compiler.formula(q.filter))
            else:
                where.append(compiler.json(q.filter))
        if q.where is not None:
            compiler = FilterCompiler(
                self.app, model, table, self.reachable_tables(), self.compiled.schema,
                self.context(), self.dialect, hidden=self.hidden,
            )  # fmt: skip
            where.append(compiler.formula(q.where, "where"))
        if q.search:
            if not isinstance(q.search, str) or len(q.search) > 200:
                raise ValidationFailed.one(
                    "search", _l("search for at most 200 characters"), "bad_search"
                )
            condition = search_condition(
                self.conn, model, table, q.search, hidden=self.hidden(model)
            )
            if condition is not None:
                where.append(condition)
        return where

    def _page(
        self,
        table: sa.Table,
        where: builtins.list[sa.ColumnElement[bool]],
        sort: builtins.list[tuple[sa.Column[Any], str]],
        id_direction: str,
        cursor: tuple[bool, builtins.list[Any], int] | None,
        limit: int,
    ) -> builtins.list[sa.Row[Any]]:
        def order(column: Any, direction: str, nulls_last: bool = True) -> Any:
            ordered = column.desc() if direction == "desc" else column.asc()
            return ordered.nulls_last() if nulls_last else ordered

        def beyond(column: Any, value: Any, direction: str) -> Any:
            if value is None:
                return sa.false()  # blanks are last: nothing sorts after a blank
            past = column < value if direction == "desc" else column > value
            return sa.or_(past, column.is_(None))

        def equal(column: Any, value: Any) -> Any:
            return column.is_(None) if value is None else column == value

        def after(keys: builtins.list[tuple[Any, str, Any]], last_id: int) -> Any:
            if not keys:
                return table.c.id < last_id if id_direction == "desc" else table.c.id > last_id
            (column, direction, value), rest = keys[0], keys[1:]
            return sa.or_(
                beyond(column, value, direction),
                sa.and_(equal(column, value), after(rest, last_id)),
            )

        id_order = table.c.id.desc() if id_direction == "desc" else table.c.id.asc()
        if not sort:
            query = sa.select(table).where(*where)
            if cursor is not None:
                query = query.where(after([], cursor[2]))
            return list(self.conn.execute(query.order_by(id_order).limit(limit)).all())
        first, direction = sort[0]
        rest = sort[1:]
        rows: builtins.list[sa.Row[Any]] = []
        in_blanks = cursor is not None and cursor[0]
        if not in_blanks:
            query = sa.select(table).where(*where, first.is_not(None))
            if cursor is not None:
                value = cursor[1][0]
                bound = first <= value if direction == "desc" else first >= value
                keys = [(c, d, v) for (c, d), v in zip(rest, cursor[1][1:], strict=True)]
                query = query.where(
                    bound,
                    sa.or_(
                        first < value if direction == "desc" else first > value,
                        sa.and_(first == value, after(keys, cursor[2])),
                    ),
                )
            query = query.order_by(
                order(first, direction, nulls_last=False), *[order(c, d) for c, d in rest], id_order
            )
            rows = list(self.conn.execute(query.limit(limit)).all())
        if len(rows) < limit:
            query = sa.select(table).where(*where, first.is_(None))
            if in_blanks and cursor is not None:
                keys = [(c, d, v) for (c, d), v in zip(rest, cursor[1][1:], strict=True)]
                query = query.where(after(keys, cursor[2]))
            query = query.order_by(*[order(c, d) for c, d in rest], id_order)
            rows += self.conn.execute(query.limit(limit - len(rows))).all()
        return rows

    # -- cursors ---------------------------------------------------------------------------
    def encode_cursor(self, fingerprint: str, values: builtins.list[Any], last_id: int) -> str:
        blank = bool(values) and values[0] is None
        body = json.dumps([fingerprint, blank, jsonable(values), last_id], separators=(",", ":"))
        token = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        if self.cursor_key:
            token += "." + _sign(self.cursor_key, token)
        return token

    def decode_cursor(
        self, token: Any, fingerprint: str, sort: builtins.list[tuple[sa.Column[Any], str]]
    ) -> tuple[bool, builtins.list[Any], int]:
        bad = ValidationFailed.one(
            "after", _l("this page cursor is not valid for this list"), "bad_cursor"
        )
        if not isinstance(token, str) or len(token) > 2000:
            raise bad
        body, _, signature = token.partition(".")
        if self.cursor_key and not hmac.compare_digest(signature, _sign(self.cursor_key, body)):
            raise bad
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            mark, blank, values, last_id = data
        except (ValueError, TypeError):
            raise bad from None
        if (
            mark != fingerprint
            or not isinstance(blank, bool)
            or not isinstance(values, list)
            or len(values) != len(sort)
            or not isinstance(last_id, int)
        ):
            raise bad
        try:
            parsed = [
                None if v is None else _parse(column, v)
                for (column, _), v in zip(sort, values, strict=True)
            ]
        except (ValueError, TypeError, ArithmeticError):
            raise bad from None
        return blank, parsed, last_id


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:24]


def _fingerprint(q: ListQuery, sort: list[tuple[sa.Column[Any], str]]) -> str:
    """Ties a cursor to its list: another filter, search or sort makes it invalid."""
    spec = json.dumps(
        [jsonable(q.filter), q.where, q.search, [(c.name, d) for c, d in sort], q.trashed],
        sort_keys=True, default=str,
    )  # fmt: skip
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def _parse(column: sa.Column[Any], value: Any) -> Any:
    """A cursor value back in its column's Python type (JSON carries text for the rest)."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        parsed = dt.datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date.fromisoformat(str(value))
    if isinstance(kind, sa.Time):
        return dt.time.fromisoformat(str(value))
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        from decimal import Decimal

        return Decimal(str(value))
    if isinstance(kind, sa.Integer | sa.Float | sa.Boolean | sa.String):
        if isinstance(kind, sa.String) and not isinstance(value, str):
            raise ValueError(value)
        return value
    return value


def timeline(
    app: AppModel, entity: EntityModel, entries: Sequence[Any], locale: str
) -> list[TimelineEntry]:
    """Audit entries as a readable timeline: field labels, values formatted for ``locale``."""
    out: list[TimelineEntry] = []
    for entry in entries:
        changes = []
        for key, pair in sorted(entry.changes.items()):
            if key == "version" or not isinstance(pair, list) or len(pair) != 2:
                continue
            label = entity.field(key).label(locale) if entity.has_field(key) else humanise(key)
            changes.append(
                Change(key, label, pair[0], pair[1], _text(entity, key, pair[0], locale),
                       _text(entity, key, pair[1], locale))
            )  # fmt: skip
        key = getattr(entry, "actor_key", None)
        out.append(
            TimelineEntry(entry.at, entry.action, entry.actor_id, entry.actor_name, entry.via,
                          changes, key, getattr(entry, "source", None))
        )  # fmt: skip
    return out


def _text(entity: EntityModel, key: str, value: Any, locale: str) -> str:
    if value is None:
        return ""
    if not entity.has_field(key) or (isinstance(value, str) and value == "[redacted]"):
        return str(value)
    f = entity.field(key)
    if f.type in ("child_table", "multi_link"):
        return f"{len(value)} rows" if isinstance(value, list) else str(value)
    try:
        return f.kind.format(f.spec, f.kind.validate(f.spec, value), locale)
    except (ValueError, TypeError, KeyError, ArithmeticError):
        return str(value)
