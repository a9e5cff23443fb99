"""Moving an app between installations: one JSON file with the definition and, if asked, data.

The file carries its own format (``tessera.export/1``) so later versions can upgrade it.  Values
are written as JSON (times and dates in ISO 8601, decimals as strings, so nothing is rounded)
and read back through the column types of the importing installation's tables.  Record ids are
kept so links stay intact; references to users and departments that do not exist in the target
installation are cleared rather than pointing at someone else.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from tessera.platform import apps
from tessera.platform.models import App, Department, User

BATCH = 1000


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _from_json(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.DateTime):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, sa.Time):
        return dt.time.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float) and kind.asdecimal:
        return decimal.Decimal(str(value))
    return value


def _rows(conn: sa.Connection, table: sa.Table) -> Iterator[dict[str, Any]]:
    order = [table.c.id] if "id" in table.c else list(table.primary_key.columns) or list(table.c)
    result = conn.execution_options(yield_per=BATCH).execute(sa.select(table).order_by(*order))
    for row in result:
        yield {key: _to_json(value) for key, value in row._mapping.items()}


def export_app(conn: sa.Connection, key: str, *, with_data: bool = False) -> dict[str, Any]:
    live = apps.published(conn, key)
    document: dict[str, Any] = {
        "format": apps.EXPORT_FORMAT,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "app": live.model.to_doc(),
    }
    if with_data:
        document["data"] = {
            table.name: list(_rows(conn, table)) for table in live.metadata.sorted_tables
        }
    return document


def _self_references(table: sa.Table) -> list[str]:
    """Columns loaded in a second pass: links to the table itself, and links that close a
    cycle between tables (``use_alter``), whose target table may be loaded after this one."""
    return [
        fk.parent.name
        for fk in table.foreign_keys
        if fk.column.table is table or (fk.constraint is not None and fk.constraint.use_alter)
    ]


def _platform_reference(column: sa.Column[Any]) -> str | None:
    """``users`` or ``departments`` when ``column`` refers to one of them."""
    for fk in column.foreign_keys:
        name = fk.target_fullname.split(".")[0]
        if name in (User.__tablename__, Department.__tablename__):
            return name
    return None


def import_app(
    engine: sa.Engine, document: Any, *, actor_id: int | None = None
) -> apps.PublishResult:
    """Install the app of an export file and load its data, all or nothing."""
    if not isinstance(document, dict) or document.get("format") != apps.EXPORT_FORMAT:
        raise apps.AppError(f"not a Tessera export file (expected format “{apps.EXPORT_FORMAT}”)")
    result = apps.install(engine, document.get("app"), actor_id=actor_id)
    data = document.get("data") or {}
    if not isinstance(data, dict):
        raise apps.AppError("the export file's “data” must be an object of tables")
    try:
        with engine.begin() as conn:
            live = apps.published(conn, result.app)
            unknown = set(data) - set(live.metadata.tables)
            if unknown:
                raise apps.AppError(
                    f"the export file has data for unknown tables: {sorted(unknown)}"
                )
            existing: dict[str, set[int]] = {
                name: set(conn.scalars(sa.select(sa.column("id")).select_from(sa.table(name))))
                for name in (User.__tablename__, Department.__tablename__)
            }
            links: list[tuple[Any, list[dict[str, Any]]]] = []
            for table in live.metadata.sorted_tables:
                _load_table(conn, table, data.get(table.name) or [], existing, links)
            for update, values in links:
                conn.execute(update, values)
    except Exception:
        with engine.begin() as conn:
            conn.execute(sa.delete(App).where(App.key == result.app))
        raise
    return result


def _load_table(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[Any],
    existing: dict[str, set[int]],
    links: list[tuple[Any, list[dict[str, Any]]]],
) -> None:
    """Insert ``table``'s rows; the deferred links (see :func:`_self_references`) are added to
    ``links``, to be set once every table is loaded."""
    if not rows:
        return
    deferred = _self_references(table)
    converted, later = [], []
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict) or set(raw) - set(table.c.keys()):
            raise apps.AppError(f"row {index + 1} of {table.name} does not match the table")
        row = {name: _from_json(table.c[name], value) for name, value in raw.items()}
        for name, value in row.items():
            target = _platform_reference(table.c[name])
            if target is not None and value is not None and value not in existing[target]:
                row[name] = None
        if deferred and any(row.get(name) is not None for name in deferred):
            later.append({"_id": row["id"], **{name: row[name] for name in deferred}})
            row.update({name: None for name in deferred})
        converted.append(row)
    for start in range(0, len(converted), BATCH):
        conn.execute(sa.insert(table), converted[start : start + BATCH])
    if later:
        update = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"))
            .values({name: sa.bindparam(name) for name in deferred})
        )
        links.append((update, later))
    if conn.dialect.name == "postgresql" and "id" in table.c:
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table.name}"))'
            ),
            {"table": table.name},
        )
