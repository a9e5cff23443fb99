"""Import rows per second for a CSV file, against a raw SQLAlchemy Core ``executemany`` of the
same rows (prints a table; not a test).

The import is the real job function (``transfer.imports.run``: streaming reader, conversion
per field, records-service bulk writes with validation, defaults, search index, audit rows and
outbox events), all-or-nothing in one transaction, on a fresh database.  Two baselines read
the same file with the csv module and insert its rows in batches of 10,000 with Core:

* into the entity's own table, as a careful hand-writer would (system columns filled, its
  indexes kept, its search index filled: on SQLite one ``INSERT … SELECT`` per batch into the
  FTS5 table, on PostgreSQL the trigram GIN index the server keeps), on a database of its own
  where the table starts empty: the yardstick (``docs/architecture.md``, "What an import's
  speed is measured against");
* into a plain four-column table with no index, for information: what the database does with
  the same rows when nothing else is asked of it.

    .venv/bin/python bench/import_csv.py [--rows 1000000]
        [--url postgresql://postgres@127.0.0.1/tessera_dev]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from _common import bench_platform, bench_user, fresh_database, load_line

from tessera.engines.definitions import naming
from tessera.platform import apps
from tessera.platform.db import create_db_engine
from tessera.platform.models import Import
from tessera.platform.transfer import imports

COLUMNS = ["name", "email", "amount", "stage"]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for n in range(count):
            out.writerow(
                [
                    f"Contact {n}",
                    f"c{n}@example.com",
                    f"{n % 1000}.50",
                    ("new", "won", "lost")[n % 3],
                ]
            )


def import_rate(folder: Path, source: Path, count: int, url: str) -> tuple[float, str]:
    """The import job's rate into an empty entity table, and the load line."""
    with fresh_database(folder, "import", url) as database_url:
        platform = bench_platform(folder, database_url)
        try:
            stored = imports.folder(platform) / "bench-upload"
            stored.write_bytes(source.read_bytes())
            user_id = bench_user(platform)
            with platform.db.session() as db:
                record = Import(
                    app="bench",
                    entity="contact",
                    file_name="bench.csv",
                    stored_name="bench-upload",
                    file_kind="csv",
                    encoding="utf-8",
                    size=stored.stat().st_size,
                    columns=COLUMNS,
                    mapping=COLUMNS,
                    options={"mode": "create", "on_error": "all_or_nothing"},
                    status="queued",
                    created_by=user_id,
                )
                db.add(record)
                db.flush()
                import_id = record.id
            header = load_line(platform.db.engine)
            started = time.perf_counter()
            summary = imports.run(platform, import_id)
            elapsed = time.perf_counter() - started
            assert summary["created"] == count and summary["error_rows"] == 0, summary
        finally:
            platform.close()
    return count / elapsed, header


def insert_all(
    conn: sa.Connection,
    table: sa.Table,
    source: Path,
    extra: dict[str, object],
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """The baseline's loop: csv rows → dicts (amount as a Decimal) → executemany by 10,000;
    ``after_batch(largest id before the batch)`` after each, if given."""

    def write(batch: list[dict[str, object]]) -> None:
        if after_batch is None:
            conn.execute(sa.insert(table), batch)
            return
        before = conn.scalar(sa.select(sa.func.max(table.c.id))) or 0
        conn.execute(sa.insert(table), batch)
        after_batch(before)

    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for name, email, amount, stage in reader:
            batch.append(
                {"name": name, "email": email, "amount": Decimal(amount), "stage": stage, **extra}
            )
            if len(batch) == 10_000:
                write(batch)
                batch = []
        if batch:
            write(batch)


def own_table_rate(folder: Path, source: Path, count: int, url: str) -> float:
    """Core executemany of the same rows into the entity's own table, as a careful hand-writer
    would do it, on a database of its own where the table starts empty as the import's does:
    system columns filled, the table's indexes kept and,
    on SQLite, the full-text index filled with one ``INSERT … SELECT`` per batch of 10,000
    instead of its trigger row by row (FTS5 takes a set of rows ten times faster).  On
    PostgreSQL the search index is the table's trigram GIN index, kept by the server."""
    with fresh_database(folder, "entity", url) as database_url:
        platform = bench_platform(folder, database_url)
        try:
            return _own_table_rate(platform.db.engine, source, count, bench_user(platform))
        finally:
            platform.close()


def _own_table_rate(engine: sa.Engine, source: Path, count: int, user_id: int) -> float:
    with engine.connect() as conn:
        table = apps.published(conn, "bench").table("contact")
    now = dt.datetime.now(dt.UTC)
    system = {"created_at": now, "updated_at": now, "created_by": user_id,
              "updated_by": user_id, "owner_id": user_id, "version": 1}  # fmt: skip
    fts = naming.search_name(table.name)
    fill = (
        f'INSERT INTO "{fts}"(rowid, name, email) SELECT id, name, email '
        f'FROM "{table.name}" WHERE id > ?'
    )
    started = time.perf_counter()
    with engine.begin() as conn:  # committed, as the import's transaction is
        if engine.dialect.name == "sqlite":
            trigger = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (f"{fts}_ai",)
            ).scalar_one()
            conn.exec_driver_sql(f'DROP TRIGGER "{fts}_ai"')

            def after_batch(before: int) -> None:
                conn.exec_driver_sql(fill, (before,))

            insert_all(conn, table, source, system, after_batch)
            conn.exec_driver_sql(trigger)
        else:
            insert_all(conn, table, source, system)
    return count / (time.perf_counter() - started)


def baseline_rate(folder: Path, source: Path, count: int, url: str) -> float:
    """Raw Core executemany of the same rows into a plain table (csv, batches of 10,000)."""
    with fresh_database(folder, "baseline", url) as database_url:
        engine = create_db_engine(database_url)
        metadata = sa.MetaData()
        table = sa.Table(
            "contact",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(255)),
            sa.Column("email", sa.String(254)),
            sa.Column("amount", sa.Numeric(18, 2)),
            sa.Column("stage", sa.String(64)),
        )
        metadata.create_all(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            insert_all(conn, table, source, {})
        elapsed = time.perf_counter() - started
        engine.dispose()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="", help="a PostgreSQL URL (default: SQLite files)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "contacts.csv"
        write_csv(source, args.rows)
        ours, header = import_rate(folder, source, args.rows, args.url)
        own = own_table_rate(folder, source, args.rows, args.url)
        plain = baseline_rate(folder, source, args.rows, args.url)
    kind = "PostgreSQL" if args.url else "SQLite"
    lines = [
        (f"import rows per second ({kind}, {args.rows:,} rows)", "rate"),
        ("Tessera import job (convert, validate, search, audit, event)", f"{ours:,.0f}"),
        ("raw Core executemany into the entity's table (yardstick)", f"{own:,.0f}"),
        ("ratio (target >= 0.33)", f"{ours / own:.2f}"),
        ("raw Core executemany into a plain table, no index", f"{plain:,.0f}"),
        ("  ratio to that (for information)", f"{ours / plain:.2f}"),
    ]
    print(header)
    for label, value in lines:
        print(f"{label:<62}{value:>10}")


if __name__ == "__main__":
    main()
