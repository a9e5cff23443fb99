"""Benchmark of the records service (prints a table; not a test).

1. Records created per second through ``RecordService`` — one ``create`` at a time and
   ``bulk_create`` — against a hand-written SQLAlchemy Core executemany insert of the same rows.
2. Filtered, sorted page fetches per second (``stage = "won"`` sorted by ``amount``, 50 rows)
   at page 1 and at page 10,000 (or the deepest page the data has) with keyset cursors, against
   the equivalent hand-written SQL (``WHERE stage = :s AND (amount, id) > (:a, :id)``).

    .venv/bin/python bench/records.py [--rows 1000000] [--url postgresql://postgres@127.0.0.1/tessera_dev]

Without ``--url`` it runs on a fresh SQLite file; with a PostgreSQL URL it works in a schema of
its own and drops it afterwards.  The default row count is small for a quick run.
"""

from __future__ import annotations

import argparse
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
            "indexes": [{"fields": ["stage", "amount", "id"]}],
        }
    ],
}
ACTOR = Actor(user_id=None, via="import")
PAGE = 50


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


def rate(count: int, fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def per_second(fn: Callable[[], Any], seconds: float = 2.0) -> float:
    fn()  # warm up (plans, caches)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        done += 1
    return done / (time.perf_counter() - start)


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
    print(f"database: {engine.dialect.name}, rows for paging: {args.rows:,}")

    def single() -> None:
        with engine.begin() as conn:
            svc = service_for(conn, "bench", ACTOR)
            for row in rows(n, 1):
                svc.create("deal", row)

    def bulk() -> None:
        with engine.begin() as conn:
            svc = service_for(conn, "bench", ACTOR)
            data = rows(n, 2)
            for start in range(0, n, 1000):
                svc.bulk_create("deal", data[start : start + 1000])

    def core() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(table), rows(n, 3))

    print(f"{'create, records/s':<42}{'service':>12}{'hand-written':>14}")
    print(f"{'  one create() per record':<42}{rate(n, single):>12,.0f}{rate(n, core):>14,.0f}")
    print(
        f"{'  bulk_create() in chunks of 1,000':<42}{rate(n, bulk):>12,.0f}{rate(n, core):>14,.0f}"
    )

    with engine.connect() as conn:
        have = conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0
    filled, seed = int(have), 10
    while filled < args.rows:
        chunk = min(20_000, args.rows - filled)
        with engine.begin() as conn:
            conn.execute(sa.insert(table), rows(chunk, seed))
        filled, seed = filled + chunk, seed + 1
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")

    query = ListQuery(filter={"field": "stage", "op": "eq", "value": "won"},
                      sort=[("amount", "asc")], limit=PAGE)  # fmt: skip
    with engine.connect() as conn:
        won = conn.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.stage == "won")
        )
    deep = max(1, min(10_000, int(won or 0) // PAGE - 1))
    with engine.connect() as conn:
        svc: RecordService = service_for(conn, "bench", ACTOR)
        last = conn.execute(
            sa.select(table.c.amount, table.c.id)
            .where(table.c.stage == "won", table.c.deleted_at.is_(None))
            .order_by(table.c.amount, table.c.id)
            .offset((deep - 1) * PAGE - 1)
            .limit(1)
        ).one()
        sort = [(table.c.amount, "asc")]
        cursor = svc.encode_cursor(_fingerprint(query, sort), [last.amount], last.id)
        hand = sa.text(
            f"SELECT * FROM {table.name} WHERE deleted_at IS NULL AND stage = :s "
            "AND (amount, id) > (:a, :i) ORDER BY amount, id LIMIT :n"
        ).bindparams(sa.bindparam("a", type_=table.c.amount.type))

        def service_page(after: str | None) -> Callable[[], Any]:
            return lambda: svc.list("deal", ListQuery(**{**query.__dict__, "after": after}))

        def hand_page(a: Any, i: int) -> Callable[[], Any]:
            return lambda: conn.execute(hand, {"s": "won", "a": a, "i": i, "n": PAGE}).all()

        hand_first = sa.text(
            f"SELECT * FROM {table.name} WHERE deleted_at IS NULL AND stage = :s "
            "ORDER BY amount, id LIMIT :n"
        )
        deep_page = service_page(cursor)()
        check = conn.execute(hand, {"s": "won", "a": last.amount, "i": last.id, "n": PAGE}).all()
        assert [r["id"] for r in deep_page.records] == [r.id for r in check], "pages disagree"
        print(f"{'page fetches/s (stage = won, by amount)':<42}{'service':>12}{'hand-written':>14}")
        one = per_second(service_page(None))
        one_hand = per_second(lambda: conn.execute(hand_first, {"s": "won", "n": PAGE}).all())
        print(f"{'  page 1':<42}{one:>12,.0f}{one_hand:>14,.0f}")
        far = per_second(service_page(cursor))
        far_hand = per_second(hand_page(last.amount, last.id))
        print(f"{f'  page {deep:,} (keyset)':<42}{far:>12,.0f}{far_hand:>14,.0f}")
        search = per_second(lambda: svc.list("deal", ListQuery(search="华为", limit=PAGE)))
        print(f"{'  search 华为, first page':<42}{search:>12,.0f}{'':>14}")


if __name__ == "__main__":
    main()
