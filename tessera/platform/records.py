"""The platform side of the records service: its journal and a one-line way to get a service.

:class:`PlatformJournal` writes the audit trail into ``audit_log`` and the transactional outbox
into ``events``, with the caller's connection, so a record write, its audit row and its event
commit or roll back together.  A batch of entries is two executemany statements, whatever its
size.  :func:`service_for` builds a :class:`RecordService` for an app's live version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from tessera.engines.forms import (
    Actor,
    JournalEntry,
    JournalRecord,
    RecordService,
    Scope,
    utc_now,
)
from tessera.engines.forms.context import Clock
from tessera.platform import apps
from tessera.platform.models import AuditEntry, Event, User

AUDIT: sa.Table = AuditEntry.__table__  # type: ignore[assignment]
EVENTS: sa.Table = Event.__table__  # type: ignore[assignment]


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
        conn.execute(
            sa.insert(AUDIT),
            [
                {
                    "at": at, "actor_id": actor.user_id, "via": actor.via, "action": e.action,
                    "app": e.app, "entity": e.entity, "record_id": e.record_id,
                    "changes": dict(e.changes), "ip": self.ip,
                }
                for e in entries
            ],
        )  # fmt: skip
        conn.execute(
            sa.insert(EVENTS),
            [
                {
                    "kind": e.action, "app": e.app, "entity": e.entity, "record_id": e.record_id,
                    "payload": {"changed": e.changed, "version": e.version},
                    "actor_id": actor.user_id, "via": actor.via, "created_at": at,
                }
                for e in entries
            ],
        )  # fmt: skip

    def entries(
        self, conn: sa.Connection, app: str, entity: str, record_id: int
    ) -> list[JournalRecord]:
        users: sa.Table = User.__table__  # type: ignore[assignment]
        query = (
            sa.select(AUDIT, users.c.name.label("actor_name"))
            .select_from(AUDIT.outerjoin(users, users.c.id == AUDIT.c.actor_id))
            .where(AUDIT.c.app == app, AUDIT.c.entity == entity, AUDIT.c.record_id == record_id)
            .order_by(AUDIT.c.id)
        )
        return [
            JournalRecord(r.at, r.action, r.actor_id, r.actor_name, r.via, dict(r.changes or {}))
            for r in conn.execute(query)
        ]


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
