"""Benchmark of the records service (prints a table; not a test).

Each line compares ``RecordService`` with hand-written SQLAlchemy Core doing the same job in the
same run, on the same database, so the ratio is what to read (absolute rates depend on the
machine and its load):

1. Records created per second: one ``create()`` per record against one Core
   ``INSERT … RETURNING id`` per record (system columns filled, the response dict built); and
   ``bulk_create()`` in chunks of 1,000 against a Core ``executemany`` of the same chunks.  Both
   sides write all their records in one transaction (commit cost is the same for both and is
   left out).  The service also validates, applies defaults, keeps the search index and
   computed fields current, and writes an audit row and an outbox event per record.
2. 50-row pages per second, ``stage IN ("won", "lost")`` sorted by ``amount`` (index
   ``(amount, id)``), at page 1 and page 10,000 (or the deepest page the data has) with keyset
   cursors, against the same query written by hand
   (``WHERE stage IN (…) AND (amount, id) > (:a, :id) ORDER BY amount, id LIMIT 50``) whose rows
   are turned into dicts, as a JSON response needs.

    .venv/bin/python bench/records.py [--rows 1000000] [--creates 2000]
        [--url postgresql://postgres@127.0.0.1/tessera_dev]

Without ``--url`` it runs on a fresh SQLite file; with a PostgreSQL URL it works in a schema of
its own and drops it afterwards.  The default row count is small for a quick run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tessera.engines.forms import Actor, ListQuery, RecordService
from tessera.engines.forms.reads import _fingerprint
from tessera.platform import apps, migrate
from tessera.platform.db import create_db_engine
from tessera.platform.records import service_for

APP = {
    "format": "tessera.app/1",
    "key": "bench",
    "label": "Bench",
    "entities": [
        {
            "key": "deal",
            "title": "name",
            "fields": [
                {"key": "name", "type": "text"},
                {"key": "amount", "type": "decimal"},
                {"key": "stage", "type": "select", "options": ["new", "won", "lost"]},
                {"key": "note", "type": "text"},
            ],
            "indexes": [{"fields": ["amount", "id"]}],
        }
    ],
}
ACTOR = Actor(user_id=None, via="import")
PAGE = 50
DEEP = 10_000
STAGES = ["won", "lost"]


def rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "name": f"Deal {seed}-{i} {rng.choice(['华为', 'Li Wei', 'Acme', '小米'])}",
            "amount": Decimal(rng.randint(0, 10_000_000)) / 100,
            "stage": rng.choice(["new", "won", "lost"]),
            "note": None,
        }
        for i in range(n)
    ]


def stamped(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the system columns a real insert fills (the service fills the same ones)."""
    now = dt.datetime.now(dt.UTC)
    system = {"created_at": now, "updated_at": now, "created_by": None, "updated_by": None,
              "owner_id": None, "version": 1}  # fmt: skip
    return [{**row, **system} for row in data]


def rates(count: int, *fns: Callable[[], Any], rounds: int = 3) -> list[float]:
    """``count`` per second of each function, the best of ``rounds`` runs taken in turns, so a
    busy machine's slow moments hit both sides alike and the best run shows what the code
    costs."""
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for n, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[n] = max(best[n], count / (time.perf_counter() - start))
    return best


def per_second(*fns: Callable[[], Any], seconds: float = 3.0, rounds: int = 6) -> list[float]:
    """Calls per second of each function: the best of ``rounds`` slices taken in turns."""
    for fn in fns:
        fn()  # warm up (plans, caches)
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for n, fn in enumerate(fns):
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / rounds:
                fn()
                done += 1
            best[n] = max(best[n], done / (time.perf_counter() - start))
    return best


