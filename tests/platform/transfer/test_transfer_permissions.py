"""The permission matrix of exports and imports (issue #7): ``export`` and ``import`` are rights
of their own, each on top of the read or write rights it relies on.

A user without the right gets 403 or 404 and never data, for the export (CSV and XLSX), the
import upload, and the pages, status and error report of someone else's import; exports hold
only in-scope records and never hidden fields, and refuse filters and sorts on hidden fields;
imports only fill fields the user may write and update only with the update right.  The app
``xfer``: leads owned by reps; ``amount`` hidden from reps.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from tessera.platform import apps
from tessera.platform.models import Import, RoleMembership, User
from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.factories import install, records
from tests.platform.transfer.factories import choose, run_imports, upload

SECRET_AMOUNT = 987654


def xfer_app() -> dict[str, Any]:
    lead_fields = [
        {"key": "name", "type": "text", "required": True},
        {"key": "code", "type": "text", "unique": True},
        {"key": "amount", "type": "currency"},
        {"key": "account", "type": "link", "entity": "account"},
        {"key": "partners", "type": "multi_link", "entity": "account"},
    ]
    return {
        "format": "tessera.app/1",
        "key": "xfer",
        "label": "Transfer rights",
        "entities": [
            {"key": "account", "title": "name", "fields": [{"key": "name", "type": "text"}]},
            {"key": "lead", "title": "name", "fields": lead_fields},
        ],
        "roles": [
            {"key": "xrep", "label": "Rep", "entities": {
                "lead": {"read": "own", "create": "own", "update": "own", "export": "own",
                         "import": "own", "fields": {"amount": "hidden"}},
                "account": {"read": "all"}}},
            {"key": "xviewer", "label": "Viewer", "entities": {"lead": {"read": "all"}}},
            {"key": "xcreator", "label": "Creator", "entities": {
                "lead": {"read": "own", "create": "own"}}},
            {"key": "xexporter", "label": "Exporter", "entities": {
                "lead": {"read": "all", "export": "all"}}},
            {"key": "ximporter", "label": "Importer", "entities": {
                "lead": {"read": "own", "create": "own", "import": "own"}}},
        ],
    }  # fmt: skip


@dataclass
class World:
    platform: Platform
    users: dict[str, User]
    leads: dict[str, int]
    roles: dict[str, int]


@pytest.fixture
def world(platform: Platform, user_factory: Callable[..., User]) -> World:
    roles = install(platform, xfer_app())
    users = {
        "rep": user_factory(name="Rep One", roles=[roles["xrep"]]),
        "rep2": user_factory(name="Rep Two", roles=[roles["xrep"]]),
        "viewer": user_factory(name="Viewer", roles=[roles["xviewer"]]),
        "creator": user_factory(name="Creator", roles=[roles["xcreator"]]),
        "exporter": user_factory(name="Exporter", roles=[roles["xexporter"]]),
        "importer": user_factory(name="Importer", roles=[roles["ximporter"]]),
        "outsider": user_factory(name="Outsider"),
    }
    with records(platform, "xfer") as system:
        acme = system.create("account", {"name": "Acme Corp"})["id"]
        beta = system.create("account", {"name": "Beta Ltd"})["id"]
        leads = {
            who: system.create(
                "lead",
                {"name": f"Lead of {who}", "code": f"C-{who}", "amount": SECRET_AMOUNT,
                 "account": acme, "partners": [beta, acme], "owner": users[who].id},
            )["id"]
            for who in ("rep", "rep2")
        }  # fmt: skip
    return World(platform, users, leads, roles)


def signed_in(app: Flask, world: World, who: str) -> Web:
    web = Web(app.test_client())
    web.sign_in(world.users[who].email)
    return web


def text(response: Any) -> str:
    """The body as text; an XLSX download as its cells' text."""
    data = response.get_data()
    if data.startswith(b"PK\x03\x04"):
        return repr(xlsx_rows(response))
    return str(data.decode("utf-8-sig"))


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def xlsx_rows(response: Any) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    return list(book.worksheets[0].iter_rows(values_only=True))


