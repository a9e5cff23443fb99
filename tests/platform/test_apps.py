"""The app registry: install, publish, history, diff, rollback, export and import, with data."""

import copy
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines import definitions as defs
from tessera.platform import app_transfer, apps
from tessera.platform.models import App, AppVersion
from tessera.platform.runtime import Platform


def shop(**changes: Any) -> dict[str, Any]:
    """A small app: customers with orders that link to them."""
    doc: dict[str, Any] = {
        "format": "tessera.app/1",
        "key": "shop",
        "label": {"en": "Shop", "zh-CN": "商店"},
        "entities": [
            {
                "key": "customer",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True},
                    {"key": "tier", "type": "select", "options": ["a", "b"]},
                    {"key": "head_office", "type": "link", "entity": "customer"},
                ],
            },
            {
                "key": "order",
                "title": "ref",
                "fields": [
                    {"key": "ref", "type": "text"},
                    {"key": "customer", "type": "link", "entity": "customer"},
                    {"key": "qty", "type": "integer"},
                    {"key": "placed", "type": "datetime"},
                ],
            },
        ],
    }
    doc.update(changes)
    return doc


def rows(platform: Platform, entity: str) -> list[dict[str, Any]]:
    with platform.db.engine.connect() as conn:
        live = apps.published(conn, "shop")
        table = live.table(entity)
        return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.id))]


def insert(platform: Platform, entity: str, *values: dict[str, Any]) -> None:
    with platform.db.engine.begin() as conn:
        live = apps.published(conn, "shop")
        conn.execute(sa.insert(live.table(entity)), list(values))


def test_install_publishes_version_one(platform: Platform) -> None:
    result = apps.install(platform.db.engine, shop())
    assert (result.app, result.version) == ("shop", 1)
    assert any("customer" in line.lower() for line in result.plan)
    with platform.db.engine.connect() as conn:
        assert [h["version"] for h in apps.history(conn, "shop")] == [1]
        assert apps.list_apps(conn)[0]["has_draft_changes"] is False
    insert(platform, "customer", {"name": "ACME"})
    assert rows(platform, "customer")[0]["name"] == "ACME"


def test_invalid_definition_installs_nothing(platform: Platform) -> None:
    bad = shop()
    bad["entities"][1]["fields"][1]["entity"] = "nowhere"
    with pytest.raises(defs.InvalidDefinition) as caught:
        apps.install(platform.db.engine, bad)
    assert any(e.json_path == "$.entities[1].fields[1].entity" for e in caught.value.errors)
    with platform.db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(App)) == 0
        assert not [t for t in sa.inspect(conn).get_table_names() if t.startswith("x_")]


def test_second_install_of_the_same_key_is_refused(platform: Platform) -> None:
    apps.install(platform.db.engine, shop())
    with pytest.raises(apps.AppError, match="installed already"):
        apps.install(platform.db.engine, shop())


def test_publish_drop_needs_confirmation_then_rollback_brings_data_back(platform: Platform) -> None:
    engine = platform.db.engine
    apps.install(engine, shop())
    insert(platform, "customer", {"name": "ACME", "tier": "a"}, {"name": "Globex", "tier": "b"})
    without_tier = shop()
    del without_tier["entities"][0]["fields"][1]
    with engine.begin() as conn:
        apps.save_draft(conn, "shop", without_tier)
        preview = apps.preview(conn, "shop")
    assert any(line.startswith("⚠") for line in preview.plan)
    with pytest.raises(defs.DestructiveChangeRefused):
        apps.publish(engine, "shop")
    with engine.connect() as conn:  # refused: nothing changed
        assert [h["version"] for h in apps.history(conn, "shop")] == [1]
    assert rows(platform, "customer")[0]["tier"] == "a"
    assert apps.publish(engine, "shop", confirm_destructive=True).version == 2
    assert "tier" not in rows(platform, "customer")[0]
    result = apps.rollback(engine, "shop", 1)
    assert result.version == 3
    assert [r["tier"] for r in rows(platform, "customer")] == ["a", "b"]
    with engine.connect() as conn:
        assert apps.diff_versions(conn, "shop", 1, 2)
        assert apps.version_definition(conn, "shop", 3) == apps.version_definition(conn, "shop", 1)


