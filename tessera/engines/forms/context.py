"""What a records service is given: who acts, what they may do, where the trail goes.

The service never reads globals: the platform (or a test) passes an :class:`Actor`, a
:class:`Scope` (the permission hook every read and write goes through), a :class:`Journal` (the
audit trail and the event outbox, written in the caller's transaction) and a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import sqlalchemy as sa

from tessera.engines.definitions import EntityModel

Via = Literal["page", "api", "import", "rule", "process", "system"]
VIAS: tuple[str, ...] = ("page", "api", "import", "rule", "process", "system")
Action = Literal["read", "create", "update", "delete", "restore", "purge"]
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Actor:
    """Who writes or reads, and through which door (``via``)."""

    user_id: int | None
    via: Via
    name: str = ""
    department_id: int | None = None
    time_zone: str = "UTC"
    locale: str = "en"
    #: Who acts when it is not a user: ``automation:<rule key>`` (stored with ``name`` in the
    #: audit trail, so history shows "Automation: <rule name>"); empty for users.
    key: str = ""
    #: The one app an automation belongs to (it may not touch any other); None for users.
    app: str | None = None
    #: The app roles an automation runs with; empty: every record of its own app.
    roles: frozenset[str] = frozenset()
    #: What the writes come from within ``via``, kept in the audit trail: ``import:<id>``
    #: for an import (the record's history names its file); empty for most writes.
    source: str = ""

    def __post_init__(self) -> None:
        if self.via not in VIAS:
            raise ValueError(f"via must be one of {', '.join(VIAS)}, not {self.via!r}")

    @property
    def is_automation(self) -> bool:
        return self.key.startswith("automation:")


class Scope(Protocol):
    """The permission hook.  ``read_filter`` narrows every read (get, list, search, count,
    expand, history, link checks); ``can`` guards each action on a record (``None`` for an
    action on the entity as a whole); ``writable_fields`` is None for "every field"."""

    def read_filter(self, entity: EntityModel, table: sa.Table) -> sa.ColumnElement[bool] | None:
        """A condition rows of ``table`` must meet to be visible, or None for all rows."""
        ...

    def can(self, action: Action, entity: EntityModel, record: Mapping[str, Any] | None) -> bool:
        """Whether the actor may do ``action`` to ``record`` (or to the entity)."""
        ...

    def writable_fields(self, entity: EntityModel) -> set[str] | None:
        """Field keys (and ``owner``) the actor may write, or None for all."""
        ...

    def refused(
        self, action: Action, entity: EntityModel, records: Sequence[Mapping[str, Any]]
    ) -> list[Any]:
        """The ids of the stored ``records`` the actor may not ``action``, in their order:
        :meth:`can` for a whole chunk at once (a bulk create checks its rows after writing
        them, and one query per chunk beats one per row)."""
        ...


class AllowAll:
    """The default scope: everything visible, everything allowed."""

    def read_filter(self, entity: EntityModel, table: sa.Table) -> sa.ColumnElement[bool] | None:
        return None

    def can(self, action: Action, entity: EntityModel, record: Mapping[str, Any] | None) -> bool:
        return True

    def writable_fields(self, entity: EntityModel) -> set[str] | None:
        return None

    def refused(
        self, action: Action, entity: EntityModel, records: Sequence[Mapping[str, Any]]
    ) -> list[Any]:
        return []


class DenyAll:
    """Nothing visible, nothing allowed (an automation in an app that is not its own)."""

    def read_filter(self, entity: EntityModel, table: sa.Table) -> sa.ColumnElement[bool] | None:
        return sa.false()

    def can(self, action: Action, entity: EntityModel, record: Mapping[str, Any] | None) -> bool:
        return False

    def writable_fields(self, entity: EntityModel) -> set[str] | None:
        return set()

    def refused(
        self, action: Action, entity: EntityModel, records: Sequence[Mapping[str, Any]]
    ) -> list[Any]:
        return [r.get("id") for r in records]

    def hidden_fields(self, entity: EntityModel) -> set[str]:
        return {f.key for f in entity.fields}


@dataclass(frozen=True)
class JournalEntry:
    """One record write as the audit trail and the outbox see it.

    ``changes`` is ``{field: [old, new]}`` for changed fields only, JSON-ready and with secret
    fields redacted; ``version`` is the record's version after the write (None after purge).
    """

    action: Literal["created", "updated", "deleted", "restored", "purged"]
    app: str
    entity: str
    record_id: int
    version: int | None
    changes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        return sorted(k for k in self.changes if k != "version")


@dataclass(frozen=True)
class JournalRecord:
    """A stored audit entry, read back for a record's history."""

    at: dt.datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    via: str
    changes: Mapping[str, Any]
    #: ``automation:<rule key>`` when an automation wrote (``actor_name`` is then its name)
    actor_key: str | None = None
    #: ``import:<id>`` when an import wrote (see :attr:`Actor.source`)
    source: str | None = None


class Journal(Protocol):
    """Writes audit rows and outbox events in the caller's connection (same transaction)."""

    def write(
        self, conn: sa.Connection, actor: Actor, at: dt.datetime, entries: Sequence[JournalEntry]
    ) -> None:
        """Store one audit row and one event per entry (a few statements for the whole batch)."""
        ...

    def entries(
        self, conn: sa.Connection, app: str, entity: str, record_id: int
    ) -> list[JournalRecord]:
        """The audit entries of one record, oldest first."""
        ...


@runtime_checkable
class RowJournal(Journal, Protocol):
    """A :class:`Journal` that can also write a new row *and* its entry in one statement.

    PostgreSQL runs data-modifying CTEs, so a single create there is one round trip instead of
    two: the row's ``INSERT … RETURNING id`` as a CTE, the audit row and the event reading the
    id from it.  The service uses it when the entry is known before the row is written."""

    def write_with_row(
        self,
        conn: sa.Connection,
        actor: Actor,
        at: dt.datetime,
        entry: JournalEntry,
        insert: sa.Insert,
        params: Mapping[str, Any],
    ) -> int:
        """Execute ``insert`` (one row, returning its id) with ``params``, and the entry's
        audit row and event for that id (``entry.record_id`` is not read); the new id."""
        ...
