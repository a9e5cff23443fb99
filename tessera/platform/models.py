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
    #: The schema plan applied when this version was published, in words, for the history view:
    #: ``{"format": "tessera.plan/2", "steps": […]}``, or a list of English lines in rows
    #: written before that format (``tessera.platform.app_plans`` reads both).
    plan: Mapped[dict[str, Any] | list[Any]] = mapped_column(Json, default=list)
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
    #: an actor that is not a user: ``automation:<rule key>``, with its name at the time
    actor_key: Mapped[str | None] = mapped_column(sa.String(120))
    actor_name: Mapped[str | None] = mapped_column(sa.String(200))
    via: Mapped[str] = mapped_column(sa.String(20), default="system")
    action: Mapped[str] = mapped_column(sa.String(40))
    app: Mapped[str | None] = mapped_column(sa.String(40))
    entity: Mapped[str | None] = mapped_column(sa.String(60))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    #: what the write came from within its channel: ``import:<import id>`` for an import
    source: Mapped[str | None] = mapped_column(sa.String(120))


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


# --- Identity: roles, sessions, tokens, password resets, sign-in throttling ---------------------


class Role(Base):
    """A named group of users (``sales_director``); app permissions and rules use its key."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: ``{"en": "Sales director", "zh-CN": "销售总监"}``
    label: Mapped[dict[str, Any]]
    description: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleMembership(Base):
    __tablename__ = "role_memberships"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthSession(Base):
    """A signed-in browser.  The cookie carries a random id; only its SHA-256 is stored, so a
    leaked database does not sign anyone in, and sign-out or deactivation ends it at once."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))


class ApiToken(Base):
    """A personal token for the REST API: ``tsr_<prefix>_<secret>``; the secret is shown once
    and only its SHA-256 is kept (a high-entropy secret needs no slow hash)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: The public part, shown in lists so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[list[Any]]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class PasswordResetToken(Base):
    """A one-time link sent by email (reset or first password); hashed, single use, expiring."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: reset (asked for by the user or an admin) or invite (a new account's first password)
    purpose: Mapped[str] = mapped_column(sa.String(20), default="reset")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    requested_ip: Mapped[str | None] = mapped_column(sa.String(64))


class SignInThrottle(Base):
    """Failed sign-ins per email address (known or not, so a lockout reveals nothing)."""

    __tablename__ = "sign_in_throttles"

    email: Mapped[str] = mapped_column(sa.String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


# --- Mail outbox ---------------------------------------------------------------------------------


class Mail(Base):
    """An outgoing email, written in the caller's transaction and sent by a job.

    Status: queued -> sending -> sent | failed | unknown.  A row found in ``sending`` by a later
    attempt (the worker died mid-send) becomes ``unknown`` and is not sent again: at most once.
    """

    __tablename__ = "mails"
    __table_args__ = (sa.Index("ix_mails_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(500))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str] = mapped_column(sa.String(250))
    #: What the mail is for (password_reset, invite, ...), for the admin's outbox view.
    kind: Mapped[str] = mapped_column(sa.String(40), default="message")
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    sending_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


# --- Runtime pages: saved list views and uploaded files ------------------------------------------


class SavedView(Base):
    """A list's query (filters, sort, search, columns) saved under a name, for its owner alone
    or shared with everyone who may open the app."""

    __tablename__ = "saved_views"
    __table_args__ = (
        sa.UniqueConstraint("app", "entity", "key"),
        sa.Index("ix_saved_views_app_entity_owner_id", "app", "entity", "owner_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(60))
    #: A short random slug used in ``?view=`` (labels change, links must not).
    key: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    shared: Mapped[bool] = mapped_column(default=False)
    #: ``{"q": "...", "sort": "...", "filter": {...}, "formula": "...", "columns": [...]}``
    query: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFile(Base):
    """An uploaded file.  The bytes live under the instance folder, named by the random ``id``
    (never by the uploader's file name); the content type is sniffed from the bytes."""

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Imports of records from CSV/XLSX files ------------------------------------------------------


class Import(Base):
    """One upload of a CSV or XLSX file into an entity: the file (under the instance folder, by a
    random name), the column mapping and options the user chose, and what the job made of it.

    Status: uploaded -> queued -> running -> done | failed.
    """

    __tablename__ = "imports"
    __table_args__ = (sa.Index("ix_imports_app_entity_created_by", "app", "entity", "created_by"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(60))
    #: The uploader's file name, for display only.
    file_name: Mapped[str] = mapped_column(sa.String(255))
    #: The random name the bytes are stored under in ``<instance>/imports/``.
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: csv or xlsx, sniffed from the bytes (never the extension).
    file_kind: Mapped[str] = mapped_column(sa.String(10))
    encoding: Mapped[str | None] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: The header row as read from the file.
    columns: Mapped[list[Any]] = mapped_column(default=list)
    #: ``[field key or null]`` per column, in column order.
    mapping: Mapped[list[Any]] = mapped_column(default=list)
    #: ``{"mode": "create"|"upsert", "unique_field": key, "on_error": "all_or_nothing"|"skip",
    #: "dry_run": bool}``
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default="uploaded")
    total_rows: Mapped[int | None]
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    error_rows: Mapped[int] = mapped_column(default=0)
    #: Stored name of the per-row error report (CSV: row, column, value, message).
    error_report: Mapped[str | None] = mapped_column(sa.String(64))
    message: Mapped[str | None] = mapped_column(sa.String(500))
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class RecordShare(Base):
    """One record of an app shared with a user or a department, to read or to edit as well.

    Shares add to what a user's roles let them see (``tessera.platform.permissions``); exactly one
    of ``user_id`` and ``department_id`` is set.
    """

    __tablename__ = "record_shares"
    __table_args__ = (
        sa.Index("ix_record_shares_app_entity_record_id", "app", "entity", "record_id"),
        sa.CheckConstraint("(user_id IS NULL) <> (department_id IS NULL)", name="one_grantee"),
        sa.CheckConstraint("access IN ('read', 'edit')", name="access"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(60))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )
    access: Mapped[str] = mapped_column(sa.String(10), default="read")
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