LEADS = "/apps/xfer/lead"
EXPORTS = ("/apps/xfer/lead/export?format=csv", "/apps/xfer/lead/export?format=xlsx")


# -- exports -------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["viewer", "creator", "importer", "outsider"])
def test_export_needs_the_export_right(app: Flask, world: World, who: str) -> None:
    web = signed_in(app, world, who)
    for path in EXPORTS:
        response = web.client.get(path)
        assert response.status_code in (403, 404), (who, path, response.status_code)
        assert "Lead of" not in text(response) and "attachment" not in str(response.headers)


def test_export_holds_in_scope_records_without_hidden_fields(app: Flask, world: World) -> None:
    web = signed_in(app, world, "rep")
    query = "&cols=name,code,amount,account,partners"
    table = csv_rows(web.client.get(EXPORTS[0] + query))
    assert table[0] == ["Name", "Code", "Account", "Partners"]  # no amount column at all
    assert table[1:] == [["Lead of rep", "C-rep", "Acme Corp", "Beta Ltd, Acme Corp"]]
    sheet = xlsx_rows(web.client.get(EXPORTS[1] + query))
    assert sheet == [("Name", "Code", "Account", "Partners"),
                     ("Lead of rep", "C-rep", "Acme Corp", "Beta Ltd, Acme Corp")]  # fmt: skip
    for path in EXPORTS:
        everything = web.client.get(path)
        assert "Lead of rep2" not in text(everything) and str(SECRET_AMOUNT) not in text(everything)
        chosen = web.client.get(f"{path}&ids={world.leads['rep2']}&cols=name")
        assert "Lead of rep2" not in text(chosen)


def test_exporter_sees_every_record_and_ids_of_links_it_may_not_read(
    app: Flask, world: World
) -> None:
    web = signed_in(app, world, "exporter")  # reads every lead, no account at all
    table = csv_rows(web.client.get(EXPORTS[0] + "&cols=name,amount,account&sort=name"))
    assert [r[0] for r in table[1:]] == ["Lead of rep", "Lead of rep2"]
    assert table[1][1] == "987654.00" and re.fullmatch(r"#\d+", table[1][2])


def test_export_refuses_filters_and_sorts_on_hidden_fields(app: Flask, world: World) -> None:
    web = signed_in(app, world, "rep")
    for path in EXPORTS:
        for extra in ("&sort=amount", "&sort=-amount", "&formula=amount > 1",
                      "&formula=amount = 987654"):  # fmt: skip
            response = web.client.get(path + extra)
            assert response.status_code == 400, (path, extra)
            assert "Lead of" not in text(response)
        searched = web.client.get(path + "&q=987654")
        assert "Lead of" not in text(searched)


def test_an_export_bigger_than_the_limit_is_refused_with_a_message(
    app: Flask, world: World
) -> None:
    app.config["TESSERA_EXPORT_MAX_ROWS"] = 1
    web = signed_in(app, world, "exporter")
    for path in EXPORTS:
        response = web.client.get(path)
        assert response.status_code == 413 and "attachment" not in str(response.headers)
        assert "2 records" in text(response) and "at most 1" in text(response)
        assert "Lead of" not in text(response)
        one = web.client.get(f"{path}&ids={world.leads['rep']}")
        assert one.status_code == 200 and "attachment" in one.headers["Content-Disposition"]


