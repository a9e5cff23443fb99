"""Records created per second through the REST API, against a minimal hand-written Flask +
SQLAlchemy insert endpoint on a table of the same shape (prints a table; not a test).

Both run in this process through Flask's WSGI test client (no sockets, so the figures compare
the two apps, not a network), one POST per record, one transaction per request, on a fresh
SQLite file.  The API request does everything a real one does: Bearer token check, identity,
validation, defaults, audit row and outbox event.

    .venv/bin/python bench/api_create.py [--records 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request

from tessera.platform import apps, migrate
from tessera.platform.app import create_app
from tessera.platform.config import Settings
from tessera.platform.db import create_db_engine
from tessera.platform.identity import tokens
from tessera.platform.models import User
from tessera.platform.runtime import Platform

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


def body(n: int) -> dict[str, Any]:
    return {
        "name": f"Contact {n}",
        "email": f"c{n}@example.com",
        "amount": f"{n % 1000}.50",
        "stage": ("new", "won", "lost")[n % 3],
    }


def tessera_rate(folder: Path, count: int) -> float:
    settings = Settings(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'api.db'}",
        redis_url="redis://127.0.0.1:1/0",
        secret_key="bench-secret-key-0123456789abcdef",
    )
    platform = Platform(settings)
    migrate.upgrade(platform.db.engine)
    apps.install(platform.db.engine, APP)
    with platform.db.session() as db:
        user = User(email="bench@example.com", name="Bench", platform_role="member")
        db.add(user)
        db.flush()
        _, raw = tokens.create(
            db, user_id=user.id, name="bench", scopes=["records:write"], days=30, actor_id=user.id
        )
    client = create_app(settings, platform=platform).test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    client.post("/api/v1/apps/bench/contact", json=body(0), headers=headers)  # warm caches
    started = time.perf_counter()
    for n in range(1, count + 1):
        response = client.post("/api/v1/apps/bench/contact", json=body(n), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
    rate = count / (time.perf_counter() - started)
    platform.close()
    return rate


def baseline_rate(folder: Path, count: int) -> float:
    """The hand-written baseline: parse JSON, insert one row, commit, answer with the row."""
    engine = create_db_engine(
        f"sqlite:///{folder / 'baseline.db'}"
    )  # Tessera's SQLite settings (WAL)
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
    client.post("/contacts", json=body(0))
    started = time.perf_counter()
    for n in range(1, count + 1):
        assert client.post("/contacts", json=body(n)).status_code == 201
    rate = count / (time.perf_counter() - started)
    engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = tessera_rate(folder, args.records)
        base = baseline_rate(folder, args.records)
    print(
        f"{'records created per second (SQLite, ' + str(args.records) + ' POSTs)':<52} {'rate':>10}"
    )
    print(f"{'Tessera REST API (token, validation, audit, event)':<52} {ours:>10.0f}")
    print(f"{'minimal Flask + SQLAlchemy insert endpoint':<52} {base:>10.0f}")
    print(f"{'ratio (target >= 0.50)':<52} {ours / base:>10.2f}")


if __name__ == "__main__":
    main()
