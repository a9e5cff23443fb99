"""Import rows per second for a CSV file, against a raw SQLAlchemy Core ``executemany`` of the
same rows into a table of the same shape (prints a table; not a test).

The import is the real job function (``transfer.imports.run``: streaming reader, per-field
conversion, records service bulk writes with validation, audit rows and outbox events),
all-or-nothing in one transaction, on a fresh SQLite file.

    .venv/bin/python bench/import_csv.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tessera.platform import apps, migrate
from tessera.platform.config import Settings
from tessera.platform.db import create_db_engine
from tessera.platform.models import Import, User
from tessera.platform.runtime import Platform
from tessera.platform.transfer import imports

APP = {
    "format": "tessera.app/1",
    "key": "bench",
    "label": "Bench",
    "entities": [
        {
            "key": "contact",
            "title": "name",
            "fields": [
                {"key": "name", "type": "text", "required": True},
                {"key": "email", "type": "email"},
                {"key": "amount", "type": "currency"},
                {"key": "stage", "type": "select", "options": ["new", "won", "lost"]},
            ],
        }
    ],
}


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "email", "amount", "stage"])
        for n in range(count):
            out.writerow(
                [
                    f"Contact {n}",
                    f"c{n}@example.com",
                    f"{n % 1000}.50",
                    ("new", "won", "lost")[n % 3],
                ]
            )


def import_rate(folder: Path, source: Path, count: int) -> float:
    settings = Settings(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'import.db'}",
        redis_url="redis://127.0.0.1:1/0",
        secret_key="bench-secret-key-0123456789abcdef",
    )
    platform = Platform(settings)
    migrate.upgrade(platform.db.engine)
    apps.install(platform.db.engine, APP)
    stored = imports.folder(platform) / "bench-upload"
    stored.write_bytes(source.read_bytes())
    with platform.db.session() as db:
        user = User(email="bench@example.com", name="Bench", platform_role="member")
        db.add(user)
        db.flush()
        record = Import(
            app="bench",
            entity="contact",
            file_name="bench.csv",
            stored_name="bench-upload",
            file_kind="csv",
            encoding="utf-8",
            size=stored.stat().st_size,
            columns=["name", "email", "amount", "stage"],
            mapping=["name", "email", "amount", "stage"],
            options={"mode": "create", "on_error": "all_or_nothing"},
            status="queued",
            created_by=user.id,
        )
        db.add(record)
        db.flush()
        import_id = record.id
    started = time.perf_counter()
    summary = imports.run(platform, import_id)
    elapsed = time.perf_counter() - started
    assert summary["created"] == count and summary["error_rows"] == 0, summary
    platform.close()
    return count / elapsed


def baseline_rate(folder: Path, source: Path, count: int) -> float:
    """Raw Core executemany of the same rows (read with csv, batches of 10,000)."""
    engine = create_db_engine(f"sqlite:///{folder / 'baseline.db'}")
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
    with engine.begin() as conn, source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for name, email, amount, stage in reader:
            batch.append({"name": name, "email": email, "amount": Decimal(amount), "stage": stage})
            if len(batch) == 10_000:
                conn.execute(sa.insert(table), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(table), batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "contacts.csv"
        write_csv(source, args.rows)
        ours = import_rate(folder, source, args.rows)
        base = baseline_rate(folder, source, args.rows)
    print(
        f"{'import rows per second (SQLite, ' + format(args.rows, ',') + ' rows)':<52} {'rate':>10}"
    )
    print(f"{'Tessera import job (convert, validate, audit, event)':<52} {ours:>10.0f}")
    print(f"{'raw SQLAlchemy Core executemany':<52} {base:>10.0f}")
    print(f"{'ratio (target >= 0.33)':<52} {ours / base:>10.2f}")


if __name__ == "__main__":
    main()
