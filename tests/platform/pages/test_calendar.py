"""Moving calendar events to another day: dates, date-times, and refused moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.test_permission_matrix import World, world  # noqa: F401 - the fixture

from . import factories

DEALS = "/apps/fieldtest/deal/"
MOVE = DEALS + "_/move"


def move(web: Web, token: str, body: Any) -> Any:
    return web.client.post(MOVE, json=body, headers={"X-CSRFToken": token})


def test_a_calendar_event_moves_to_another_day(
    fieldtest: Platform, signed_in: Web, token: str, page: Callable[..., Any]
) -> None:
    deal = factories.create(fieldtest, "deal", {"name": "Kick-off", "close_date": "2026-11-10"})
    html = page(DEALS + "calendar?month=2026-11")[1]
    assert f'data-id="{deal["id"]}" data-version="1"' in html and 'data-day="2026-11-10"' in html
    moved = move(signed_in, token, {"id": deal["id"], "field": "close_date", "to": "2026-11-12",
                                    "version": 1})  # fmt: skip
    assert moved.status_code == 200
    assert moved.json == {"id": deal["id"], "version": 2, "value": "2026-11-12"}
    assert factories.get(fieldtest, "deal", deal["id"])["close_date"] == dt.date(2026, 11, 12)


def test_a_moved_date_time_keeps_its_time_of_day(
    fieldtest: Platform, signed_in: Web, token: str, member: Any
) -> None:
    zone = member.time_zone or "UTC"
    start = dt.datetime(2026, 11, 10, 14, 30, tzinfo=ZoneInfo(zone))
    deal = factories.create(fieldtest, "deal", {"name": "Call", "meeting_at": start.isoformat()})
    moved = move(signed_in, token, {"id": deal["id"], "field": "meeting_at", "to": "2026-11-13",
                                    "version": 1})  # fmt: skip
    assert moved.status_code == 200
    stored = factories.get(fieldtest, "deal", deal["id"])["meeting_at"]
    assert stored.astimezone(ZoneInfo(zone)) == start + dt.timedelta(days=3)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"id": 1, "field": "close_date", "to": "not a day", "version": 1}, 422),
        ({"id": 1, "field": "close_date", "to": "2026-02-30", "version": 1}, 422),
        ({"id": 1, "field": "close_date", "to": ["2026-11-12"], "version": 1}, 400),
        ({"id": 1, "field": "name", "to": "2026-11-12", "version": 1}, 400),
        ({"id": 1, "field": "close_date", "to": "2026-11-12", "version": 7}, 409),
        ({"id": 999, "field": "close_date", "to": "2026-11-12", "version": 1}, 404),
    ],
)
def test_refused_calendar_moves_say_why_and_change_nothing(
    fieldtest: Platform, signed_in: Web, token: str, body: dict[str, Any], status: int
) -> None:
    factories.create(fieldtest, "deal", {"name": "Fixed", "close_date": "2026-11-10"})
    response = move(signed_in, token, body)
    assert response.status_code == status
    assert response.json["error"]
    assert factories.get(fieldtest, "deal", 1)["close_date"] == dt.date(2026, 11, 10)


# -- bulk edit by field type -----------------------------------------------------------------------