# -- imports -------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["viewer", "creator", "exporter", "outsider"])
def test_import_needs_the_import_and_create_rights(app: Flask, world: World, who: str) -> None:
    web = signed_in(app, world, who)
    assert web.client.get("/apps/xfer/lead/import").status_code in (403, 404)
    token = web.csrf("/profile")
    response = web.client.post(
        "/apps/xfer/lead/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"name\nSneaky\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (403, 404)
    with world.platform.db.session() as db:
        assert db.scalars(sa.select(Import.id)).all() == []


def test_someone_elses_import_is_404_everywhere(app: Flask, world: World) -> None:
    owner = signed_in(app, world, "rep")
    location = upload(owner, b"name,code\nBad,C-rep\n", entity=LEADS).headers["Location"]
    assert choose(owner, location, {0: "name", 1: "code"}).status_code == 302
    run_imports(world.platform)  # the code is taken: an error report exists
    with owner.client.get(location + "/errors.csv") as report:
        assert report.status_code == 200 and "C-rep" in text(report)
    for who in ("rep2", "viewer", "importer", "outsider"):
        other = signed_in(app, world, who)
        for suffix in ("", "/status", "/errors.csv"):
            with other.client.get(location + suffix, headers={"Accept": "application/json"}) as r:
                assert r.status_code in (403, 404), (who, suffix, r.status_code)
                assert "C-rep" not in text(r) and "Bad" not in text(r)


def test_an_import_fills_only_writable_fields_and_stays_in_scope(app: Flask, world: World) -> None:
    web = signed_in(app, world, "rep")
    location = upload(web, b"name,amount\nFresh,12\n", entity=LEADS).headers["Location"]
    page = text(web.client.get(location))
    assert 'value="amount"' not in page  # the hidden field is not offered
    refused = choose(web, location, {0: "name", 1: "amount"})
    assert refused.status_code == 400
    assert choose(web, location, {0: "name"}).status_code == 302
    run_imports(world.platform)
    with world.platform.db.engine.connect() as conn:
        table = apps.published(conn, "xfer").table("lead")
        owner, amount = conn.execute(
            sa.select(table.c.owner_id, table.c.amount).where(table.c.name == "Fresh")
        ).one()
    assert (owner, amount) == (world.users["rep"].id, None)


def test_updating_existing_records_needs_the_update_right(app: Flask, world: World) -> None:
    web = signed_in(app, world, "importer")  # import and create, no update
    location = upload(web, b"code,name\nC-rep,Renamed\n", entity=LEADS).headers["Location"]
    refused = choose(web, location, {0: "code", 1: "name"}, mode="upsert", unique_field="code")
    assert refused.status_code == 400
    run_imports(world.platform)
    with world.platform.db.engine.connect() as conn:
        table = apps.published(conn, "xfer").table("lead")
        assert conn.scalar(sa.select(table.c.name).where(table.c.code == "C-rep")) == "Lead of rep"


def test_rights_taken_away_before_the_job_runs_stop_the_import(app: Flask, world: World) -> None:
    web = signed_in(app, world, "rep")
    location = upload(web, b"name\nLate\n", entity=LEADS).headers["Location"]
    assert choose(web, location, {0: "name"}).status_code == 302
    with world.platform.db.session() as db:
        db.execute(sa.delete(RoleMembership).where(RoleMembership.user_id == world.users["rep"].id))
    run_imports(world.platform)
    with world.platform.db.session() as db:
        record = db.scalars(sa.select(Import)).one()
        assert record.status == "failed" and record.created_count in (0, None)
        assert record.message == "You may no longer import these records or fill these fields."
    with world.platform.db.engine.connect() as conn:
        table = apps.published(conn, "xfer").table("lead")
        assert conn.scalar(sa.select(table.c.id).where(table.c.name == "Late")) is None


def test_an_import_whose_user_was_deactivated_before_the_job_runs_fails(
    app: Flask, world: World
) -> None:
    web = signed_in(app, world, "rep")
    location = upload(web, b"name\nOrphan\n", entity=LEADS).headers["Location"]
    assert choose(web, location, {0: "name"}).status_code == 302
    with world.platform.db.session() as db:
        db.execute(sa.update(User).where(User.id == world.users["rep"].id).values(is_active=False))
    run_imports(world.platform)
    with world.platform.db.session() as db:
        record = db.scalars(sa.select(Import)).one()
        assert record.status == "failed"
        assert record.message == "The user who started this import is gone."
        assert record.finished_at is not None
    with world.platform.db.engine.connect() as conn:
        table = apps.published(conn, "xfer").table("lead")
        assert conn.scalar(sa.select(table.c.id).where(table.c.name == "Orphan")) is None
