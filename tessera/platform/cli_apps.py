"""``tessera app …``: validate, install, publish, diff, roll back, export and import apps."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from tessera.engines import definitions as defs
from tessera.platform import app_transfer, apps, migrate
from tessera.platform.config import load_settings
from tessera.platform.db import DatabaseUnavailable, check_database, create_db_engine


def _engine() -> sa.Engine:
    engine = create_db_engine(load_settings().database_url)
    check_database(engine)
    if not migrate.is_up_to_date(engine):
        raise DatabaseUnavailable(
            "the database schema is not up to date; run 'tessera db upgrade' first"
        )
    return engine


def _fail(message: str) -> None:
    click.echo(f"tessera: error: {message}", err=True)
    sys.exit(1)


def _show_errors(errors: tuple[defs.DefinitionError, ...] | list[defs.DefinitionError]) -> None:
    click.echo(f"{len(errors)} error(s):", err=True)
    for error in errors:
        click.echo(f"  {error.json_path}: {error.message}", err=True)


def _run(action: Any) -> Any:
    """Run ``action`` and turn the registry's expected failures into messages and exit status 1."""
    try:
        return action()
    except defs.InvalidDefinition as exc:
        _show_errors(exc.errors)
        sys.exit(1)
    except defs.DestructiveChangeRefused as exc:
        click.echo("These changes can lose data:", err=True)
        for step in exc.steps:
            click.echo(f"  ⚠ {step.description}", err=True)
        _fail("nothing was changed; run again with --confirm-destructive to apply them")
    except (apps.AppError, defs.PlanError) as exc:
        _fail(str(exc))


def _print_result(result: apps.PublishResult) -> None:
    click.echo(f"published {result.app} version {result.version}")
    for line in result.plan:
        click.echo(f"  {line}")


@click.group("app", help="Install, change and move apps.")
def app_group() -> None:
    pass


@app_group.command("validate", help="Check a definition file; every error with its JSON path.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate_cmd(file: Path) -> None:
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{file} cannot be read as JSON: {exc}")
    try:
        errors = defs.validate(defs.upgrade(doc))
    except defs.FormatError as exc:
        _fail(str(exc))
    if errors:
        _show_errors(errors)
        sys.exit(1)
    click.echo(f"{file}: valid")


@app_group.command("list", help="The installed apps.")
def list_cmd() -> None:
    with _engine().connect() as conn:
        rows = apps.list_apps(conn)
    if not rows:
        click.echo("no apps are installed")
    for row in rows:
        label = row["label"].get("en") or next(iter(row["label"].values()), "")
        draft = " (draft has unpublished changes)" if row["has_draft_changes"] else ""
        click.echo(f"{row['key']:<16} v{row['published_version'] or '-':<4} {label}{draft}")


@app_group.command("install", help="Install and publish an app from a template name or a file.")
@click.argument("source")
def install_cmd(source: str) -> None:
    doc, template = _run(lambda: apps.read_definition(source))
    _print_result(_run(lambda: apps.install(_engine(), doc, template=template)))


@app_group.command("draft", help="Replace an app's draft with a definition file (validated).")
@click.argument("key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def draft_cmd(key: str, file: Path) -> None:
    doc, _ = _run(lambda: apps.read_definition(str(file)))
    engine = _engine()

    def save() -> None:
        with engine.begin() as conn:
            apps.save_draft(conn, key, doc)

    _run(save)
    with engine.connect() as conn:
        preview = _run(lambda: apps.preview(conn, key))
    click.echo(f"draft of {key} saved; publishing it would:")
    for line in preview.plan or ["change nothing"]:
        click.echo(f"  {line}")


@app_group.command("publish", help="Publish an app's draft (shows the schema plan).")
@click.argument("key")
@click.option("--confirm-destructive", is_flag=True, help="Apply changes that can lose data.")
def publish_cmd(key: str, confirm_destructive: bool) -> None:
    result = _run(lambda: apps.publish(_engine(), key, confirm_destructive=confirm_destructive))
    _print_result(result)


@app_group.command("diff", help="What changed between two versions, in words.")
@click.argument("key")
@click.argument("old", type=int)
@click.argument("new", type=int)
def diff_cmd(key: str, old: int, new: int) -> None:
    with _engine().connect() as conn:
        changes = _run(lambda: apps.diff_versions(conn, key, old, new))
    for line in changes or ["no changes"]:
        click.echo(str(line))


@app_group.command("history", help="The published versions of an app.")
@click.argument("key")
def history_cmd(key: str) -> None:
    with _engine().connect() as conn:
        rows = _run(lambda: apps.history(conn, key))
    for row in rows:
        click.echo(f"v{row['version']}  {row['published_at']:%Y-%m-%d %H:%M}  {row['note'] or ''}")


@app_group.command("rollback", help="Publish an earlier version's definition as a new version.")
@click.argument("key")
@click.argument("version", type=int)
@click.option("--confirm-destructive", is_flag=True, help="Apply changes that can lose data.")
def rollback_cmd(key: str, version: int, confirm_destructive: bool) -> None:
    engine = _engine()
    result = _run(
        lambda: apps.rollback(engine, key, version, confirm_destructive=confirm_destructive)
    )
    _print_result(result)


@app_group.command("export", help="Write an app (and with --with-data its records) to a file.")
@click.argument("key")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--with-data", is_flag=True, help="Include every record of the app.")
def export_cmd(key: str, output: Path, with_data: bool) -> None:
    with _engine().connect() as conn:
        document = _run(lambda: app_transfer.export_app(conn, key, with_data=with_data))
    output.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    rows = sum(len(r) for r in document.get("data", {}).values())
    click.echo(f"exported {key} to {output}" + (f" with {rows} rows" if with_data else ""))


@app_group.command("import", help="Install an app from an export file, with its data.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_cmd(file: Path) -> None:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{file} is not a JSON file: {exc}")
    _print_result(_run(lambda: app_transfer.import_app(_engine(), document)))
