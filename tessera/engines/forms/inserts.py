"""Writing many new rows of one table fast, per database, for the records service.

The service decides *what* is written (checked values, defaults, system columns); this module
only decides *how* the rows reach the database, because the generic ``executemany`` path costs
more than the work around it once a chunk has a thousand rows:

- **One row**: a plain ``INSERT … RETURNING id``.
- **SQLite**: ids given by us (the writer holds the database's write lock from ``BEGIN
  IMMEDIATE``, so the ids after the largest are free), one driver-level ``executemany`` of
  tuples processed the way SQLAlchemy would, and the full-text index filled with one
  ``INSERT … SELECT`` after the chunk instead of its trigger row by row.
- **PostgreSQL**: ids drawn from the table's sequence first, then the whole chunk as *one*
  JSON document expanded by ``json_to_recordset`` on the server.  One parameter, encoded by
  the C JSON encoder: the alternatives cost far more in the client (a ``VALUES`` list has a
  parameter per value; ``unnest`` of text arrays makes the driver escape every element with a
  regular expression — a quarter of an import's client time when measured).

:func:`json_text` is the encoding both this module and the platform's journal use.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions import naming
from tessera.engines.driver import DriverStatement, driver_params, driver_statement
from tessera.engines.memo import PerObject

#: SQLite: from this many rows on, the search index is filled by one statement after the rows
FTS_BULK_MIN = 50


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: NUMERIC reads the text, never a float
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(value: Any) -> str:
    """``value`` as JSON text, for the database and for API answers alike: decimals as exact
    strings, dates and times in ISO 8601 (which PostgreSQL's input functions read), no NaN or
    infinity (not JSON).  What :func:`~.values.jsonable` would make of ``value``, written by
    the C encoder in one pass instead of copied value by value first."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)


_RETURNING: PerObject[tuple[sa.Insert, tuple[str, ...]]] = PerObject()
_ONE_ROW: PerObject[sa.Insert] = PerObject()
_DRIVER_INSERTS: PerObject[DriverStatement] = PerObject()
_RECORDSETS: PerObject[tuple[str, str, tuple[str, ...]]] = PerObject()


def _returning(table: sa.Table) -> tuple[Any, tuple[str, ...]]:
    """The table's INSERT returning the new id (built once, so SQLAlchemy's statement cache
    finds it by a stable shape) and its column names in table order."""
    return _RETURNING.made(
        table,
        lambda: (
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
            tuple(c.name for c in table.c),
        ),
    )


def one_row_insert(table: sa.Table) -> sa.Insert:
    """The table's INSERT of one row, every column but ``id`` a parameter named after it,
    returning the new id: a fixed shape to compose into a larger statement (the journal's
    single-statement create on PostgreSQL), built once per table."""

    def make() -> sa.Insert:
        values = {c.name: sa.bindparam(c.name, type_=c.type) for c in table.c if c.name != "id"}
        return sa.insert(table).values(values).returning(table.c.id)

    return _ONE_ROW.made(table, make)


def column_names(table: sa.Table) -> tuple[str, ...]:
    """The table's column names, in the order :func:`insert_rows` callers build tuples in."""
    return _returning(table)[1]


def insert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    common: Mapping[str, Any] | None = None,
) -> list[int]:
    """Insert ``rows`` and return their new ids in row order; each row's ``id`` key is set.

    ``rows`` are dicts with the same keys (no ``id``); ``common`` holds the columns that have
    one value for every row of the call (the system columns of a create: its time, its actor,
    version 1), which are then processed and sent once instead of once per row.  Raises what
    the database raises (an ``IntegrityError`` for a broken unique constraint)."""
    common = common or {}
    if len(rows) == 1 and conn.dialect.name == "sqlite" and conn.in_transaction():
        ids = [_insert_one_sqlite(conn, table, {**rows[0], **common})]
    elif len(rows) == 1:  # one row: a plain execute, not the executemany machinery
        ids = [int(conn.execute(_returning(table)[0], {**rows[0], **common}).scalar_one())]
    elif conn.dialect.name == "sqlite":
        return _insert_numbered(conn, table, rows, common)
    elif conn.dialect.name == "postgresql":
        return _insert_recordset(conn, table, rows, common)
    else:
        full = [{**row, **common} for row in rows]
        ids = [int(i) for i in conn.execute(_returning(table)[0], full).scalars()]
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id
    return ids


# -- SQLite ----------------------------------------------------------------------------------


def _driver_insert(table: sa.Table, dialect: sa.Dialect) -> DriverStatement:
    """SQLite, per table: the INSERT of every column (:func:`driver_statement`)."""
    return _DRIVER_INSERTS.made(table, lambda: driver_statement(sa.insert(table), dialect))


def _insert_one_sqlite(conn: sa.Connection, table: sa.Table, row: dict[str, Any]) -> int:
    """SQLite, one row: the driver's own ``execute`` on the connection's open transaction, with
    the values processed as SQLAlchemy would.  An in-process database answers in microseconds,
    so SQLAlchemy's per-statement work (cache lookup, parameter processing, the result object)
    was most of a single create's INSERT."""
    sql, steps = _driver_insert(table, conn.dialect)
    params = driver_params(steps, row)
    driver = conn.connection.dbapi_connection
    assert driver is not None
    try:
        new_id = driver.execute(sql, params).lastrowid
    except conn.dialect.loaded_dbapi.IntegrityError as error:  # as SQLAlchemy would raise it
        raise sa.exc.IntegrityError(sql, params, error) from error
    assert new_id is not None
    return int(new_id)


