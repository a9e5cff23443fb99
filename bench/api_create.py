"""Records created per second through the REST API, against a minimal hand-written Flask +
SQLAlchemy insert endpoint on a table of the same shape (prints a table; not a test).

Both run in this process through Flask's WSGI test client (no sockets, so the figures compare
the two apps, not a network), one POST per record, one transaction per request, each on a fresh
database of its own (a SQLite file, or with ``--url`` a schema of its own on that PostgreSQL
server).  The API request does everything a real one does: Bearer token check, identity,
permission scope, validation, defaults, audit row and outbox event.  The two sides run in
alternating rounds and each keeps its best round, so a busy moment on a shared machine hits
both alike.

    .venv/bin/python bench/api_create.py [--records 2000] [--rounds 4] [--url postgresql://…]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import bench_platform, bench_user, fresh_database, load_line
from flask import Flask, jsonify, request
from flask.testing import FlaskClient

from tessera.platform.app import create_app
from tessera.platform.db import create_db_engine
from tessera.platform.identity import tokens


def body(n: int) -> dict[str, Any]:
    return {
        "name": f"Contact {n}",
        "email": f"c{n}@example.com",
        "amount": f"{n % 1000}.50",
        "stage": ("new", "won", "lost")[n % 3],
    }


Poster = Callable[[int], None]


def tessera_poster(folder: Path, url: str) -> Poster:
    platform = bench_platform(folder, url)
    user_id = bench_user(platform)
    with platform.db.session() as db:
        _, raw = tokens.create(
            db, user_id=user_id, name="bench", scopes=["records:write"], days=30, actor_id=user_id
        )
    client: FlaskClient = create_app(platform.settings, platform=platform).test_client()
    headers = {"Authorization": f"Bearer {raw}"}

    def post(n: int) -> None:
        response = client.post("/api/v1/apps/bench/contact", json=body(n), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)

    return post


def baseline_poster(url: str) -> Poster:
    """The hand-written baseline: parse JSON, insert one row, commit, answer with the row."""
    engine = create_db_engine(url)  # Tessera's database settings (WAL on SQLite)
    metadata = sa.MetaData()
    table = sa.Table(
        "contact",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("email", sa.String(254)),
        sa.Column("amount", sa.Numeric(18, 2)),
        sa.Column("stage", sa.String(64)),
        sa.Column("version", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    metadata.create_all(engine)
    app = Flask("baseline")

    @app.post("/contacts")
    def create() -> Any:
        data = request.get_json()
        with engine.begin() as conn:
            new_id = conn.execute(
                sa.insert(table).values(**data, version=1, created_at=sa.func.now())
            ).inserted_primary_key[0]
        return jsonify(id=new_id, **data), 201

    client = app.test_client()

    def post(n: int) -> None:
        assert client.post("/contacts", json=body(n)).status_code == 201

    return post


def rate(post: Poster, first: int, count: int) -> float:
    started = time.perf_counter()
    for n in range(first, first + count):
        post(n)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--url", default="", help="a PostgreSQL URL (default: SQLite files)")
    args = parser.parse_args()
    per_round = max(1, args.records // args.rounds)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(Path(tmp), "api", args.url) as ours_url,
        fresh_database(Path(tmp), "baseline", args.url) as base_url,
    ):
        ours, base = tessera_poster(Path(tmp), ours_url), baseline_poster(base_url)
        ours(0), base(0)  # warm caches
        best_ours = best_base = 0.0
        for i in range(args.rounds):
            first = 1 + i * per_round
            best_ours = max(best_ours, rate(ours, first, per_round))
            best_base = max(best_base, rate(base, first, per_round))
        kind = "PostgreSQL" if args.url else "SQLite"
        title = f"records created per second ({kind}, {args.rounds} x {per_round} POSTs)"
        print(load_line(create_db_engine(base_url)))
        print(f"{title:<58} {'rate':>8}")
        print(f"{'Tessera REST API (token, validation, audit, event)':<58} {best_ours:>8.0f}")
        print(f"{'minimal Flask + SQLAlchemy insert endpoint':<58} {best_base:>8.0f}")
        print(f"{'ratio (target >= 0.50)':<58} {best_ours / best_base:>8.2f}")


if __name__ == "__main__":
    main()
