"""Time the large demo set (100k leads, 1M activities) into a scratch database; not a test.

    .venv/bin/python bench/demo_large.py [--size large] [--url postgresql://...]

Prints rows and rows/s per entity (insert time only) and the total, computed fields included.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
        report = demo.load(
            engine, size=args.size, seed=args.seed, today=dt.date(2025, 6, 30), people=people
        )
        total = time.perf_counter() - started
        engine.dispose()
    print(f"{'entity':<32}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    for entity, rows in report.counts.items():
        seconds = report.seconds.get(entity, 0.0)
        rate = rows / seconds if seconds else float("inf")
        print(f"{entity:<32}{rows:>10}{seconds:>10.1f}{rate:>12.0f}")
    for step, seconds in report.seconds.items():
        if step not in report.counts:
            print(f"{step:<32}{'':>10}{seconds:>10.1f}")
    rows = sum(report.counts.values())
    print(f"{'total (generation + inserts)':<32}{rows:>10}{total:>10.1f}{rows / total:>12.0f}")


if __name__ == "__main__":
    main()