def _insert_numbered(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], common: Mapping[str, Any]
) -> list[int]:
    """SQLite: many rows with ids given by us, in one driver-level executemany.

    SQLite cannot return the ids of a multi-row INSERT in the order of its rows, so
    SQLAlchemy would send one INSERT per row.  The write lock is ours from the start of the
    transaction (``BEGIN IMMEDIATE``), so the ids after the current largest are free; they
    are what SQLite itself would pick, one by one."""
    last = conn.scalar(sa.select(sa.func.max(table.c.id))) or 0
    ids = list(range(int(last) + 1, int(last) + 1 + len(rows)))
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id
    sql, steps = _driver_insert(table, conn.dialect)
    constant = {name: common[name] if process is None else process(common[name])
                for name, process in steps if name in common}  # fmt: skip
    varying = [(n, p) for n, p in steps if n not in common]
    order = [name for name, _ in steps]
    params = []
    for row in rows:
        values = dict(constant)
        for name, process in varying:
            value = row.get(name)
            values[name] = value if process is None else process(value)
        params.append(tuple(map(values.__getitem__, order)))
    if len(rows) < FTS_BULK_MIN:
        conn.exec_driver_sql(sql, params)
    else:
        with _search_index_after(conn, table, ids[0], ids[-1]):
            conn.exec_driver_sql(sql, params)
    return ids


@contextmanager
def _search_index_after(
    conn: sa.Connection, table: sa.Table, first: int, last: int
) -> Iterator[None]:
    """SQLite: rows ``first``..``last`` go into the entity's full-text index with one
    ``INSERT … SELECT`` after they are inserted, instead of one trigger run per row (about four
    times faster for a chunk: FTS5 takes a set of rows much better than rows one by one).

    The insert trigger is dropped for the block and created again, as it was, in the same
    transaction: nobody else sees it missing (SQLite has one writer, and this one holds the
    lock), and a failure rolls the drop back with the caller's SAVEPOINT.  The trigger is
    read from ``sqlite_master``, so whatever :func:`~.search.ensure_search_index` made is
    what comes back."""
    fts = naming.search_name(table.name)
    trigger_sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (f"{fts}_ai",)
    ).scalar()
    if not trigger_sql:
        yield
        return
    quote = conn.dialect.identifier_preparer.quote
    columns = [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({quote(fts)})")]
    conn.exec_driver_sql(f"DROP TRIGGER {quote(fts + '_ai')}")
    try:
        yield
        names = ", ".join(quote(c) for c in columns)
        conn.exec_driver_sql(
            f"INSERT INTO {quote(fts)}(rowid, {names}) SELECT id, {names} "
            f"FROM {quote(table.name)} WHERE id BETWEEN ? AND ?",
            (first, last),
        )
    finally:
        conn.exec_driver_sql(str(trigger_sql))


# -- PostgreSQL ------------------------------------------------------------------------------


def _recordset_statements(
    table: sa.Table, dialect: sa.Dialect, common: frozenset[str]
) -> tuple[str, str, tuple[str, ...]]:
    """PostgreSQL, per table and set of ``common`` columns: ``INSERT … SELECT … FROM
    json_to_recordset(%(rows)s::json)`` with every varying column typed as the table types it
    and each common one a parameter of its own (``%(c_<column>)s``), the query drawing ``n`` ids
    from the table's sequence, and the JSON columns.  JSON columns travel as JSON text, so
    ``None`` is stored as JSON ``null`` exactly as SQLAlchemy stores it (``json_to_recordset``
    would make it SQL NULL)."""
    hit = _RECORDSETS.get(table, common)
    if hit is not None:
        return hit
    quote = dialect.identifier_preparer.quote
    typed, selected, json_columns = [], [], []
    for column in table.c:
        name, kind = quote(column.name), column.type.compile(dialect=dialect)
        if column.name in common:
            selected.append(f"%(c_{column.name})s::{kind}")
        elif isinstance(column.type, sa.JSON):
            json_columns.append(column.name)
            typed.append(f"{name} TEXT")
            selected.append(f"r.{name}::{kind}")
        else:
            typed.append(f"{name} {kind}")
            selected.append(f"r.{name}")
    insert = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in table.c)}) "
        f"SELECT {', '.join(selected)} "
        f"FROM json_to_recordset(%(rows)s::json) AS r({', '.join(typed)})"
    )
    sequence = (
        f"SELECT nextval(pg_get_serial_sequence('{quote(table.name)}', 'id')) "
        "FROM generate_series(1, %(n)s)"
    )
    return _RECORDSETS.put(table, (insert, sequence, tuple(json_columns)), common)


def _insert_recordset(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], common: Mapping[str, Any]
) -> list[int]:
    """PostgreSQL: many rows in one statement with one JSON parameter.  The ids are drawn from
    the table's sequence first, in one round trip, so no RETURNING order has to be trusted."""
    insert, sequence, json_columns = _recordset_statements(
        table, conn.dialect, frozenset(common).intersection(table.c.keys())
    )
    ids = [int(i) for i in conn.exec_driver_sql(sequence, {"n": len(rows)}).scalars()]
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id
    if json_columns:
        sent = [
            {**row, **{name: json_text(row.get(name)) for name in json_columns}} for row in rows
        ]
    else:
        sent = rows
    params = {f"c_{name}": value for name, value in common.items() if name in table.c}
    conn.exec_driver_sql(insert, {**params, "rows": json_text(sent)})
    return ids
