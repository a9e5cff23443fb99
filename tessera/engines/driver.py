"""Statements sent to SQLite's driver directly, for the few that run on every request.

An in-process SQLite database answers a keyed lookup or a one-row insert in a few
microseconds; SQLAlchemy's work around each statement (cache lookup, parameter processing,
the execution context, the result object) costs 30–40 µs, most of such a statement's time.  The
hottest statements are therefore compiled once per dialect and handed to the driver's own
connection — the same connection, in the same transaction — with their parameters and result
columns processed exactly as SQLAlchemy would (datetimes as text and back, JSON serialised and
parsed, booleans as integers).  Everything else goes through SQLAlchemy as usual.

PostgreSQL keeps SQLAlchemy for these too: there the round trip to the server dominates.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

from tessera.engines.memo import PerObject

#: a statement as a positional-parameter driver (SQLite) takes it: its SQL, and per parameter
#: its name and the bind processor SQLAlchemy would apply to its value (None: sent as it is)
DriverStatement = tuple[str, list[tuple[str, Any]]]


def driver_statement(statement: sa.ClauseElement, dialect: sa.Dialect) -> DriverStatement:
    """``statement`` compiled once for the driver, so many rows can go to the driver's
    ``execute``/``executemany`` as tuples without SQLAlchemy's per-row parameter work, their
    values processed exactly as SQLAlchemy would (datetimes as text, JSON serialised)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    steps = [
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in compiled.positiontup or ()
    ]
    return str(compiled), steps


def driver_params(steps: list[tuple[str, Any]], row: Mapping[str, Any]) -> tuple[Any, ...]:
    """One row's parameters for a :data:`DriverStatement` (a missing key is None)."""
    return tuple(
        row.get(name) if process is None else process(row.get(name)) for name, process in steps
    )


class DriverQuery:
    """A SELECT compiled once for SQLite's driver: :meth:`first` answers what
    ``conn.execute(statement, params).first()`` would, as a named tuple whose fields are the
    statement's column keys (read by attribute, as a SQLAlchemy row is)."""

    def __init__(self, statement: sa.Select[Any], dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        #: per positional parameter: the caller's key (None: a literal of the statement, such as
        #: ``coalesce(x, '')``), the bind processor, and the literal's processed value
        self.params: list[tuple[str | None, Any, Any]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                self.params.append((name, process, None))
            else:
                value = bind.effective_value
                self.params.append((None, None, process(value) if process else value))
        keys = list(statement.selected_columns.keys())
        self.row: Any = namedtuple("DriverRow", keys)  # type: ignore[misc]
        self.readers = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]

    def first(self, conn: sa.Connection, params: Mapping[str, Any]) -> Any:
        """The first row for ``params`` in ``conn``'s open transaction, or None."""
        values = tuple(
            literal if key is None else params[key] if process is None else process(params[key])
            for key, process, literal in self.params
        )
        driver = conn.connection.dbapi_connection
        assert driver is not None
        raw = driver.execute(self.sql, values).fetchone()
        if raw is None:
            return None
        return self.row._make(
            value if read is None else read(value)
            for read, value in zip(self.readers, raw, strict=True)
        )


_QUERIES: PerObject[DriverQuery] = PerObject()


def first(conn: sa.Connection, statement: sa.Select[Any], params: Mapping[str, Any]) -> Any:
    """``conn.execute(statement, params).first()``, on SQLite in an open transaction through
    the driver (:class:`DriverQuery`, compiled once per statement and dialect)."""
    if conn.dialect.name != "sqlite" or not conn.in_transaction():
        return conn.execute(statement, params).first()
    query = _QUERIES.made(
        statement, lambda: DriverQuery(statement, conn.dialect), also=conn.dialect
    )
    return query.first(conn, params)