def line(label: str, service: float, hand: float, target: float | None = None) -> None:
    ratio = service / hand if hand else 0.0
    aim = f">= {target:.2f}" if target is not None else ""
    print(f"{label:<40}{service:>10,.0f}{hand:>14,.0f}{ratio:>8.2f}{aim:>10}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000, help="rows in the entity for paging")
    ap.add_argument("--url", default="", help="a PostgreSQL URL (default: a fresh SQLite file)")
    ap.add_argument("--creates", type=int, default=2_000, help="records per create benchmark")
    args = ap.parse_args()
    schema = None
    if args.url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_db_engine(args.url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = sa.make_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
        engine = create_db_engine(url)
    else:
        folder = tempfile.mkdtemp()
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
    try:
        run(engine, args)
    finally:
        engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def run(engine: sa.Engine, args: argparse.Namespace) -> None:
    migrate.upgrade(engine)
    apps.install(engine, APP)
    n = args.creates
    with engine.connect() as conn:
        table = apps.published(conn, "bench").table("deal")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"database: {engine.dialect.name}, rows for paging: {args.rows:,}, "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'':<40}{'service':>10}{'hand-written':>14}{'ratio':>8}{'target':>10}")

    def single() -> None:
        with engine.begin() as conn:
            svc = service_for(conn, "bench", ACTOR)
            for row in rows(n, 1):
                svc.create("deal", row)

    insert_one = sa.insert(table).returning(table.c.id)

    def single_core() -> None:
        with engine.begin() as conn:
            for row in stamped(rows(n, 3)):
                new_id = conn.execute(insert_one, row).scalar_one()
                _response = {**row, "id": new_id}

    def bulk() -> None:
        with engine.begin() as conn:
            svc = service_for(conn, "bench", ACTOR)
            data = rows(n, 2)
            for start in range(0, n, 1000):
                svc.bulk_create("deal", data[start : start + 1000])

    def bulk_core() -> None:
        with engine.begin() as conn:
            data = stamped(rows(n, 4))
            for start in range(0, n, 1000):
                conn.execute(sa.insert(table), data[start : start + 1000])

    print("records created per second")
    line("  one create() per record", *rates(n, single, single_core), 0.5)
    line("  bulk_create() in chunks of 1,000", *rates(n, bulk, bulk_core), 0.4)

    with engine.connect() as conn:
        have = conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0
    filled, seed = int(have), 10
    while filled < args.rows:
        chunk = min(50_000, args.rows - filled)
        with engine.begin() as conn:
            conn.execute(sa.insert(table), stamped(rows(chunk, seed)))
        filled, seed = filled + chunk, seed + 1
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    pages(engine, table)


def pages(engine: sa.Engine, table: sa.Table) -> None:
    query = ListQuery(filter={"field": "stage", "op": "in", "value": STAGES},
                      sort=[("amount", "asc")], limit=PAGE)  # fmt: skip
    matching = table.c.stage.in_(STAGES)
    with engine.connect() as conn:
        found = int(conn.scalar(sa.select(sa.func.count()).select_from(table).where(matching)) or 0)
    deep = max(2, min(DEEP, found // PAGE - 1))
    with engine.connect() as conn:
        svc: RecordService = service_for(conn, "bench", ACTOR)
        last = conn.execute(
            sa.select(table.c.amount, table.c.id)
            .where(matching, table.c.deleted_at.is_(None))
            .order_by(table.c.amount, table.c.id)
            .offset((deep - 1) * PAGE - 1)
            .limit(1)
        ).one()
        cursor = svc.encode_cursor(
            _fingerprint(query, [(table.c.amount, "asc")]), [last.amount], last.id
        )
        first_hand = (
            sa.select(table)
            .where(table.c.deleted_at.is_(None), matching, table.c.amount.is_not(None))
            .order_by(table.c.amount, table.c.id)
            .limit(PAGE)
        )
        after_hand = first_hand.where(
            sa.tuple_(table.c.amount, table.c.id)
            > sa.tuple_(sa.bindparam("a", type_=table.c.amount.type), sa.bindparam("i"))
        )

        def service_page(after: str | None) -> Callable[[], Any]:
            return lambda: svc.list("deal", ListQuery(**{**query.__dict__, "after": after})).records

        def hand_page(statement: Any, params: dict[str, Any]) -> Callable[[], Any]:
            return lambda: [dict(r) for r in conn.execute(statement, params).mappings()]

        got = service_page(cursor)()
        want = hand_page(after_hand, {"a": last.amount, "i": last.id})()
        assert [r["id"] for r in got] == [r["id"] for r in want], "the pages disagree"
        assert len(got) == PAGE, "the deep page is not full"
        print(f"50-row pages per second ({' or '.join(STAGES)}, by amount; {found:,} match)")
        line("  page 1", *per_second(service_page(None), hand_page(first_hand, {})), 0.5)
        deep_hand = hand_page(after_hand, {"a": last.amount, "i": last.id})
        line(f"  page {deep:,} (keyset)", *per_second(service_page(cursor), deep_hand), 0.5)
        (search,) = per_second(lambda: svc.list("deal", ListQuery(search="华为", limit=PAGE)))
        print(f"{'  search 华为, first page':<40}{search:>10,.0f}")


if __name__ == "__main__":
    main()
