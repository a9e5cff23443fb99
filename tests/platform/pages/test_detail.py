"""Record pages (related lists, timeline), the app home, and the JSON helpers of forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tessera.platform.runtime import Platform
from tests.conftest import Web

from . import factories
from .factories import csrf_from


def test_home_lists_published_apps_and_opens_the_first_menu_item(
    fieldtest: Platform, signed_in: Web
) -> None:
    home = signed_in.client.get("/").get_data(as_text=True)
    assert 'href="/apps/fieldtest/"' in home and "Field test" in home
    response = signed_in.client.get("/apps/fieldtest/")
    assert response.status_code == 302 and response.headers["Location"] == "/apps/fieldtest/deal/"


def test_a_record_page_lists_every_entity_linking_here(
    fieldtest: Platform, page: Callable[..., Any]
) -> None:
    acme = factories.create(fieldtest, "company", {"name": "Acme", "city": "Suzhou"})
    for n in range(7):
        factories.create(fieldtest, "deal", {"name": f"Acme deal {n}", "company": acme["id"]})
    factories.create(fieldtest, "deal", {"name": "Partnered", "partners": [acme["id"]]})
    status, html = page(f"/apps/fieldtest/company/{acme['id']}")
    assert status == 200
    counts = re.findall(
        r'<h2 class="rt-section-title" id="rel-\d+">([^<]+)<span class="rt-count">(\d+)</span>',
        html,
    )
    assert [(label.strip(), int(n)) for label, n in counts] == [
        ("Deals · Company", 7),
        ("Deals · Partners", 1),
    ]
    assert (
        f'href="/apps/fieldtest/deal/new?company={acme["id"]}"' in html
    )  # quick add fills the link
    assert html.count("Acme deal") == 5  # the newest five, and a link to all seven
    assert "View all" in html


def test_the_timeline_shows_field_changes(fieldtest: Platform, signed_in: Web) -> None:
    deal = factories.create(fieldtest, "deal", {"name": "Timeline", "amount": "5"})
    token = csrf_from(signed_in.client.get("/apps/fieldtest/deal/kanban").get_data(as_text=True))
    signed_in.client.post(
        "/apps/fieldtest/deal/_/move",
        headers={"X-CSRFToken": token},
        json={"id": deal["id"], "field": "stage", "to": "won", "version": 1},
    )
    html = signed_in.client.get(f"/apps/fieldtest/deal/{deal['id']}").get_data(as_text=True)
    assert "Ada Member" in html and "made changes" in html
    assert re.search(r"Stage</span> <del>New</del>.*<ins>Won</ins>", html, re.S)


def test_live_conditions_agree_with_the_definition(fieldtest: Platform, signed_in: Web) -> None:
    token = csrf_from(signed_in.client.get("/apps/fieldtest/deal/new").get_data(as_text=True))

    def evaluate(form: dict[str, str]) -> Any:
        response = signed_in.client.post(
            "/apps/fieldtest/deal/_/evaluate", data=form, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 200
        return response.json

    assert evaluate({"stage": "new", "signed.present": "1"}) == {
        "hidden": [],
        "read_only": [],
        "sections": [],
    }
    assert evaluate({"stage": "lost", "signed.present": "1", "signed": "1"}) == {
        "hidden": ["close_date"],
        "read_only": ["discount"],
        "sections": [],
    }
    no_token = signed_in.client.post("/apps/fieldtest/deal/_/evaluate", data={"stage": "lost"})
    assert no_token.status_code in (400, 403)


def test_link_search_finds_records_of_the_target(fieldtest: Platform, signed_in: Web) -> None:
    factories.create(fieldtest, "company", {"name": "深圳华为技术有限公司"})
    factories.create(fieldtest, "company", {"name": "Alibaba"})
    found = signed_in.client.get("/apps/fieldtest/deal/_/search?field=company&q=华为").json
    assert [r["title"] for r in found["results"]] == ["深圳华为技术有限公司"]
    child = signed_in.client.get("/apps/fieldtest/deal/_/search?field=lines.supplier&q=ali").json
    assert [r["title"] for r in child["results"]] == ["Alibaba"]


@pytest.mark.parametrize("field", ["name", "nope", "lines.product", "company')--", "lines.nope"])
def test_link_search_refuses_other_fields(fieldtest: Platform, signed_in: Web, field: str) -> None:
    assert (
        signed_in.client.get(f"/apps/fieldtest/deal/_/search?field={field}&q=a").status_code == 400
    )


def test_calendar_places_records_on_their_day(
    fieldtest: Platform, page: Callable[..., Any]
) -> None:
    factories.create(fieldtest, "deal", {"name": "Signing day", "close_date": "2026-02-14"})
    factories.create(fieldtest, "deal", {"name": "Spring launch", "close_date": "2026-03-20"})
    status, html = page("/apps/fieldtest/deal/calendar?month=2026-02")
    assert status == 200 and "February 2026" in html
    assert "Signing day" in html and "Spring launch" not in html
    assert page("/apps/fieldtest/deal/calendar?month=garbage")[0] == 200