def test_key_of_the_app_cannot_change(platform: Platform) -> None:
    apps.install(platform.db.engine, shop())
    with platform.db.engine.begin() as conn, pytest.raises(apps.AppError, match="cannot change"):
        apps.save_draft(conn, "shop", shop(key="store"))


def test_failed_publish_changes_nothing(platform: Platform) -> None:
    engine = platform.db.engine
    apps.install(engine, shop())
    insert(platform, "customer", {"name": "ACME"}, {"name": "ACME"})
    unique_name = shop()
    unique_name["entities"][0]["fields"][0]["unique"] = True
    with engine.begin() as conn:
        apps.save_draft(conn, "shop", unique_name)
    with pytest.raises(sa.exc.IntegrityError):
        apps.publish(engine, "shop")
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.max(AppVersion.version))) == 1
    assert len(rows(platform, "customer")) == 2


def test_export_and_import_with_data_keep_links(platform: Platform) -> None:
    engine = platform.db.engine
    apps.install(engine, shop())
    insert(platform, "customer", {"id": 1, "name": "Child", "head_office": None})
    insert(platform, "customer", {"id": 2, "name": "Parent"})
    with engine.begin() as conn:
        live = apps.published(conn, "shop")
        conn.execute(
            sa.update(live.table("customer"))
            .where(live.table("customer").c.id == 1)
            .values(head_office=2)
        )
    insert(platform, "order", {"ref": "SO-1", "customer": 1, "qty": 3})
    with engine.connect() as conn:
        document = app_transfer.export_app(conn, "shop", with_data=True)
    before = {e: rows(platform, e) for e in ("customer", "order")}
    # Remove the app and its tables, then import the file into the same database.
    with defs.schema_transaction(engine) as conn:
        live = apps.published(conn, "shop")
        live.metadata.drop_all(conn)
        conn.execute(sa.delete(AppVersion))
        conn.execute(sa.delete(App))
    result = app_transfer.import_app(engine, copy.deepcopy(document))
    assert result.version == 1
    after = {e: rows(platform, e) for e in ("customer", "order")}
    assert after == before
    insert(platform, "customer", {"name": "New"})  # the id sequence continues after import
    assert rows(platform, "customer")[-1]["id"] == 3


def test_import_refuses_foreign_files(platform: Platform) -> None:
    with pytest.raises(apps.AppError, match="not a Tessera export file"):
        app_transfer.import_app(platform.db.engine, {"format": "something/1"})
    document = {"format": apps.EXPORT_FORMAT, "app": shop(), "data": {"users": [{"id": 1}]}}
    with pytest.raises(apps.AppError, match="unknown tables"):
        app_transfer.import_app(platform.db.engine, document)
    with platform.db.engine.connect() as conn:  # all or nothing
        assert conn.scalar(sa.select(sa.func.count()).select_from(App)) == 0


def test_invalid_draft_is_kept_with_its_errors_and_not_published(platform: Platform) -> None:
    engine = platform.db.engine
    apps.install(engine, shop())
    unfinished = shop()
    unfinished["entities"][1]["fields"].append(
        {"key": "total", "type": "formula", "formula": "qty *"}
    )
    with engine.begin() as conn:
        errors = apps.save_draft(conn, "shop", unfinished)
    assert [e.json_path for e in errors] == ["$.entities[1].fields[4].formula"]
    with engine.connect() as conn:  # the draft survives (a reload of the builder shows it)
        assert apps.draft(conn, "shop") == unfinished
        assert apps.list_apps(conn)[0]["has_draft_changes"] is True
    with pytest.raises(defs.InvalidDefinition):
        apps.publish(engine, "shop")
    with engine.connect() as conn:
        assert [h["version"] for h in apps.history(conn, "shop")] == [1]
