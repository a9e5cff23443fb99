"""The fast paths of the records service: they must give what the slow paths gave.

Creates without a SAVEPOINT (entities where every refusal comes before the first write), new
records built from the values written instead of read back, bulk inserts that number their own
rows (SQLite) or send one array per column (PostgreSQL), batched journal rows, and pages read
by precompiled row readers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.forms import Actor, ListQuery, RecordService, ValidationFailed
from tessera.engines.forms.compiled import compile_records
from tessera.platform import apps
from tessera.platform.models import AuditEntry, Event, User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform

NOW = dt.datetime(2025, 3, 5, 9, 30, 15, 123456, tzinfo=dt.UTC)


def deals_app() -> dict[str, Any]:
    return {
        "format": "tessera.app/1",
        "key": "fast",
        "label": "Fast",
        "entities": [
            {
                "key": "deal",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True},
                    {"key": "amount", "type": "currency"},
                    {"key": "share", "type": "percent"},
                    {"key": "stage", "type": "select", "options": ["new", "won"], "default": "new"},
                    {"key": "tags", "type": "multi_select", "options": ["a", "b", "c"]},
                    {"key": "closes_at", "type": "datetime"},
                    {"key": "due", "type": "date", "default": {"formula": "TODAY() + 7"}},
                    {"key": "site", "type": "location"},
                    {"key": "extra", "type": "json"},
                    {"key": "secret_code", "type": "text", "secret": True},
                    {"key": "half", "type": "formula", "formula": "amount / 2",
                     "result": "currency"},
                    {"key": "partner", "type": "link", "entity": "partner"},
                ],
                "validations": [
                    {"key": "no_negative", "error_if": "amount < 0", "field": "amount",
                     "message": "Amounts are never negative"},
                ],
            },
            {
                "key": "partner",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "unique": True},
                    {"key": "deals", "type": "rollup", "source": "deal.partner",
                     "aggregate": "count"},
                ],
            },
        ],
    }  # fmt: skip


@pytest.fixture
def fast(platform: Platform) -> Platform:
    with platform.db.engine.begin() as conn:
        conn.execute(sa.insert(User), [{"id": 1, "email": "ada@example.com", "name": "Ada"}])
    apps.install(platform.db.engine, deals_app())
    return platform


@pytest.fixture
def conn(fast: Platform) -> Iterator[sa.Connection]:
    with fast.db.engine.begin() as connection:
        yield connection


def service(conn: sa.Connection) -> RecordService:
    return service_for(conn, "fast", Actor(user_id=1, via="api"), clock=lambda: NOW)


def count(conn: sa.Connection, table: Any) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def a_deal(n: int = 0, **more: Any) -> dict[str, Any]:
    return {
        "name": f"Deal {n}", "amount": f"¥1,2{n}4.5", "share": "12.5%", "tags": ["c", "a"],
        "closes_at": "2025-04-01T10:00:00+08:00", "site": {"lat": 31.23, "lng": 121.47},
        "extra": {"k": [1, 2]}, "secret_code": "s3cret", **more,
    }  # fmt: skip


def test_plain_entities_skip_the_savepoint_and_the_others_keep_it(fast: Platform) -> None:
    with fast.db.engine.connect() as c:
        compiled = compile_records(apps.published(c, "fast").model)
    assert compiled.plan("deal").plain_create  # no unique field, local rule only
    assert not compiled.plan("partner").plain_create  # a unique field: the index may refuse


def test_a_created_record_is_what_get_reads_back(conn: sa.Connection) -> None:
    svc = service(conn)
    made = svc.create("deal", a_deal(1))
    assert made == svc.get("deal", made["id"])
    assert made["amount"] == Decimal("1214.50") and made["half"] == Decimal("607.25")
    assert made["closes_at"] == dt.datetime(2025, 4, 1, 2, 0, tzinfo=dt.UTC)
    assert made["closes_at"].tzinfo is dt.UTC and made["created_at"] == NOW
    assert made["tags"] == ["a", "c"] and made["site"] == {"lat": 31.23, "lng": 121.47}
    assert made["due"] == dt.date(2025, 3, 12) and made["stage"] == "new"
    assert made["version"] == 1 and made["owner"] == 1 and made["deleted_at"] is None
    bare = svc.create("deal", {"name": "Bare"})
    assert bare == svc.get("deal", bare["id"])
    assert bare["site"] is None and bare["amount"] is None


def test_a_refused_plain_create_leaves_the_transaction_as_it_was(conn: sa.Connection) -> None:
    svc = service(conn)
    svc.create("deal", a_deal(1))
    before = (count(conn, AuditEntry), count(conn, Event))
    with pytest.raises(ValidationFailed) as caught:
        svc.create("deal", a_deal(2, amount=-5))
    assert [(e.path, e.code) for e in caught.value.errors] == [("amount", "rule:no_negative")]
    with pytest.raises(ValidationFailed) as caught:
        svc.create("deal", a_deal(3, partner=999))
    assert [(e.path, e.code) for e in caught.value.errors] == [("partner", "not_found")]
    assert svc.count("deal") == 1
    assert (count(conn, AuditEntry), count(conn, Event)) == before
    svc.create("deal", a_deal(4))  # the transaction goes on
    assert svc.count("deal") == 2


def test_a_plain_create_keeps_computed_fields_elsewhere_current(conn: sa.Connection) -> None:
    svc = service(conn)
    partner = svc.create("partner", {"name": "Acme"})
    svc.create("deal", a_deal(1, partner=partner["id"]))
    assert svc.get("partner", partner["id"])["deals"] == 1


def test_bulk_create_numbers_rows_in_order_and_journals_each(conn: sa.Connection) -> None:
    svc = service(conn)
    svc.create("deal", a_deal(0))
    rows = [a_deal(n, amount=n) for n in range(1, 2502)]  # three chunks
    ids = svc.bulk_create("deal", rows)
    assert len(ids) == len(set(ids)) == 2501 and ids == sorted(ids)
    for record_id, n in [(ids[0], 1), (ids[1234], 1235), (ids[-1], 2501)]:
        record = svc.get("deal", record_id)
        assert (record["name"], record["amount"]) == (f"Deal {n}", Decimal(n))
    audit = conn.execute(
        sa.select(AuditEntry.record_id, AuditEntry.changes).where(AuditEntry.record_id == ids[7])
    ).one()
    assert audit.changes["name"] == [None, "Deal 8"]
    assert audit.changes["amount"] == [None, "8.00"]
    assert audit.changes["secret_code"] == ["[redacted]", "[redacted]"]
    assert audit.changes["closes_at"] == [None, "2025-04-01T02:00:00+00:00"]
    assert "id" not in audit.changes and audit.changes["version"] == [None, 1]
    event = conn.execute(sa.select(Event).where(Event.record_id == ids[-1])).one()
    assert (event.kind, event.entity, event.payload["version"]) == ("created", "deal", 1)
    assert "name" in event.payload["changed"]
    assert count(conn, AuditEntry) == count(conn, Event) == 2502
    later = svc.create("deal", a_deal(9999))  # the database's own numbering carries on
    assert later["id"] > ids[-1]


def test_pages_read_every_field_type_like_get(conn: sa.Connection) -> None:
    svc = service(conn)
    partner = svc.create("partner", {"name": "Acme"})
    ids = svc.bulk_create("deal", [a_deal(n, partner=partner["id"]) for n in range(5)])
    svc.bulk_create("deal", [{"name": "Empty"}])
    page = svc.list("deal", ListQuery(sort=[("name", "asc")], limit=10))
    assert [r["id"] for r in page.records[:5]] == ids
    for record in page.records:
        assert record == svc.get("deal", record["id"])
    expanded = svc.list(
        "deal", ListQuery(filter={"field": "partner", "op": "eq", "value": partner["id"]},
                          fields=["name", "partner"], expand=["partner"])
    )  # fmt: skip
    assert {r["partner"]["name"] for r in expanded.records} == {"Acme"}
    assert {r["partner"]["deals"] for r in expanded.records} == {5}
    assert set(expanded.records[0]) == {
        "id", "version", "created_at", "updated_at", "created_by", "updated_by", "owner",
        "deleted_at", "name", "partner",
    }  # fmt: skip


def test_in_filters_take_a_list_and_check_each_value(conn: sa.Connection) -> None:
    svc = service(conn)
    svc.bulk_create("deal", [a_deal(1, stage="won"), a_deal(2), a_deal(3, stage="won")])
    query = ListQuery(filter={"field": "stage", "op": "in", "value": ["won"]})
    assert [r["name"] for r in svc.list("deal", query).records] == ["Deal 1", "Deal 3"]
    with pytest.raises(ValidationFailed) as caught:
        svc.list("deal", ListQuery(filter={"field": "stage", "op": "in", "value": ["won", "x"]}))
    assert caught.value.errors[0].path == "filter.value"


def test_a_plain_create_journals_like_any_other_write_and_in_one_statement_on_postgresql(
    conn: sa.Connection,
) -> None:
    """PostgreSQL writes the row, its audit row and its event in one statement; what is stored
    is what the batch path stores for the same values."""
    svc = service(conn)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    sa.event.listen(conn, "before_cursor_execute", seen)
    try:
        single = svc.create("deal", a_deal(1))
    finally:
        sa.event.remove(conn, "before_cursor_execute", seen)
    if conn.dialect.name == "postgresql":
        assert statements.count("INSERT") + statements.count("WITH") == 1, statements
    batched = svc.bulk_create("deal", [a_deal(1), a_deal(2)])[0]

    def journal(record_id: int) -> tuple[Any, ...]:
        audit = conn.execute(sa.select(AuditEntry).where(AuditEntry.record_id == record_id)).one()
        event = conn.execute(sa.select(Event).where(Event.record_id == record_id)).one()
        return (
            (audit.action, audit.actor_id, audit.via, audit.at, audit.changes),
            (event.kind, event.payload, event.actor_id, event.via, event.created_at, event.entity),
        )

    assert journal(single["id"]) == journal(batched)
    assert journal(single["id"])[0][4]["name"] == [None, "Deal 1"]
