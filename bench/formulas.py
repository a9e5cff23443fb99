"""Benchmark of the expression engine (prints a table; not a test).

1. Evaluations per second of a three-clause condition compiled to a Python closure, against the
   same condition as a hand-written lambda, in the same run.
2. Time to filter 1M rows in SQL with the compiled expression, against a hand-written query.

    .venv/bin/python bench/formulas.py [--rows 1000000] [--url postgresql://postgres@127.0.0.1/tessera_dev]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tessera.engines.expressions import (
    EntitySpec,
    EvalContext,
    ExprSchema,
    FieldSpec,
    check,
    compile_python,
    compile_sql,
    parse,
)
from tessera.engines.expressions import ValueType as V
from tessera.platform.db import create_db_engine

SCHEMA = ExprSchema(
    {
        "deal": EntitySpec(
            "deal",
            "deal",
            {
                "amount": FieldSpec("amount", V.NUMBER, column="amount"),
                "discount": FieldSpec("discount", V.NUMBER, column="discount"),
                "stage": FieldSpec(
                    "stage", V.SELECT, column="stage", options=("new", "won", "lost")
                ),
            },
        )
    }
)
SOURCE = 'amount > 100000 AND discount > 0.2 AND stage = "won"'
META = sa.MetaData()
DEAL = sa.Table(
    "deal",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", sa.Float),
    sa.Column("discount", sa.Float),
    sa.Column("stage", sa.String),
)


def per_second(fn, records, ctx) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for r in records:
        fn(r, ctx)
    return len(records) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--url", default="")
    args = ap.parse_args()
    ctx = EvalContext(now=datetime.now(UTC))
    checked = check(parse(SOURCE, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    compiled = compile_python(checked)

    def hand(r, c):  # type: ignore[no-untyped-def]
        return (
            r["amount"] is not None
            and r["amount"] > 100000
            and r["discount"] is not None
            and r["discount"] > 0.2
            and r["stage"] == "won"
        )

    records = [
        {
            "id": i,
            "amount": float(i * 37 % 200000),
            "discount": (i % 10) / 20,
            "stage": ("new", "won", "lost")[i % 3],
        }
        for i in range(200_000)
    ]
    assert all(bool(compiled(r, ctx)) == hand(r, ctx) for r in records[:10_000])
    rows = [
        ("python closure (compiled)", per_second(compiled, records, ctx)),
        ("python lambda (hand-written)", per_second(hand, records, ctx)),
    ]
    print(f"{'condition':32} {'evaluations/s':>15}")
    for name, rate in rows:
        print(f"{name:32} {rate:15,.0f}")
    print(f"compiled / hand-written: {rows[0][1] / rows[1][1]:.2f}x\n")

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_db_engine(url)
        META.drop_all(engine)
        META.create_all(engine)
        with engine.begin() as conn:
            batch = 50_000
            for start in range(0, args.rows, batch):
                conn.execute(
                    DEAL.insert(),
                    [
                        {
                            "id": i + 1,
                            "amount": float(i * 37 % 200000),
                            "discount": (i % 10) / 20,
                            "stage": ("new", "won", "lost")[i % 3],
                        }
                        for i in range(start, min(start + batch, args.rows))
                    ],
                )
        where = compile_sql(checked, {"deal": DEAL}, ctx, engine.dialect.name)
        hand_sql = sa.and_(DEAL.c.amount > 100000, DEAL.c.discount > 0.2, DEAL.c.stage == "won")
        print(
            f"{engine.dialect.name}, {args.rows:,} rows: "
            f"{'filter':28} {'seconds':>8} {'matches':>9}"
        )
        for name, cond in (("compiled expression", where), ("hand-written SQL", hand_sql)):
            best, count = float("inf"), 0
            for _ in range(3):
                with engine.connect() as conn:
                    t0 = time.perf_counter()
                    count = conn.execute(
                        sa.select(sa.func.count()).select_from(DEAL).where(cond)
                    ).scalar_one()
                    best = min(best, time.perf_counter() - t0)
            print(f"{'':30}{name:28} {best:8.3f} {count:9,}")
        META.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
