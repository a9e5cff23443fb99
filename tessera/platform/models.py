"""The platform's own tables: identity, apps and their versions, jobs, timers, events, audit.

These are ordinary SQLAlchemy declarative models.  They are created and changed only by the
Alembic migrations in ``migrations/``; a test compares this metadata with a migrated database so
the two cannot drift apart.  User data lives elsewhere, in tables built from app definitions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tessera.engines.sqltypes import BigId, Json, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: Json,
        list[Any]: Json,
        datetime: UtcDateTime(),
    }


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL", use_alter=True), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(default=True)
    #: system_admin, app_builder or member: what the user may do to the platform itself.
    platform_role: Mapped[str] = mapped_column(sa.String(20), default="member")
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]


class App(Base):
    """An installed app; its definitions live in :class:`AppVersion` rows."""

    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    label: Mapped[dict[str, Any]]
    #: The working copy the builder edits; validated on every save, published on request.
    draft: Mapped[dict[str, Any] | None]
    draft_updated_at: Mapped[datetime | None]
    published_version: Mapped[int | None]
    template: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class AppVersion(Base):
    """One published definition of an app; rows are never changed after insert."""

    __tablename__ = "app_versions"
    __table_args__ = (sa.UniqueConstraint("app_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app_id: Mapped[int] = mapped_column(sa.ForeignKey("apps.id", ondelete="CASCADE"))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]]
    #: The schema plan applied when this version was published, in words, for the history view.
    plan: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class Job(Base):
    """A unit of background work.  This row is the truth; the RQ message only carries its id."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task: Mapped[str] = mapped_column(sa.String(100))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: queued -> running -> done | failed; running -> retrying -> queued on a retryable error.
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the id was last handed to Redis; the sweeper re-sends ids that were never picked up.
    pushed_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(sa.String(200))
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(sa.String(500))
    error: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[dict[str, Any] | None]
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Timer(Base):
    """A durable wake-up: process waits, SLA deadlines, journey delays (Camunda's job table)."""

    __tablename__ = "timers"
    __table_args__ = (sa.Index("ix_timers_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100))
    ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime]
    #: pending -> claimed -> fired | cancelled
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    lock_owner: Mapped[str | None] = mapped_column(sa.String(200))
    lock_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    fired_at: Mapped[datetime | None]
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """The transactional outbox: written with the change that caused it, consumed after commit."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_dispatched_at_id", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    app: Mapped[str | None] = mapped_column(sa.String(40))
    entity: Mapped[str | None] = mapped_column(sa.String(60))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    via: Mapped[str] = mapped_column(sa.String(20), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what, when and through which door; field-level diffs for record writes."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_record", "app", "entity", "record_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    via: Mapped[str] = mapped_column(sa.String(20), default="system")
    action: Mapped[str] = mapped_column(sa.String(40))
    app: Mapped[str | None] = mapped_column(sa.String(40))
    entity: Mapped[str | None] = mapped_column(sa.String(60))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(64))


class Heartbeat(Base):
    """The last sign of life of each web, worker and scheduler process, for /healthz."""

    __tablename__ = "heartbeats"
    __table_args__ = (sa.Index("ix_heartbeats_kind_seen_at", "kind", "seen_at"),)

    instance: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    hostname: Mapped[str] = mapped_column(sa.String(200))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lock with an owner and an expiry, shared by every machine through the database."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime]
