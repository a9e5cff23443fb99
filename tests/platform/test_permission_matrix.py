"""The permission matrix: for each API endpoint and runtime page that touches records, a user
without the right gets 403 or 404 (never the data), hidden fields are absent everywhere, and
filters, sorts and searches on hidden fields are refused or match nothing.

The app ``perm``: leads owned by sales reps in two departments below a sales department; a
rep sees their own leads without the ``amount``, a manager every lead of their department and
the ones below, finance every lead with the amount, and an outsider (no role) nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tessera.engines.forms import Actor
from tessera.platform import apps
from tessera.platform.models import Department, Role, RoleMembership, User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.api import conftest as api_fixtures
from tests.platform.api.conftest import Api, Token
from tests.platform.factories import install, records

token_for = api_fixtures.token_for  # the API tests' fixture, used here too

SECRET_AMOUNT = 987654
SECRET_NOTE = "zanzibar-secret"


def perm_app() -> dict[str, Any]:
    return {
        "format": "tessera.app/1",
        "key": "perm",
        "label": "Permissions",
        "entities": [
            {"key": "account", "title": "name", "fields": [{"key": "name", "type": "text"}]},
            {
                "key": "lead",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True},
                    {"key": "amount", "type": "currency"},
                    {"key": "memo", "type": "text"},
                    {"key": "stage", "type": "select", "options": ["new", "won"]},
                    {"key": "account", "type": "link", "entity": "account"},
                ],
            },
        ],
        "roles": [
            {
                "key": "rep",
                "label": "Rep",
                "entities": {
                    "lead": {
                        "read": "own", "create": "own", "update": "own", "delete": "own",
                        "export": "own",
                        "fields": {"amount": "hidden", "memo": "hidden"},
                    },
                    "account": {"read": "own"},
                },
            },
            {
                "key": "manager",
                "entities": {
                    "lead": {"read": "department_tree", "update": "department_tree"},
                    "account": {"read": "all"},
                },
            },
            {"key": "finance", "entities": {"lead": {"read": "all", "export": "all"}}},
        ],
    }  # fmt: skip


@dataclass
class World:
    platform: Platform
    users: dict[str, User]
    leads: dict[str, int]
    account: int


@pytest.fixture
def world(platform: Platform, user_factory: Callable[..., User]) -> World:
    roles = install(platform, perm_app())  # creates the roles rep, manager, finance
    with platform.db.session() as db:
        sales = Department(name="Sales")
        db.add(sales)
        db.flush()
        east = Department(name="East", parent_id=sales.id)
        west = Department(name="West", parent_id=sales.id)
        db.add_all([east, west])
        db.flush()
        ids = {d.name: d.id for d in (sales, east, west)}
    users = {
        "rep": user_factory(name="Rep East", department_id=ids["East"], roles=[roles["rep"]]),
        "rep2": user_factory(name="Rep West", department_id=ids["West"], roles=[roles["rep"]]),
        "manager": user_factory(
            name="Manager", department_id=ids["Sales"], roles=[roles["manager"]]
        ),
        "finance": user_factory(name="Finance", roles=[roles["finance"]]),
        "outsider": user_factory(name="Outsider"),
    }
    with records(platform, "perm") as system:
        account = system.create("account", {"name": "Acme", "owner": users["rep2"].id})["id"]
        leads = {
            who: system.create(
                "lead",
                {
                    "name": f"Lead of {who}", "amount": SECRET_AMOUNT, "memo": SECRET_NOTE,
                    "account": account, "owner": users[who].id,
                },
            )["id"]
            for who in ("rep", "rep2")
        }  # fmt: skip
        system.update("lead", leads["rep"], {"amount": SECRET_AMOUNT + 1})  # some history
    return World(platform, users, leads, account)


def api_as(app: Flask, token_for: Token, user: User) -> Api:
    return Api(app.test_client(), token_for(user, "records:write"), app="perm")


def body(response: Any) -> str:
    return response.get_data(as_text=True)


# -- the API -------------------------------------------------------------------------------------
def test_api_reads_out_of_scope_records_are_404_and_never_in_lists(
    world: World, app: Flask, token_for: Token
) -> None:
    rep = api_as(app, token_for, world.users["rep"])
    theirs = world.leads["rep2"]
    for response in (
        rep.get(f"/lead/{theirs}"),
        rep.get(f"/lead/{theirs}/history"),
        rep.patch(f"/lead/{theirs}", {"name": "mine now"}),
        rep.delete(f"/lead/{theirs}"),
        rep.post(f"/lead/{theirs}/restore"),
        rep.post(f"/lead/{theirs}/shares", {"user": world.users["rep"].id}),
    ):
        assert response.status_code in (403, 404), (response.status_code, body(response))
        assert "Lead of rep2" not in body(response)
    listed = rep.get("/lead").get_json()
    assert [r["id"] for r in listed["records"]] == [world.leads["rep"]]
    for query in ("?search=rep2", "?filter=name%20%3D%20%22Lead%20of%20rep2%22", "?sort=-name"):
        found = rep.get("/lead" + query)
        assert found.status_code == 200
        assert "Lead of rep2" not in body(found)
    bulk = rep.post("/lead/bulk", {"update": [{"id": theirs, "values": {"name": "x"}}]})
    assert bulk.status_code in (403, 404)
    # the lead links to an account only rep2 may read: expanding it shows the id only
    own = rep.get(f"/lead/{world.leads['rep']}?expand=account").get_json()
    assert own["account"] == {"id": world.account}


def test_api_hidden_fields_are_absent_and_unusable(
    world: World, app: Flask, token_for: Token
) -> None:
    rep = api_as(app, token_for, world.users["rep"])
    mine = world.leads["rep"]
    for response in (
        rep.get(f"/lead/{mine}"),
        rep.get(f"/lead/{mine}?fields=name,amount,memo"),
        rep.get("/lead"),
        rep.get(f"/lead/{mine}/history"),
    ):
        assert response.status_code == 200, body(response)
        text = body(response)
        assert str(SECRET_AMOUNT) not in text and SECRET_NOTE not in text
        assert '"amount"' not in text and '"memo"' not in text
    for query in (
        "?sort=amount",
        "?filter=amount%20%3E%201",
        "?filter=" + json.dumps({"field": "memo", "op": "contains", "value": "zan"}),
    ):
        refused = rep.get("/lead" + query)
        assert refused.status_code == 400, (query, body(refused))
        assert SECRET_NOTE not in body(refused)
    assert rep.get("/lead?search=zanzibar").get_json()["records"] == []


def test_api_mass_assignment_is_refused_with_paths(
    world: World, app: Flask, token_for: Token
) -> None:
    rep = api_as(app, token_for, world.users["rep"])
    mine = world.leads["rep"]
    attempts = {
        "owner": world.users["rep2"].id,
        "created_by": world.users["manager"].id,
        "version": 99,
        "id": 12345,
        "amount": 1,
        "memo": "overwritten",
    }
    for key, value in attempts.items():
        created = rep.post("/lead", {"name": "New", key: value})
        assert created.status_code in (403, 422), (key, body(created))
        assert key in [e["path"] for e in created.get_json()["errors"]], (key, body(created))
        changed = rep.patch(f"/lead/{mine}", {key: value})
        assert changed.status_code in (403, 422), (key, body(changed))
        assert key in [e["path"] for e in changed.get_json()["errors"]], (key, body(changed))
    with records(world.platform, "perm") as system:
        lead = system.get("lead", mine)
    assert lead["owner"] == world.users["rep"].id and lead["amount"] == SECRET_AMOUNT + 1


def test_api_scope_after_the_write(world: World, app: Flask, token_for: Token) -> None:
    """A manager may change leads in their tree, but not move one out of it."""
    manager = api_as(app, token_for, world.users["manager"])
    listed = {r["id"] for r in manager.get("/lead").get_json()["records"]}
    assert listed == set(world.leads.values())
    assert manager.post("/lead", {"name": "x"}).status_code == 403  # no create right
    assert manager.patch(f"/lead/{world.leads['rep']}", {"stage": "won"}).status_code == 200


def test_api_roles_and_outsiders(world: World, app: Flask, token_for: Token) -> None:
    finance = api_as(app, token_for, world.users["finance"])
    got = finance.get(f"/lead/{world.leads['rep2']}").get_json()
    assert float(got["amount"]) == SECRET_AMOUNT and got["memo"] == SECRET_NOTE
    assert finance.patch(f"/lead/{world.leads['rep2']}", {"name": "x"}).status_code in (403, 422)
    outsider = api_as(app, token_for, world.users["outsider"])
    assert outsider.get("/lead").get_json()["records"] == []
    assert outsider.get(f"/lead/{world.leads['rep']}").status_code == 404
    assert outsider.post("/lead", {"name": "x"}).status_code == 403


def test_record_shares(world: World, app: Flask, token_for: Token) -> None:
    rep, rep2 = (api_as(app, token_for, world.users[k]) for k in ("rep", "rep2"))
    mine = world.leads["rep"]
    assert rep2.get(f"/lead/{mine}").status_code == 404
    made = rep.post(f"/lead/{mine}/shares", {"user": world.users["rep2"].id})
    assert made.status_code == 201, body(made)
    assert rep2.get(f"/lead/{mine}").status_code == 200
    listed = rep.get(f"/lead/{mine}/shares").get_json()["shares"]
    assert [(s["user_id"], s["access"]) for s in listed] == [(world.users["rep2"].id, "read")]
    assert rep.get(f"/lead/{world.leads['rep2']}/shares").status_code == 404  # not theirs
    assert rep2.patch(f"/lead/{mine}", {"name": "edited"}).status_code == 403  # read share only
    rep.post(f"/lead/{mine}/shares", {"user": world.users["rep2"].id, "access": "edit"})
    assert rep2.patch(f"/lead/{mine}", {"name": "edited"}).status_code == 200
    for bad in ({"user": "1 OR 1=1"}, {"user": 1, "department": 1}, {"user": 1, "access": "own"},
                {"owner": 1}, {"user": True}):  # fmt: skip
        assert rep.post(f"/lead/{mine}/shares", bad).status_code in (400, 422), bad
    # finance reads every lead but changes none: it may neither share nor withdraw a share
    finance = api_as(app, token_for, world.users["finance"])
    assert finance.post(f"/lead/{mine}/shares", {"user": world.users["rep2"].id}).status_code == 403
    refused = finance.client.delete(
        f"{finance.base}/lead/{mine}/shares", json={"user": world.users["rep2"].id},
        headers=finance.headers(),
    )  # fmt: skip
    assert refused.status_code == 403
    withdrawn = rep.client.delete(
        f"{rep.base}/lead/{mine}/shares", json={"user": world.users["rep2"].id},
        headers=rep.headers(),
    )  # fmt: skip
    assert withdrawn.status_code == 200 and withdrawn.get_json() == {"removed": 1}
    assert rep2.get(f"/lead/{mine}").status_code == 404


# -- the runtime pages ---------------------------------------------------------------------------
def test_pages_out_of_scope_and_hidden(world: World, web: Web) -> None:
    web.sign_in(world.users["rep"].email)
    theirs, mine = world.leads["rep2"], world.leads["rep"]
    for path in (
        f"/apps/perm/lead/{theirs}",
        f"/apps/perm/lead/{theirs}/edit",
    ):
        response = web.client.get(path)
        assert response.status_code in (403, 404), path
        assert "Lead of rep2" not in body(response)
    for path in (
        "/apps/perm/lead/",
        "/apps/perm/lead/?q=rep2",
        "/apps/perm/lead/kanban",
        "/apps/perm/lead/calendar",
        "/apps/perm/lead/export?format=csv",
        f"/apps/perm/lead/{mine}",
        f"/apps/perm/lead/{mine}/edit",
        "/apps/perm/lead/_/search?q=Lead",
    ):
        response = web.client.get(path)
        text = body(response)
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        assert "Lead of rep2" not in text, path
        assert str(SECRET_AMOUNT) not in text and SECRET_NOTE not in text, path
        assert "987,654" not in text, path


def test_pages_app_is_closed_to_outsiders(world: World, web: Web) -> None:
    web.sign_in(world.users["outsider"].email)
    assert web.client.get("/apps/perm/lead/").status_code == 403
    assert web.client.get(f"/apps/perm/lead/{world.leads['rep']}").status_code == 403
    assert "/apps/perm/" not in body(web.client.get("/"))


def test_no_roles_means_no_restrictions(
    platform: Platform, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    # another key: the registry caches published versions by app key and version per process
    doc = {**perm_app(), "key": "open", "roles": [{"key": "rep", "label": "Rep"}]}
    apps.install(platform.db.engine, doc)
    owner, other = user_factory(), user_factory()
    with platform.db.engine.begin() as conn:
        service_for(conn, "open", Actor(user_id=owner.id, via="api")).create("lead", {"name": "a"})
    client = api_as(app, token_for, other)
    client.base = "/api/v1/apps/open"
    listed = client.get("/lead").get_json()["records"]
    assert [r["name"] for r in listed] == ["a"]


def test_installing_creates_platform_roles_once(platform: Platform) -> None:
    apps.install(platform.db.engine, perm_app())
    with platform.db.session() as db:
        keys = sorted(r.key for r in db.query(Role).filter(Role.key.in_(("rep", "manager"))))
        assert keys == ["manager", "rep"]
        assert db.query(RoleMembership).count() == 0
