"""The ``tessera`` command.

Every command loads the settings first, so a wrong ``TESSERA_*`` variable, an unreachable
database or Redis ends the command with one line naming the problem (exit status 2), never a
traceback.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import click
import sqlalchemy as sa

from tessera.platform import broker, migrate, passwords
from tessera.platform.cli_apps import app_group
from tessera.platform.config import ConfigError, Settings, load_settings
from tessera.platform.db import DatabaseUnavailable, check_database, create_db_engine
from tessera.platform.models import User

USER_ERRORS = (ConfigError, DatabaseUnavailable, broker.RedisUnavailable)


class UsageProblem(click.ClickException):
    def show(self, file: Any = None) -> None:
        click.echo(f"tessera: error: {self.message}", err=True)


def _settings() -> Settings:
    return load_settings()


def _checked_engine(settings: Settings) -> sa.Engine:
    """An engine for the configured database, which has answered (else DatabaseUnavailable)."""
    engine = create_db_engine(settings.database_url)
    check_database(engine)
    return engine


def _migrated_engine(settings: Settings) -> sa.Engine:
    engine = _checked_engine(settings)
    if not migrate.is_up_to_date(engine):
        raise DatabaseUnavailable(
            "the database schema is not up to date; run 'tessera db upgrade' first"
        )
    return engine


def _add_system_admin(conn: sa.Connection, email: str, name: str, password: str) -> int:
    """Add an active system administrator (English, UTC; both changeable on their profile)."""
    return int(
        conn.execute(
            sa.insert(User)
            .values(
                email=email,
                name=name,
                password_hash=passwords.hash_password(password),
                platform_role="system_admin",
                locale="en",
                time_zone="UTC",
                is_active=True,
            )
            .returning(User.id)
        ).scalar_one()
    )


@click.group(
    help="Tessera: apps as JSON definitions, run by form, process, rule and report engines."
)
def cli() -> None:
    pass


@cli.command(help="Run everything on this machine: embedded Redis, worker, scheduler and web.")
@click.option("--no-worker", is_flag=True, help="Do not start a worker (run one elsewhere).")
def serve(no_worker: bool) -> None:
    from tessera.platform.supervisor import Supervisor, serve_children

    settings = _settings()
    engine = _checked_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    if not settings.embedded_redis:
        assert settings.redis_url is not None
        broker.check(broker.connect(settings.redis_url), settings.redis_url)
    url = f"http://{settings.host}:{settings.port}/"
    supervisor = Supervisor(settings, serve_children(with_worker=not no_worker))
    code = supervisor.run(
        on_ready=lambda: click.echo(f"Tessera is starting on {url} (Ctrl-C stops it)")
    )
    sys.exit(code)


DEMO_ADMIN = ("admin@example.com", "Demo Admin", "tessera-demo")


@cli.command(
    help="Set up the demo (accounts, and the CRM and MA apps with demo data) and serve it."
)
@click.option("--no-serve", is_flag=True, help="Set up only; do not start the platform.")
@click.option(
    "--size",
    type=click.Choice(["small", "large"]),
    default="small",
    show_default=True,
    help="small: a few hundred records; large: 100k leads and 1M activities (benchmarks).",
)
@click.option("--seed", type=int, default=2024, show_default=True, help="Seed of the demo data.")
@click.pass_context
def demo(ctx: click.Context, no_serve: bool, size: str, seed: int) -> None:
    from tessera.platform import demo as demo_data

    settings = _settings()
    engine = _checked_engine(settings)
    migrate.upgrade(engine)
    email, name, password = DEMO_ADMIN
    with engine.begin() as conn:
        admin_id = conn.scalar(sa.select(User.id).where(User.email == email))
        if admin_id is None:
            admin_id = _add_system_admin(conn, email, name, password)
    people = demo_data.ensure_people(engine, size)
    if demo_data.install_crm(engine, actor_id=admin_id):
        click.echo("installed the CRM app")
    with engine.connect() as conn:
        empty = demo_data.crm_is_empty(conn)
    if empty:
        click.echo(f"generating the {size} demo data set (seed {seed}) ...")
        report = demo_data.load(engine, size=size, seed=seed, people=people)
        click.echo(f"generated {report.records} records in {report.total_seconds:.1f} s")
    else:
        click.echo("the CRM has records already; no demo data generated")
    engine.dispose()
    click.echo(f"demo ready: sign in as {email} with the password {password} (administrator)")
    click.echo(
        f"  or as a sales rep: rep@example.com, a manager: manager@example.com, "
        f"support: support@example.com (password {demo_data.DEMO_PASSWORD})"
    )
    if not no_serve:
        crm_url = f"http://{settings.host}:{settings.port}/apps/crm/"
        threading.Thread(target=_announce_when_ready, args=(crm_url,), daemon=True).start()
        ctx.invoke(serve, no_worker=False)


def _announce_when_ready(url: str, timeout: float = 120.0) -> None:
    """Once /healthz answers, say where the CRM is and open it where there is a screen.

    A headless server (no DISPLAY, as in CI or over SSH) only gets the line: a text-mode
    browser taking over the terminal would be worse than no browser.
    """
    import os
    import time
    import urllib.error
    import urllib.request
    import webbrowser

    health = url.split("/apps/")[0] + "/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    else:
        return
    click.echo(f"The CRM is ready: {url}  (sign in as rep@example.com / tessera-demo)")
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if graphical and not os.environ.get("CI"):
        webbrowser.open(url)


@cli.command(help="Run the web server only (gunicorn).")
def web() -> None:
    from tessera.platform.app import create_app
    from tessera.platform.webserver import run_web

    settings = _settings()
    _migrated_engine(settings).dispose()
    run_web(create_app(settings), settings)


@cli.command(help="Run a job worker.")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker(burst: bool) -> None:
    from tessera.platform.app import create_app
    from tessera.platform.runtime import Platform
    from tessera.platform.worker import run_worker

    settings = _settings()
    _migrated_engine(settings).dispose()
    app = create_app(settings)
    platform: Platform = app.extensions["tessera"]
    broker.check(platform.redis, platform.redis_url)
    run_worker(app, burst=burst)


@cli.command(help="Run the scheduler (timers, job sweeper); one at a time holds the lock.")
def scheduler() -> None:
    import signal

    from tessera.platform import scheduler as scheduler_loop
    from tessera.platform.app import create_app
    from tessera.platform.runtime import Platform

    settings = _settings()
    _migrated_engine(settings).dispose()
    app = create_app(settings)
    platform: Platform = app.extensions["tessera"]
    broker.check(platform.redis, platform.redis_url)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    with app.app_context():
        scheduler_loop.run(platform, stopping)


@cli.group(help="The platform's own database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Create or update the platform tables (Alembic migrations).")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    engine = _checked_engine(_settings())
    migrate.upgrade(engine, revision)
    click.echo(f"database at revision {migrate.current_revision(engine)}")


@db.command("downgrade", help="Undo migrations down to REVISION ('base' removes every table).")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    engine = _checked_engine(_settings())
    migrate.downgrade(engine, revision)
    click.echo(f"database at revision {migrate.current_revision(engine)}")


@db.command("current", help="Show the database's migration revision.")
def db_current() -> None:
    engine = _checked_engine(_settings())
    click.echo(f"{migrate.current_revision(engine)} (head: {migrate.head_revision(engine)})")


@cli.group(help="Platform administrators.")
def admin() -> None:
    pass


@admin.command("create", help="Create a system administrator.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def admin_create(email: str, name: str, password: str) -> None:
    try:
        passwords.check_strength(password)
    except passwords.WeakPassword as exc:
        raise UsageProblem(str(exc)) from None
    engine = _migrated_engine(_settings())
    email = email.strip().lower()
    with engine.begin() as conn:
        if conn.scalar(sa.select(User.id).where(User.email == email)) is not None:
            raise UsageProblem(f"a user with the email {email} exists already")
        _add_system_admin(conn, email, name, password)
    click.echo(f"created system administrator {email}")


cli.add_command(app_group)


def main() -> None:
    try:
        cli.main(prog_name="tessera", standalone_mode=True)
    except USER_ERRORS as exc:
        click.echo(f"tessera: error: {exc}", err=True)
        sys.exit(2)
