"""Set-up shared by the benchmarks that run the whole platform: the one-entity app they
measure, a fresh database (a SQLite file, or a schema of its own on a PostgreSQL server), a
migrated :class:`Platform` with the app installed, and a user to act as.

    from _common import APP, bench_platform, bench_user, fresh_database
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tessera.platform import apps, migrate
from tessera.platform.config import Settings
from tessera.platform.db import create_db_engine
from tessera.platform.models import User
from tessera.platform.runtime import Platform

#: the entity both the REST API and the import benchmarks write
APP: dict[str, Any] = {
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


@contextmanager
def fresh_database(folder: Path, name: str, url: str = "") -> Iterator[str]:
    """A database URL nobody else uses: ``<folder>/<name>.db`` (SQLite), or with a PostgreSQL
    ``url`` a schema of its own on that server, dropped afterwards."""
    if not url:
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_db_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            sa.make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def bench_platform(folder: Path, database_url: str, app: dict[str, Any] = APP) -> Platform:
    """A :class:`Platform` over ``database_url`` (migrated, ``app`` installed).  Redis points
    at a port nothing listens on: the benchmarks measure the database work."""
    settings = Settings(
        instance_path=folder,
        database_url=database_url,
        redis_url="redis://127.0.0.1:1/0",
        secret_key="bench-secret-key-0123456789abcdef",
    )
    platform = Platform(settings)
    # no Redis here: a job the measured work submits (an import's search.tidy) stays queued,
    # and the warning that says so would only clutter the table
    logging.getLogger("tessera.platform.jobs").setLevel(logging.ERROR)
    migrate.upgrade(platform.db.engine)
    apps.install(platform.db.engine, app)
    return platform


def bench_user(platform: Platform, email: str = "bench@example.com") -> int:
    """A member to act as; returns the user's id."""
    with platform.db.session() as db:
        user = User(email=email, name="Bench", platform_role="member")
        db.add(user)
        db.flush()
        return int(user.id)


def load_line(engine: sa.Engine) -> str:
    """``database: sqlite, load average 1.2 on 2 CPUs`` for the head of a report."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"database: {engine.dialect.name}, load average {load:.1f} on {os.cpu_count()} CPUs"
