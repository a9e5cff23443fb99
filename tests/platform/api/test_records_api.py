"""The records API: CRUD, locking, bulk atomicity, history, and SECURITY.md's hostile inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tessera.engines.definitions import EntityModel
from tessera.engines.definitions.fields import FIELD_TYPES
from tessera.engines.forms import Actor
from tessera.platform import records as platform_records
from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.platform.api.conftest import Api, Token, kit_app


def test_the_test_app_has_every_field_type() -> None:
    used = {f["type"] for e in kit_app()["entities"] for f in e["fields"]}
    assert used == set(FIELD_TYPES)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    return body


def paths(body: Mapping[str, Any]) -> set[str]:
    return {e["path"] for e in body["errors"]}


def count(platform: Platform, entity: str = "item") -> int:
    with platform.db.engine.connect() as conn:
        return int(conn.scalar(sa.text(f"SELECT count(*) FROM x_kit__{entity}")) or 0)


def test_create_get_update_delete_restore_and_history(api: Api) -> None:
    created = api.post("/item", {"name": "Bolt", "qty": "1,200", "price": "¥3.50", "stage": "赢单"})
    assert created.status_code == 201
    item = created.get_json()
    assert (item["qty"], item["price"], item["stage"], item["value"]) == (
        1200,
        "3.50",
        "won",
        "4200.00",
    )
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/api/v1/apps/kit/item/{item['id']}"
    fetched = api.client.get(created.headers["Location"], headers=api.headers())
    assert fetched.get_json() == item
    changed = api.patch(f"/item/{item['id']}", {"qty": 2}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert api.delete(f"/item/{item['id']}").status_code == 204
    problem(api.get(f"/item/{item['id']}"), 404)
    trash = api.get("/item?trashed=true").get_json()["records"]
    assert [r["id"] for r in trash] == [item["id"]]
    assert api.post(f"/item/{item['id']}/restore").get_json()["deleted_at"] is None
    history = api.get(f"/item/{item['id']}/history").get_json()["entries"]
    assert [e["action"] for e in history] == ["created", "updated", "deleted", "restored"]
    # an unlabelled field is named by its key read as words
    assert {"field": "qty", "label": "Qty", "old": 1200, "new": 2} in history[1]["changes"]


def test_list_filters_sorts_pages_and_counts(api: Api) -> None:
    for n in range(7):
        api.post("/item", {"name": f"N{n}", "qty": n})
    first = api.get(
        "/item",
        query_string={
            "filter": "qty >= 2",
            "sort": "-qty",
            "limit": 3,
            "total": "true",
            "fields": "name,qty",
        },
    ).get_json()
    assert [r["qty"] for r in first["records"]] == [6, 5, 4] and first["total"] == 5
    assert (
        set(first["records"][0]) >= {"id", "version", "name", "qty"}
        and "price" not in first["records"][0]
    )
    second = api.get(
        "/item",
        query_string={
            "filter": "qty >= 2",
            "sort": "-qty",
            "limit": 3,
            "fields": "name,qty",
            "after": first["next_cursor"],
        },
    ).get_json()
    assert [r["qty"] for r in second["records"]] == [3, 2] and second["next_cursor"] is None
    as_json = api.get(
        "/item", query_string={"filter": '{"field": "name", "op": "eq", "value": "N1"}'}
    )
    assert [r["name"] for r in as_json.get_json()["records"]] == ["N1"]
    assert [r["name"] for r in api.get("/item?search=N4").get_json()["records"]] == ["N4"]


def test_a_stale_write_is_refused_with_409_and_the_fields_changed_since(api: Api) -> None:
    item = api.post("/item", {"name": "Bolt", "qty": 1}).get_json()
    assert (
        api.patch(f"/item/{item['id']}", {"qty": 2}, headers={"If-Match": '"1"'}).status_code == 200
    )
    stale = problem(
        api.patch(f"/item/{item['id']}", {"name": "Nut"}, headers={"If-Match": '"1"'}), 409
    )
    assert stale["current_version"] == 2 and stale["changed_fields"] == ["qty"]
    problem(api.delete(f"/item/{item['id']}", headers={"If-Match": '"1"'}), 409)
    assert api.get(f"/item/{item['id']}").get_json()["name"] == "Bolt"
    assert paths(
        problem(api.patch(f"/item/{item['id']}", {"qty": 3}, headers={"If-Match": "v1"}), 400)
    ) == {"If-Match"}


def test_a_failed_bulk_write_leaves_nothing_behind(api: Api, kit: Platform) -> None:
    keep = api.post("/item", {"name": "Keep", "code": "K"}).get_json()
    before = count(kit)
    body = {
        "create": [{"name": "A", "code": "A"}, {"name": "B", "code": "K"}, {"name": "C"}],
        "update": [{"id": keep["id"], "values": {"qty": 5}}],
        "delete": [keep["id"]],
    }
    failed = problem(api.post("/item/bulk", body), 422)
    assert paths(failed) == {"create[1].code"}
    assert count(kit) == before
    assert api.get(f"/item/{keep['id']}").get_json()["qty"] is None
    stale = {
        "update": [
            {"id": keep["id"], "version": 1, "values": {"qty": 1}},
            {"id": keep["id"], "version": 1, "values": {"qty": 2}},
        ],
        "create": [{"name": "D"}],
    }
    problem(api.post("/item/bulk", stale), 409)
    assert count(kit) == before and api.get(f"/item/{keep['id']}").get_json()["version"] == 1
    bad_update = problem(
        api.post("/item/bulk", {"update": [{"id": keep["id"], "values": {"qty": "x"}}]}), 422
    )
    assert paths(bad_update) == {"update[0].values.qty"}
    done = api.post(
        "/item/bulk",
        {"create": [{"name": "E"}, {"name": "F"}], "delete": [{"id": keep["id"], "version": 1}]},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert len(done.get_json()["created"]) == 2 and done.get_json()["deleted"] == 1


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "name, (select sleep(5))"},
        {"sort": "name;DROP TABLE x_kit__item"},
        {"filter": '{"field": "x`) or 1=1--", "op": "eq", "value": 1}'},
        {"filter": '{"field": "name", "op": "eq) or 1=1--", "value": 1}'},
        {"filter": 'name = "a") OR 1=1 --'},
        {"filter": "pg_sleep(5) = 1"},
        {"filter": "{not json"},
        {"fields": "name,(select 1)"},
        {"expand": "name"},
        {"limit": "0"},
        {"limit": "1; select 1"},
        {"after": "eyJ4IjoxfQ"},
        {"total": "maybe"},
    ],
)
def test_hostile_list_parameters_get_a_fast_400_without_database_text(
    api: Api, query: dict[str, str]
) -> None:
    response = api.get("/item", query_string=query)  # refused before any SQL is built
    body = problem(response, 400)
    text = response.get_data(as_text=True).lower()
    for leak in (
        "sqlite",
        "psycopg",
        "sqlalchemy",
        "syntax error",
        "traceback",
        "operationalerror",
    ):
        assert leak not in text
    assert body["errors"] and all(e["path"] for e in body["errors"])


def test_a_search_for_sql_finds_nothing_and_fails_nothing(api: Api) -> None:
    api.post("/item", {"name": "Bolt"})
    for term in ["' OR 1=1 --", '" OR ""="', "*", "NEAR(a b)", "a AND b OR", "%_\\"]:
        assert api.get("/item", query_string={"search": term}).get_json()["records"] == []


def test_system_fields_and_owner_in_a_body_are_refused_with_their_paths(api: Api) -> None:
    body = {
        "name": "X",
        "id": 99,
        "version": 7,
        "created_by": 2,
        "updated_at": "2020-01-01T00:00:00Z",
        "deleted_at": None,
        "owner": 2,
        "number": "IT-9999",
        "value": 1,
    }
    refused = problem(api.post("/item", body), 422)
    assert paths(refused) >= {"owner"}
    refused = problem(api.post("/item", {k: v for k, v in body.items() if k != "owner"}), 422)
    assert paths(refused) == {
        "id",
        "version",
        "created_by",
        "updated_at",
        "deleted_at",
        "number",
        "value",
    }
    item = api.post("/item", {"name": "Y"}).get_json()
    assert paths(problem(api.patch(f"/item/{item['id']}", {"owner": 2, "version": 9}), 422)) >= {
        "owner"
    }
    assert paths(problem(api.post("/item/bulk", {"create": [{"name": "Z", "owner": 2}]}), 422)) == {
        "create[0].owner"
    }
    assert api.get(f"/item/{item['id']}").get_json()["version"] == 1


def test_authentication_and_token_scopes(
    kit: Platform, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    client = app.test_client()
    for response in (
        client.get("/api/v1/apps/kit/item"),
        client.post("/api/v1/apps/kit/item", json={"name": "X"}),
        client.get("/api/v1/apps/kit/openapi.json"),
        client.get("/api/v1/apps/kit/item", headers={"Authorization": "Bearer tsr_bogus_x"}),
    ):
        assert problem(response, 401)["type"].endswith("/unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    reader = Api(client, token_for(user_factory(), "records:read"))
    assert reader.get("/item").status_code == 200
    assert problem(reader.post("/item", {"name": "X"}), 403)["type"].endswith("/insufficient-scope")
    assert count(kit) == 0


def test_unknown_apps_entities_records_and_child_entities_are_404(api: Api) -> None:
    problem(api.client.get("/api/v1/apps/nope/item", headers=api.headers()), 404)
    problem(api.get("/nope"), 404)
    problem(api.get("/part"), 404)  # child rows are reached through their parent
    problem(api.get("/item/abc"), 404)
    problem(api.get(f"/item/{2**70}"), 404)
    problem(api.post("/item", [1, 2]), 400)
    problem(api.client.post(api.base + "/item", data="name=x", headers=api.headers()), 400)


# -- IDOR: the API passes the caller to the permission hook, on every endpoint ---------------


class OwnRecordsOnly:
    """A scope as the permission engine will give it: each user sees and changes their own."""

    def __init__(self, user_id: int | None) -> None:
        self.user_id = user_id

    def read_filter(self, entity: EntityModel, table: sa.Table) -> Any:
        return None if entity.child else table.c.owner_id == self.user_id

    def can(self, action: str, entity: EntityModel, record: Mapping[str, Any] | None) -> bool:
        return record is None or record.get("owner") == self.user_id

    def writable_fields(self, entity: EntityModel) -> set[str] | None:
        return None

    def refused(
        self, action: str, entity: EntityModel, records: Sequence[Mapping[str, Any]]
    ) -> list[Any]:
        return [r.get("id") for r in records if not self.can(action, entity, r)]


@pytest.fixture
def own_records_only() -> Iterator[list[Actor]]:
    seen: list[Actor] = []

    def provider(conn: sa.Connection, app_key: str, actor: Actor) -> OwnRecordsOnly:
        seen.append(actor)
        return OwnRecordsOnly(actor.user_id)

    previous = platform_records.set_scope_provider(provider)
    yield seen
    platform_records.set_scope_provider(previous)


def test_user_a_cannot_reach_user_b_records_on_any_endpoint(
    kit: Platform,
    app: Flask,
    user_factory: Callable[..., User],
    token_for: Token,
    own_records_only: list[Actor],
) -> None:
    alice, bob = user_factory(name="Alice"), user_factory(name="Bob")
    a = Api(app.test_client(), token_for(alice))
    b = Api(app.test_client(), token_for(bob))
    secret = b.post("/item", {"name": "Bob's deal", "code": "B1"}).get_json()
    assert own_records_only[-1].user_id == bob.id and own_records_only[-1].via == "api"
    rid = secret["id"]
    problem(a.get(f"/item/{rid}"), 404)
    problem(a.get(f"/item/{rid}/history"), 404)
    problem(a.patch(f"/item/{rid}", {"name": "mine"}), 404)
    problem(a.delete(f"/item/{rid}"), 404)
    problem(a.post(f"/item/{rid}/restore"), 404)
    problem(a.post("/item/bulk", {"update": [{"id": rid, "values": {"name": "mine"}}]}), 404)
    problem(a.post("/item/bulk", {"delete": [rid]}), 404)
    assert a.get("/item").get_json()["records"] == []
    assert a.get("/item", query_string={"search": "Bob", "total": "true"}).get_json()["total"] == 0
    assert a.get("/item", query_string={"filter": 'code = "B1"'}).get_json()["records"] == []
    assert own_records_only[-1].user_id == alice.id
    assert b.get(f"/item/{rid}").get_json()["name"] == "Bob's deal"
    b.delete(f"/item/{rid}")
    problem(a.post(f"/item/{rid}/restore"), 404)


@contextmanager
def statements_run(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement the database is sent meanwhile, whitespace folded: SQLAlchemy's, and on
    SQLite also those sent to the driver directly (``engines.driver``), through the driver's
    trace callback on each connection checked out."""
    statements: list[str] = []

    def note(statement: str) -> None:
        statements.append(" ".join(statement.split()))

    traced: list[Any] = []

    def trace(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_trace_callback(note)
        traced.append(dbapi_connection)

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        note(statement)

    sqlite = engine.dialect.name == "sqlite"
    listener, hook = ("checkout", trace) if sqlite else ("before_cursor_execute", seen)
    sa.event.listen(engine, listener, hook)
    try:
        yield statements
    finally:
        sa.event.remove(engine, listener, hook)
        for dbapi_connection in traced:
            dbapi_connection.set_trace_callback(None)


def test_a_request_reads_the_app_registry_row_with_its_token(api: Api, kit: Platform) -> None:
    """The token check reads the named app's registry row too: no statement of its own."""
    assert api.post("/item", {"name": "Warm"}).status_code == 201  # the model compiled once
    with statements_run(kit.db.engine) as statements:
        assert api.post("/item", {"name": "Again"}).status_code == 201
        assert api.get("/item?limit=1").status_code == 200
    with_token = [s for s in statements if "FROM api_tokens" in s]
    assert len(with_token) == 2 and all("JOIN apps" in s for s in with_token)
    assert not [s for s in statements if "FROM apps" in s], statements
