"""The bulk insert paths (SQLite: numbered driver executemany; PostgreSQL: one JSON document
through ``json_to_recordset``) must store exactly what the one-row INSERT stores, for every
column type: text with quotes, backslashes and Chinese, exact decimals, dates, times, aware
datetimes, booleans, doubles, JSON values including JSON ``null``, links and child rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.forms import Actor, ListQuery, RecordService, ValidationFailed
from tessera.engines.forms.inserts import FTS_BULK_MIN, json_text
from tessera.platform import apps
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform
from tests.platform.pages.factories import APP, create, install

TRICKY = "He said \"好的\", C:\\temp\\{a,b} 'quoted' — 深圳华为技术有限公司"


def a_deal(n: int, company: int) -> dict[str, Any]:
    return {
        "name": f"{TRICKY} {n}",
        "stage": "won",
        "tags": ["vip", "hot"],
        "company": company,
        "partners": [company],
        "amount": "1234567.89",
        "quantity": 42,
        "weight": "0.5",
        "discount": "12.5%",
        "signed": True,
        "close_date": "2025-02-28",
        "meeting_at": "2025-03-05T09:30:15.123456+08:00",
        "call_time": "14:30",
        "effort": 90,
        "contact_email": "li.wei@example.com",
        "phone": "+86 138 0013 8000",
        "website": 'https://example.com/a?b=c&d="e"',
        "score": 4,
        "notes": "line one\nline two\ttabbed \\ backslash",
        "summary": "<p>Rich <strong>text</strong></p>",
        "site": {"lat": 31.2304, "lng": 121.4737},
        "extra": {"nested": [1, "two", None, {"three": 3.5}], "中文": "值"},
        "lines": [{"product": 'Widget "A"', "qty": 3, "price": "9.99"}],
    }


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    skip = {"id", "number", "created_at", "updated_at", "lines"}
    kept = {k: v for k, v in record.items() if k not in skip}
    kept["lines"] = [
        {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}
        for row in record.get("lines", [])
    ]
    return kept


@pytest.mark.parametrize("count", [2, FTS_BULK_MIN + 1])
def test_bulk_rows_are_stored_as_one_row_inserts_store_them(platform: Platform, count: int) -> None:
    install(platform)
    company = create(platform, "company", {"name": "华为", "city": "深圳"})["id"]
    one = create(platform, "deal", a_deal(0, company))
    with platform.db.engine.begin() as conn:
        service = service_for(conn, APP, Actor(user_id=None, via="import"))
        ids = service.bulk_create("deal", [a_deal(0, company) for _ in range(count)])
        stored = [service.get("deal", i) for i in ids]
        found = service.list("deal", ListQuery(search="华为技术", limit=500)).records
    assert len(ids) == count and ids == sorted(ids) and len(set(ids)) == count
    for record in stored:
        assert comparable(record) == comparable(one)
    assert {r["id"] for r in found} == {one["id"], *ids}


def test_json_null_and_sql_null_are_kept_apart(platform: Platform) -> None:
    """A JSON field left empty is stored the way a one-row insert stores it (SQLAlchemy writes
    JSON ``null``); ``json_to_recordset`` alone would have made it SQL NULL."""
    install(platform)
    one = create(platform, "deal", {"name": "single"})
    with platform.db.engine.begin() as conn:
        service = service_for(conn, APP, Actor(user_id=None, via="import"))
        ids = service.bulk_create("deal", [{"name": "bulk a"}, {"name": "bulk b"}])
        table = apps.published(conn, APP).table("deal")
        stored = dict(
            conn.execute(
                sa.select(table.c.id, sa.cast(table.c.extra, sa.Text)).where(
                    table.c.id.in_([one["id"], *ids])
                )
            ).all()
        )
    assert stored[ids[0]] == stored[ids[1]] == stored[one["id"]]


def test_json_text_is_exact_for_decimals_and_iso_for_times() -> None:
    value = {
        "d": Decimal("1234567890.123456789"),
        "at": dt.datetime(2025, 3, 5, 9, 30, tzinfo=dt.UTC),
        "day": dt.date(2025, 2, 28),
        "t": dt.time(14, 30),
        "zh": "华为",
    }
    assert json_text(value) == (
        '{"d": "1234567890.123456789", "at": "2025-03-05T09:30:00+00:00", '
        '"day": "2025-02-28", "t": "14:30:00", "zh": "华为"}'
    )
    with pytest.raises(ValueError):
        json_text(float("nan"))


UNIQUE_APP: dict[str, Any] = {
    "format": "tessera.app/1",
    "key": "uniq",
    "label": "Unique",
    "entities": [
        {
            "key": "company",
            "title": "name",
            "fields": [{"key": "name", "type": "text", "unique": True}],
        }
    ],
}


@pytest.mark.parametrize("count", [1, 2])
def test_a_unique_value_saved_at_the_same_time_is_refused_cleanly(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """Another writer's row with the same unique value lands between the service's check and
    its INSERT: the database's constraint refuses it, on every insert path, as a validation
    error (never a driver exception), and the caller's transaction goes on."""
    apps.install(platform.db.engine, UNIQUE_APP)
    with platform.db.engine.begin() as conn:
        service_for(conn, "uniq", Actor(user_id=None, via="api")).create(
            "company", {"name": "华为"}
        )
    monkeypatch.setattr(RecordService, "_unique_errors", lambda *_args, **_kw: [])
    with platform.db.engine.begin() as conn:
        service = service_for(conn, "uniq", Actor(user_id=None, via="api"))
        with pytest.raises(ValidationFailed) as refused:
            if count == 1:
                service.create("company", {"name": "华为"})
            else:
                service.bulk_create("company", [{"name": "腾讯"}, {"name": "华为"}])
        assert [e.code for e in refused.value.errors] == ["unique"]
        assert service.create("company", {"name": "阿里巴巴"})["id"]
    with platform.db.engine.begin() as conn:
        names = service_for(conn, "uniq", Actor(user_id=None, via="api")).list(
            "company", ListQuery(limit=10)
        )
    assert sorted(r["name"] for r in names.records) == ["华为", "阿里巴巴"]
