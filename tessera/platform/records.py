"""The platform side of the records service: its journal and a one-line way to get a service.

:class:`PlatformJournal` writes the audit trail into ``audit_log`` and the transactional outbox
into ``events``, with the caller's connection, so a record write, its audit row and its event
commit or roll back together.  A batch of entries is two executemany statements, whatever its
size; a single entry on PostgreSQL is one statement (the audit insert as a CTE of the event's).
:func:`service_for` builds a :class:`RecordService` for an app's live version.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

import sqlalchemy as sa

from tessera.engines.driver import DriverStatement, driver_params, driver_statement
from tessera.engines.forms import (
    Actor,
    JournalEntry,
    JournalRecord,
    RecordService,
    Scope,
    utc_now,
)
from tessera.engines.forms.context import Clock
from tessera.engines.forms.inserts import json_text
from tessera.platform import apps
from tessera.platform.models import AuditEntry, Event, User

AUDIT: sa.Table = AuditEntry.__table__  # type: ignore[assignment]
EVENTS: sa.Table = Event.__table__  # type: ignore[assignment]


# The journal's statements, built once so SQLAlchemy compiles each once per dialect; both take
# the same parameters (named apart from the columns, as insert() requires).
def _param(name: str, column: sa.Column[Any]) -> Any:
    return sa.bindparam(name, type_=column.type)


#: each table's columns and the parameter that fills each (the two share parameters)
_AUDIT_PARAMS = {
    "at": "j_at", "actor_id": "j_actor", "actor_key": "j_actor_key",
    "actor_name": "j_actor_name", "via": "j_via", "action": "j_action", "app": "j_app",
    "entity": "j_entity", "record_id": "j_record", "changes": "j_changes", "ip": "j_ip",
    "source": "j_source",
}  # fmt: skip
_EVENT_PARAMS = {
    "kind": "j_action", "app": "j_app", "entity": "j_entity", "record_id": "j_record",
    "payload": "j_payload", "actor_id": "j_actor", "via": "j_via", "created_at": "j_at",
}  # fmt: skip


def _binds(table: sa.Table, params: Mapping[str, str]) -> dict[str, Any]:
    return {column: _param(name, table.c[column]) for column, name in params.items()}


_AUDIT_INSERT = sa.insert(AUDIT).values(**_binds(AUDIT, _AUDIT_PARAMS))
_EVENT_INSERT = sa.insert(EVENTS).values(**_binds(EVENTS, _EVENT_PARAMS))
#: PostgreSQL: the audit row as a data-modifying CTE of the event's INSERT (one statement)
_JOURNAL_ONE_STATEMENT = _EVENT_INSERT.add_cte(_AUDIT_INSERT.cte("journal_audit"))


#: PostgreSQL, a batch of entries: the varying values as one JSON document (one parameter the
#: C encoder writes; arrays of JSON text made the driver escape every quote in Python), audit
#: rows as a data-modifying CTE and events in one statement.  Event payloads go once each in
#: ``payloads`` and rows name theirs by position: the records of a bulk create share one, and
#: turning a thousand copies of it into JSONB was a fifth of the statement's time.
_JOURNAL_RECORDSET = (
    "WITH u AS (SELECT * FROM json_to_recordset(%(rows)s::json) AS u(action VARCHAR, "
    "app VARCHAR, entity VARCHAR, record_id BIGINT, changes JSONB, p INT)), "
    "journal_audit AS (INSERT INTO audit_log "
    "(at, actor_id, actor_key, actor_name, via, action, app, entity, record_id, changes, ip, "
    "source) "
    "SELECT %(at)s::TIMESTAMPTZ, %(actor)s::BIGINT, %(actor_key)s::VARCHAR, "
    "%(actor_name)s::VARCHAR, %(via)s::VARCHAR, u.action, u.app, u.entity, "
    "u.record_id, u.changes, %(ip)s::VARCHAR, %(source)s::VARCHAR FROM u) "
    "INSERT INTO events (kind, app, entity, record_id, payload, actor_id, via, created_at) "
    "SELECT u.action, u.app, u.entity, u.record_id, %(payloads)s::JSONB -> u.p, "
    "%(actor)s::BIGINT, %(via)s::VARCHAR, %(at)s::TIMESTAMPTZ FROM u"
)
_DRIVER: weakref.WeakKeyDictionary[sa.Dialect, list[DriverStatement]] = weakref.WeakKeyDictionary()


def _driver_statements(dialect: sa.Dialect) -> list[DriverStatement]:
    """The journal's two INSERTs (audit, event) for a positional-parameter driver (SQLite),
    compiled once per dialect (:func:`~tessera.engines.driver.driver_statement`)."""
    found = _DRIVER.get(dialect)
    if found is None:
        found = _DRIVER[dialect] = [
            driver_statement(statement, dialect) for statement in (_AUDIT_INSERT, _EVENT_INSERT)
        ]
    return found


def _processed(
    steps: list[tuple[str, Any]],
    constant: Mapping[str, Any],
    varying: Mapping[str, list[Any]],
    count: int,
) -> list[tuple[Any, ...]]:
    """The driver's parameter tuples of ``count`` entries, built column by column: a value that
    is the same for the whole batch (``constant``: the time, the actor, the address) is
    processed once; of the ``varying`` columns, each row's ``changes`` is serialised, and the
    rest (action, app, entity, the payloads that entries of one shape share) once per value."""
    columns: list[Any] = []
    for name, process in steps:
        if name in constant:
            value = constant[name]
            columns.append(repeat(value if process is None else process(value), count))
            continue
        values = varying[name]
        if process is None:
            columns.append(values)
        elif name == "j_changes":
            columns.append([process(v) for v in values])
        else:  # hashable values, or payload dicts shared by entries of one shape
            memo: dict[Any, Any] = {}
            column = []
            for v in values:
                memo_key = id(v) if type(v) is dict else v
                hit = memo.get(memo_key, memo)
                if hit is memo:
                    hit = memo[memo_key] = process(v)
                column.append(hit)
            columns.append(column)
    return list(zip(*columns, strict=False))  # repeat() is endless: the varying columns end it


def _actor_names(actor: Actor) -> tuple[str | None, str | None]:
    """An automation's key and name for the audit row; a user's name is read from ``users``
    when history is shown, so a user has neither."""
    return (actor.key, actor.name[:200]) if actor.key else (None, None)


_WITH_ROW: weakref.WeakKeyDictionary[sa.Insert, sa.Select[Any]] = weakref.WeakKeyDictionary()


def _with_row(insert: sa.Insert) -> sa.Select[Any]:
    """``WITH new_row AS (<insert> RETURNING id), journal_audit AS (INSERT INTO audit_log …
    SELECT … FROM new_row), journal_event AS (INSERT INTO events … SELECT … FROM new_row)
    SELECT id FROM new_row``, built once per insert statement (the records service keeps one per
    table), so SQLAlchemy compiles it once."""
    found = _WITH_ROW.get(insert)
    if found is not None:
        return found
    new_row = insert.cte("new_row")
    made = sa.select(new_row.c.id)
    for table, params in ((AUDIT, _AUDIT_PARAMS), (EVENTS, _EVENT_PARAMS)):
        values = {**_binds(table, params), "record_id": new_row.c.id}
        columns = [table.c[name] for name in values]
        chosen = list(values.values())
        made = made.add_cte(
            sa.insert(table).from_select(columns, sa.select(*chosen)).cte(f"journal_{table.name}")
        )
    _WITH_ROW[insert] = made
    return made


class PlatformJournal:
    """The :class:`~tessera.engines.forms.Journal` over ``audit_log`` and ``events``.

    ``ip`` is the client address for the audit rows (the web layer passes it in; the engine
    knows nothing of requests).
    """

    def __init__(self, ip: str | None = None) -> None:
        self.ip = ip

    def write(
        self, conn: sa.Connection, actor: Actor, at: dt.datetime, entries: Sequence[JournalEntry]
    ) -> None:
        if not entries:
            return
        key, name = _actor_names(actor)
        if len(entries) == 1:
            self._write_one(conn, self._params(actor, key, name, at, entries[0]))
            return
        changes = [e.changes if type(e.changes) is dict else dict(e.changes) for e in entries]
        payloads = self._payloads(entries, key)
        if conn.dialect.name == "sqlite" and conn.in_transaction():
            # an in-process database: the cost is SQLAlchemy's per-statement work, so the two
            # statements, compiled once, go to the driver's connection (the same connection, in
            # the same transaction) with parameters processed as SQLAlchemy would
            driver = conn.connection.dbapi_connection
            assert driver is not None
            constant = {"j_at": at, "j_actor": actor.user_id, "j_actor_key": key,
                        "j_actor_name": name, "j_via": actor.via, "j_ip": self.ip,
                        "j_source": actor.source or None}  # fmt: skip
            varying: dict[str, list[Any]] = {
                "j_action": [e.action for e in entries], "j_app": [e.app for e in entries],
                "j_entity": [e.entity for e in entries],
                "j_record": [e.record_id for e in entries],
                "j_changes": changes, "j_payload": payloads,
            }  # fmt: skip
            for sql, steps in _driver_statements(conn.dialect):
                driver.executemany(sql, _processed(steps, constant, varying, len(entries)))
        elif conn.dialect.name == "postgresql":
            # a batch: both tables in one statement, the varying values as one JSON document
            position: dict[int, int] = {}  # id(payload) → its place in ``distinct``
            distinct: list[dict[str, Any]] = []
            for payload in payloads:
                if id(payload) not in position:
                    position[id(payload)] = len(distinct)
                    distinct.append(payload)
            rows = [
                {"action": e.action, "app": e.app, "entity": e.entity, "record_id": e.record_id,
                 "changes": c, "p": position[id(p)]}
                for e, c, p in zip(entries, changes, payloads, strict=True)
            ]  # fmt: skip
            conn.exec_driver_sql(
                _JOURNAL_RECORDSET,
                {
                    "at": at, "actor": actor.user_id, "actor_key": key, "actor_name": name,
                    "payloads": json_text(distinct),
                    "via": actor.via, "ip": self.ip, "rows": json_text(rows),
                    "source": actor.source or None,
                },
            )  # fmt: skip
        else:
            rows = [self._params(actor, key, name, at, e) for e in entries]
            conn.execute(_AUDIT_INSERT, rows)
            conn.execute(_EVENT_INSERT, rows)

    def _write_one(self, conn: sa.Connection, params: dict[str, Any]) -> None:
        """One entry: on SQLite straight to the driver, on PostgreSQL one statement."""
        if conn.dialect.name == "sqlite" and conn.in_transaction():
            driver = conn.connection.dbapi_connection
            assert driver is not None
            for sql, steps in _driver_statements(conn.dialect):
                driver.execute(sql, driver_params(steps, params))
        elif conn.dialect.name == "postgresql":
            conn.execute(_JOURNAL_ONE_STATEMENT, params)  # one round trip for both rows
        else:
            conn.execute(_AUDIT_INSERT, params)
            conn.execute(_EVENT_INSERT, params)

    @staticmethod
    def _payload(entry: JournalEntry, key: str | None) -> dict[str, Any]:
        """The event's payload: the fields that changed, the new version, an automation's key."""
        payload: dict[str, Any] = {"changed": entry.changed, "version": entry.version}
        if key:
            payload["actor"] = key
        return payload

    def _payloads(self, entries: Sequence[JournalEntry], key: str | None) -> list[dict[str, Any]]:
        """Each entry's payload; entries with the same changed fields and version (the records
        of one bulk create) share one payload object instead of sorting their keys again."""
        shared: dict[tuple[Any, ...], dict[str, Any]] = {}
        out = []
        for e in entries:
            shape = (*e.changes, e.version)
            payload = shared.get(shape)
            if payload is None:
                payload = shared[shape] = self._payload(e, key)
            out.append(payload)
        return out

    def write_with_row(
        self,
        conn: sa.Connection,
        actor: Actor,
        at: dt.datetime,
        entry: JournalEntry,
        insert: sa.Insert,
        params: Mapping[str, Any],
    ) -> int:
        """PostgreSQL: the new row, its audit row and its event in one statement (see
        :class:`~tessera.engines.forms.context.RowJournal`)."""
        key, name = _actor_names(actor)
        journal = self._params(actor, key, name, at, entry)
        return int(conn.execute(_with_row(insert), {**params, **journal}).scalar_one())

    def _params(
        self, actor: Actor, key: str | None, name: str | None, at: dt.datetime, e: JournalEntry
    ) -> dict[str, Any]:
        """The parameters of one entry's two INSERTs (named ``j_…``)."""
        return {
            "j_at": at, "j_actor": actor.user_id, "j_actor_key": key, "j_actor_name": name,
            "j_via": actor.via, "j_action": e.action,
            "j_app": e.app, "j_entity": e.entity, "j_record": e.record_id,
            "j_changes": e.changes if type(e.changes) is dict else dict(e.changes),
            "j_ip": self.ip, "j_source": actor.source or None,
            "j_payload": self._payload(e, key),
        }  # fmt: skip

    def entries(
        self, conn: sa.Connection, app: str, entity: str, record_id: int
    ) -> list[JournalRecord]:
        users: sa.Table = User.__table__  # type: ignore[assignment]
        query = (
            sa.select(AUDIT, users.c.name.label("user_name"))
            .select_from(AUDIT.outerjoin(users, users.c.id == AUDIT.c.actor_id))
            .where(AUDIT.c.app == app, AUDIT.c.entity == entity, AUDIT.c.record_id == record_id)
            .order_by(AUDIT.c.id)
        )
        return [
            JournalRecord(
                r.at, r.action, r.actor_id, r.user_name if r.actor_key is None else r.actor_name,
                r.via, dict(r.changes or {}), r.actor_key, r.source,
            )
            for r in conn.execute(query)
        ]  # fmt: skip


