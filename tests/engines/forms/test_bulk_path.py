"""The bulk create path imports use: a checker compiled per call, static defaults worked out
once, rows sent to the driver as tuples, and on SQLite the search index filled by one
statement per chunk (the insert trigger is set aside for the chunk and put back).  Each must
give what the one-record path gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.forms import Actor, ListQuery, RecordService, ValidationFailed
from tessera.engines.forms.inserts import FTS_BULK_MIN
from tessera.engines.forms.values import Checker, check_values, checker_for
from tessera.platform import apps
from tessera.platform.models import AuditEntry, User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform
from tests.engines.forms.test_fast_paths import a_deal, deals_app


@pytest.fixture
def conn(platform: Platform) -> Iterator[sa.Connection]:
    with platform.db.engine.begin() as connection:
        connection.execute(sa.insert(User), [{"id": 1, "email": "ada@example.com", "name": "Ada"}])
    apps.install(platform.db.engine, deals_app())
    apps.install(platform.db.engine, PLAIN_APP)
    with platform.db.engine.begin() as connection:
        yield connection


def service(conn: sa.Connection) -> RecordService:
    return service_for(conn, "fast", Actor(user_id=1, via="import"))


def names(svc: RecordService, search: str) -> list[str]:
    page = svc.list("deal", ListQuery(search=search, sort=[("name", "asc")], limit=500))
    return [r["name"] for r in page.records]


def triggers(conn: sa.Connection) -> list[str]:
    if conn.dialect.name != "sqlite":
        return []
    return sorted(
        conn.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
    )


def test_bulk_created_records_are_searchable_and_stay_so_after_edits(conn: sa.Connection) -> None:
    svc = service(conn)
    before = triggers(conn)
    count = FTS_BULK_MIN * 2 + 7
    ids = svc.bulk_create("deal", [a_deal(n, name=f"Walrus {n:04d}") for n in range(count)])
    assert triggers(conn) == before  # the insert trigger is back, as it was
    assert len(names(svc, "walrus")) == count
    assert names(svc, "Walrus 0042") == ["Walrus 0042"]
    svc.update("deal", ids[42], {"name": "Narwhal"})  # the update trigger finds the row indexed
    assert names(svc, "Walrus 0042") == [] and names(svc, "narwhal") == ["Narwhal"]
    svc.create("deal", a_deal(1, name="Single walrus"))  # the insert trigger works again
    assert "Single walrus" in names(svc, "walrus")


def test_a_refused_bulk_leaves_index_trigger_and_table_as_they_were(conn: sa.Connection) -> None:
    svc = service(conn)
    svc.bulk_create("deal", [a_deal(n, name=f"Kept {n}") for n in range(FTS_BULK_MIN)])
    before = triggers(conn)
    rows = [a_deal(n, name=f"Lost {n}", amount=str(n)) for n in range(FTS_BULK_MIN + 20)]
    rows[-1]["amount"] = "-1"  # a validation rule refuses it after the rows are written
    with pytest.raises(ValidationFailed) as caught:
        svc.bulk_create("deal", rows)
    assert [e.path for e in caught.value.errors] == [f"[{len(rows) - 1}].amount"]
    assert triggers(conn) == before
    assert names(svc, "Lost") == [] and len(names(svc, "Kept")) == FTS_BULK_MIN
    assert svc.count("deal") == FTS_BULK_MIN
    svc.create("deal", a_deal(1, name="Lost and found"))
    assert names(svc, "Lost") == ["Lost and found"]


def test_bulk_records_and_audit_rows_match_single_creates(conn: sa.Connection) -> None:
    svc = service(conn)
    one = svc.create("deal", a_deal(5))
    (bulk_id,) = svc.bulk_create("deal", [a_deal(5)])
    many = svc.bulk_create("deal", [a_deal(5) for _ in range(FTS_BULK_MIN)])
    skip = {"id", "created_at", "updated_at"}
    for other in (bulk_id, many[-1]):
        record = svc.get("deal", other)
        assert {k: v for k, v in record.items() if k not in skip} == {
            k: v for k, v in one.items() if k not in skip
        }
    changes: dict[int, Any] = dict(
        conn.execute(
            sa.select(AuditEntry.record_id, AuditEntry.changes).where(
                AuditEntry.record_id.in_([one["id"], many[-1]])
            )
        ).all()
    )
    assert changes[one["id"]] == changes[many[-1]]


def test_the_compiled_checker_says_what_check_values_says(conn: sa.Connection) -> None:
    model = apps.published(conn, "fast").model
    deal = model.entity("deal")
    cases: list[dict[str, Any]] = [
        a_deal(1),
        {"name": "x", "amount": "lots", "share": "much", "stage": "nope"},
        {"name": "x", "half": 3},  # computed
        {"name": "x", "owner": 1},  # the owner goes through check_values
        {"name": "x", "nope": 1, "amount": "bad"},
        {"id": 4},
    ]
    for writable in (None, {"name", "amount"}):
        checker = Checker(model, deal, via="import", writable=writable)
        for values in cases:
            assert checker.check(values) == check_values(
                model, deal, values, via="import", writable=writable
            )
    assert [e.path for e in Checker(model, deal, via="api", writable=None).required_errors({})] == [
        "name"
    ]


def test_the_cached_checker_is_one_per_channel_and_writable_set(conn: sa.Connection) -> None:
    """Single creates share one compiled checker per app version; a channel or a writable set
    of its own must get its own (a field one role may write is refused to another)."""
    model = apps.published(conn, "fast").model
    deal = model.entity("deal")
    everything = checker_for(model, deal, via="api", writable=None)
    assert checker_for(model, deal, via="api", writable=None) is everything
    narrow = checker_for(model, deal, via="api", writable={"name"})
    assert narrow is not everything
    assert checker_for(model, deal, via="api", writable={"name"}) is narrow
    assert checker_for(model, deal, via="import", writable=None) is not everything
    assert everything.check({"name": "x", "amount": "5"})[1] == []
    assert [e.path for e in narrow.check({"name": "x", "amount": "5"})[1]] == ["amount"]


PLAIN_APP = {
    "format": "tessera.app/1",
    "key": "plainbulk",
    "label": "Plain bulk",
    "entities": [
        {
            "key": "item",
            "title": "name",
            "fields": [
                {"key": "name", "type": "text", "required": True},
                {"key": "stage", "type": "select", "options": ["new", "won"], "default": "new"},
                {"key": "tags", "type": "multi_select", "options": ["a", "b"], "default": ["a"]},
                {"key": "qty", "type": "integer"},
                {"key": "double", "type": "formula", "formula": "qty * 2", "result": "number"},
                {"key": "related", "type": "multi_link", "entity": "item"},
            ],
        }
    ],
}


def test_static_defaults_worked_out_once_give_what_one_create_gives(
    conn: sa.Connection,
) -> None:
    svc = service_for(conn, "plainbulk", Actor(user_id=1, via="import"))
    one = svc.create("item", {"name": "One", "qty": 2})
    ids = svc.bulk_create(
        "item", [{"name": "Many", "qty": 2}, {"name": "Linked", "related": [one["id"]]}]
    )
    many, linked = svc.get("item", ids[0]), svc.get("item", ids[1])
    assert (many["stage"], many["tags"], many["double"], many["owner"]) == ("new", ["a"], 4, 1)
    assert (one["stage"], one["tags"], one["double"]) == ("new", ["a"], 4)
    assert linked["related"] == [one["id"]] and linked["tags"] == ["a"]
    many["tags"].append("b")  # each record has its own default list
    assert svc.get("item", ids[1])["tags"] == ["a"]
