"""The permission policy on both databases: record scopes, the union of roles, hidden and
read-only fields, and the scope checked again after a write."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.forms import Actor, PermissionDenied, RecordService, ValidationFailed
from tessera.engines.forms.compiled import compile_records, record_tables
from tessera.engines.forms.permissions import Facts, Policy, PolicyScope
from tessera.platform import apps
from tessera.platform.models import Department, User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def policy(**entities: Any) -> Policy:
    roles = [{"key": key, "entities": {"customer": spec}} for key, spec in entities.items()]
    return Policy.from_doc({"roles": roles})


@pytest.fixture
def people(sales: Platform) -> Platform:
    """Departments top > east, top > west; users 3 (east), 4 (west), 5 (top); customers owned
    by Ada (1, no department), 3 and 4."""
    with sales.db.engine.begin() as conn:
        conn.execute(sa.insert(Department), [
            {"id": 10, "name": "Top"}, {"id": 11, "name": "East", "parent_id": 10},
            {"id": 12, "name": "West", "parent_id": 10},
        ])  # fmt: skip
        conn.execute(sa.insert(User), [
            {"id": 3, "email": "e@x.com", "name": "East", "department_id": 11},
            {"id": 4, "email": "w@x.com", "name": "West", "department_id": 12},
            {"id": 5, "email": "t@x.com", "name": "Top", "department_id": 10},
        ])  # fmt: skip
        system = service_for(conn, "sales", Actor(user_id=None, via="system"))
        for owner, name in ((1, "ada co"), (3, "east co"), (4, "west co")):
            system.create("customer", {"name": name, "owner": owner, "api_key": "k-" + name})
    return sales


def scoped(conn: sa.Connection, pol: Policy, facts: Facts) -> tuple[RecordService, PolicyScope]:
    live = apps.published(conn, "sales")
    context = ex.EvalContext(now=NOW, user_id=facts.user_id, department_id=facts.department_id)
    scope = pol.scope(
        facts, conn=conn, app=live.model, tables=record_tables(live.metadata, live.model),
        schema=compile_records(live.model).schema, context=context,
    )  # fmt: skip
    actor = Actor(user_id=facts.user_id, via="api", department_id=facts.department_id)
    return service_for(conn, "sales", actor, scope=scope, clock=lambda: NOW), scope


@pytest.fixture
def conn(people: Platform) -> Iterator[sa.Connection]:
    with people.db.engine.begin() as connection:
        yield connection


EAST = Facts(3, 11, (11,), frozenset({"rep"}))
TOP = Facts(5, 10, (10, 11, 12), frozenset({"rep"}))


def names(service: RecordService) -> list[str]:
    return sorted(r["name"] for r in service.list("customer").records)


@pytest.mark.parametrize(
    ("scope", "facts", "expected"),
    [
        ("own", EAST, ["east co"]),
        ("department", EAST, ["east co"]),
        ("department", TOP, []),
        ("department_tree", TOP, ["east co", "west co"]),
        ("all", EAST, ["ada co", "east co", "west co"]),
        ({"formula": 'owner = CURRENT_USER() OR name = "ada co"'}, EAST, ["ada co", "east co"]),
        ({"formula": 'tier = "b" AND owner <> CURRENT_USER()'}, EAST, ["ada co", "west co"]),
    ],
)
def test_record_scopes(conn: sa.Connection, scope: Any, facts: Facts, expected: list[str]) -> None:
    service, _ = scoped(conn, policy(rep={"read": scope}), facts)
    assert names(service) == expected
    assert service.count("customer") == len(expected)


def test_roles_add_up_and_unknown_roles_see_nothing(conn: sa.Connection) -> None:
    pol = Policy.from_doc({"roles": [
        {"key": "rep", "entities": {"customer": {"read": "own", "fields": {"email": "hidden"}}}},
        {"key": "peer", "entities": {"customer": {"read": {"formula": 'name = "west co"'}}}},
    ]})  # fmt: skip
    both = Facts(3, 11, (11,), frozenset({"rep", "peer"}))
    service, scope = scoped(conn, pol, both)
    assert names(service) == ["east co", "west co"]
    model = service.entity("customer")
    assert scope.hidden_fields(model) == set()  # "peer" does not hide email
    service, scope = scoped(conn, pol, Facts(3, 11, (11,), frozenset({"rep"})))
    assert scope.hidden_fields(model) == {"email"}
    nobody, _ = scoped(conn, pol, Facts(3, 11, (11,), frozenset()))
    assert names(nobody) == []
    assert not pol.may_open(Facts(3, 11, (11,), frozenset())) and pol.may_open(both)


def test_hidden_fields_vanish_and_refuse_filters(conn: sa.Connection) -> None:
    pol = policy(rep={"read": "all", "update": "all", "fields": {"api_key": "hidden"}})
    service, _ = scoped(conn, pol, EAST)
    record = service.list("customer").records[0]
    assert "api_key" not in record
    assert "api_key" not in service.get("customer", record["id"], fields=["name", "api_key"])
    from tessera.engines.forms import ListQuery

    for query in (
        ListQuery(sort=[("api_key", "asc")]),
        ListQuery(filter={"field": "api_key", "op": "eq", "value": "k-ada co"}),
        ListQuery(filter='api_key = "k-ada co"'),
    ):
        with pytest.raises(ValidationFailed) as failed:
            service.list("customer", query)
        assert failed.value.errors[0].path.startswith(("sort[0]", "filter"))
    # a formula misusing a hidden field is refused as naming no field, before the type check
    # could say what the field is (and name it by its label)
    with pytest.raises(ValidationFailed) as failed:
        service.list("customer", ListQuery(filter="-api_key > 0"))
    (error,) = failed.value.errors
    assert (error.code, error.message) == ("unknown_field", "there is no field “api_key”")
    assert service.list("customer", ListQuery(search="k-ada")).records == []
    with pytest.raises(ValidationFailed) as refused:
        service.update("customer", record["id"], {"api_key": "new"})
    assert refused.value.errors[0].path == "api_key"


def test_writes_check_the_scope_before_and_after(conn: sa.Connection) -> None:
    pol = policy(rep={"read": "department_tree", "create": "own", "update": "department_tree"})
    service, scope = scoped(conn, pol, TOP)
    model = service.entity("customer")
    assert "owner" not in (scope.writable_fields(model) or set())
    east = next(r for r in service.list("customer").records if r["name"] == "east co")
    service.update("customer", east["id"], {"email": "a@b.co"})
    other, _ = scoped(conn, pol, EAST)
    with pytest.raises(ValidationFailed):  # the owner is not the rep's to change
        other.update("customer", east["id"], {"owner": 4})
    created = other.create("customer", {"name": "fresh"})
    assert created["owner"] == 3
    with pytest.raises(PermissionDenied):  # no delete right
        other.delete("customer", east["id"])
    formula = policy(rep={"read": "all", "update": {"formula": 'tier = "b"'}, "create": "all"})
    service, _ = scoped(conn, formula, EAST)
    with pytest.raises(PermissionDenied):  # the change would take it out of the update scope
        service.update("customer", east["id"], {"tier": "a"})
    assert service.get("customer", east["id"])["tier"] == "b"


def test_a_bulk_create_checks_its_chunk_against_the_scope_at_once(conn: sa.Connection) -> None:
    """A create scope that depends on the stored values is checked after the write for the
    whole chunk (one query, not one per row); a row outside it refuses the call, naming the
    first such row, and leaves nothing behind."""
    pol = policy(rep={"read": "all", "create": {"formula": 'tier = "b"'}})
    service, scope = scoped(conn, pol, EAST)
    model = service.entity("customer")
    before = service.count("customer")
    rows = [{"name": f"ok {n}", "tier": "b"} for n in range(5)]
    ids = service.bulk_create("customer", rows)
    stored = [service.get("customer", i) for i in ids]
    assert scope.refused("create", model, stored) == []
    more = [{"name": f"more {n}", "tier": "b"} for n in range(4)]
    bad = [*more[:2], {"name": "outside", "tier": "a"}, *more[2:], {"name": "also", "tier": "a"}]
    with pytest.raises(PermissionDenied) as refused:
        service.bulk_create("customer", bad)
    assert refused.value.args and "[2]" in str(refused.value)
    assert service.count("customer") == before + 5
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(conn, "before_cursor_execute", note)
    service.bulk_create("customer", [{"name": f"many {n}", "tier": "b"} for n in range(40)])
    sa.event.remove(conn, "before_cursor_execute", note)
    checks = [s for s in statements if re.match(r"SELECT \S+\.id\s+FROM", s) and "tier" in s]
    assert len(checks) == 1, checks