def service_for(
    conn: sa.Connection,
    app_key: str,
    actor: Actor,
    *,
    scope: Scope | None = None,
    clock: Clock = utc_now,
    ip: str | None = None,
    cursor_key: bytes | None = None,
) -> RecordService:
    """A records service for the live version of ``app_key``, in ``conn``'s transaction.

    Pass the platform's secret as ``cursor_key`` so page cursors are signed.
    """
    live = apps.published(conn, app_key)
    return RecordService(
        conn, live.model, live.metadata, PlatformJournal(ip), actor,
        clock=clock, scope=scope, cursor_key=cursor_key,
    )  # fmt: skip


# -- the permission hook for web and API callers ---------------------------------------------
#: ``provider(conn, app_key, actor) -> Scope | None``; the permission engine installs one with
#: :func:`set_scope_provider`.  Until then every signed-in caller gets the service's default.
ScopeProvider = Callable[[sa.Connection, str, Actor], Scope | None]
_scope_provider: ScopeProvider | None = None


def set_scope_provider(provider: ScopeProvider | None) -> ScopeProvider | None:
    """Install the function that turns an actor into a permission scope; returns the old one."""
    global _scope_provider
    previous, _scope_provider = _scope_provider, provider
    return previous


def scope_for(conn: sa.Connection, app_key: str, actor: Actor) -> Scope | None:
    """The permission scope of ``actor`` in ``app_key`` (None: the service's default)."""
    return _scope_provider(conn, app_key, actor) if _scope_provider is not None else None
