"""The platform's database: one engine per process, sessions per request or job.

Web processes and workers share this module.  Nothing connects at import time; ``Database``
is created empty and bound by :meth:`Database.init_app` (Redash's pattern), or built directly
with :func:`create_db_engine` by the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL and pick the drivers Tessera ships with (psycopg 3 for PostgreSQL)."""
    parsed = sa.make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside one writer; foreign keys are off in SQLite unless asked for."""
    # pysqlite's own transaction handling is disabled so SQLAlchemy's BEGIN is the only one
    # (SQLAlchemy documents this recipe for SAVEPOINT and BEGIN IMMEDIATE support).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: execution option for a connection that only reads: on SQLite its transactions start with a
#: plain (deferred) BEGIN, so it reads a snapshot beside a long writer instead of queueing for
#: the write lock (a status page polled during an all-or-nothing import, for one)
READ_ONLY = "tessera_read_only"


def _sqlite_begin(conn: sa.Connection) -> None:
    """BEGIN IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout
    instead of one failing with "database is locked" when it upgrades a read lock.

    Sent with the driver's own ``execute``: SQLAlchemy's statement machinery cost a tenth of a
    single-record API request for these few bytes.  A driver error is raised as SQLAlchemy
    would raise it (a ``DBAPIError`` subclass with the statement)."""
    statement = "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
    driver = conn.connection.dbapi_connection
    assert driver is not None
    try:
        driver.execute(statement)
    except conn.dialect.loaded_dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(
            statement, (), error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from error


def create_db_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """Create an engine with Tessera's settings for SQLite or PostgreSQL."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


class Database:
    """Holds the engine and session factory of one Flask app or worker process."""

    def __init__(self) -> None:
        self._engine: sa.Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    def bind(self, url: str | URL) -> None:
        self._engine = create_db_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            raise RuntimeError("the database is not configured; call init_app or bind first")
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        if self._sessions is None:
            raise RuntimeError("the database is not configured; call init_app or bind first")
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


class DatabaseUnavailable(Exception):
    """The database did not answer; the message says where we looked and why."""


def check_database(engine: sa.Engine) -> None:
    """Connect once and raise :class:`DatabaseUnavailable` with one clear line on failure."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc).strip().splitlines()
        raise DatabaseUnavailable(
            f"cannot connect to the database at {where} (TESSERA_DATABASE_URL): "
            f"{reason[0] if reason else exc}"
        ) from None
