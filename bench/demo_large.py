"""Time the large demo set (100k leads, 1M activities) into a scratch database; not a test.

    .venv/bin/python bench/demo_large.py [--size large] [--url postgresql://...]

Prints rows and rows/s per entity (records service bulk_create, or bulk_update for the
"(changes)" lines: writes, computed fields, audit and events) and the total, generation
included; a progress line every 30 s goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from tessera.platform import demo, migrate
from tessera.platform.db import create_db_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(demo.SIZES), default="large")
    parser.add_argument("--url", help="an empty database (default: a scratch SQLite file)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        demo.install_crm(engine)
        people = demo.ensure_people(engine, args.size)
        started = time.perf_counter()
        last = [started]

        def progress(entity: str, rows: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 30:  # a line every half minute, for long runs
                last[0] = now
                print(f"{now - started:8.0f}s  {entity:<14}{rows:>10}", file=sys.stderr, flush=True)

        report = demo.load(
            engine,
            size=args.size,
            seed=args.seed,
            today=dt.date(2025, 6, 30),
            people=people,
            progress=progress,
        )
        total = time.perf_counter() - started
        engine.dispose()
    print(f"{'entity':<32}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    for entity, rows in report.counts.items():
        seconds = report.seconds.get(entity, 0.0)
        # (a child table's rows go in with their parent's, in the parent's seconds)
        rate = f"{rows / seconds:,.0f}" if seconds else "with parent"
        print(f"{entity:<32}{rows:>10}{seconds:>10.1f}{rate:>12}")
    for step, seconds in report.seconds.items():
        if step not in report.counts:
            print(f"{step:<32}{'':>10}{seconds:>10.1f}")
    rows = report.records
    print(f"{'total (generation + inserts)':<32}{rows:>10}{total:>10.1f}{rows / total:>12.0f}")


if __name__ == "__main__":
    main()
