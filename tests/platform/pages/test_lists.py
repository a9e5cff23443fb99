"""The list page: search, filters, views, keyset paging, saved views, bulk actions, and the
hostile query strings that broke comparable platforms."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.conftest import Web

from . import factories

DEALS = "/apps/fieldtest/deal/"
ROW_NAMES = re.compile(r'class="row-link" href="/apps/fieldtest/deal/\d+">([^<]+)</a>')


def names(html: str) -> list[str]:
    return ROW_NAMES.findall(html)


@pytest.fixture
def deals(fieldtest: Platform) -> Platform:
    huawei = factories.create(
        fieldtest, "company", {"name": "深圳华为技术有限公司", "city": "深圳"}
    )
    factories.create(
        fieldtest,
        "deal",
        {
            "name": "Router upgrade",
            "stage": "qualified",
            "amount": "120000",
            "company": huawei["id"],
        },
    )
    factories.create(fieldtest, "deal", {"name": "Campus Wi-Fi", "stage": "new", "amount": "800"})
    factories.create(fieldtest, "deal", {"name": "Old contract", "stage": "lost", "amount": "50"})
    return fieldtest


def test_the_list_shows_searches_filters_and_sorts(
    deals: Platform, page: Callable[..., Any]
) -> None:
    status, html = page(DEALS)
    assert status == 200
    assert sorted(names(html)) == ["Campus Wi-Fi", "Old contract", "Router upgrade"]
    assert names(page(DEALS + "?q=router")[1]) == ["Router upgrade"]
    only_new = json.dumps({"field": "stage", "op": "eq", "value": "new"})
    assert names(page(DEALS + "?filter=" + quote(only_new))[1]) == ["Campus Wi-Fi"]
    any_of = json.dumps(
        {
            "or": [
                {"field": "stage", "op": "eq", "value": "lost"},
                {"field": "amount", "op": "gt", "value": 100000},
            ]
        }
    )
    assert sorted(names(page(DEALS + "?filter=" + quote(any_of))[1])) == [
        "Old contract",
        "Router upgrade",
    ]
    assert names(page(DEALS + "?formula=" + quote("amount > 500 AND amount < 1000"))[1]) == [
        "Campus Wi-Fi"
    ]
    assert names(page(DEALS + "?sort=amount")[1]) == [
        "Old contract",
        "Campus Wi-Fi",
        "Router upgrade",
    ]
    assert names(page(DEALS + "?sort=-amount")[1])[0] == "Router upgrade"
    # a view of the definition adds its fixed filters (stage in new, qualified)
    assert sorted(names(page(DEALS + "?view=open")[1])) == ["Campus Wi-Fi", "Router upgrade"]
    # the linked company shows by its title, found through the records service
    assert "深圳华为技术有限公司" in page(DEALS + "?cols=name,company")[1]


def test_options_without_a_label_show_their_key_as_words(
    fieldtest: Platform, page: Callable[..., Any]
) -> None:
    """``key_account`` has no label: the list and its filter builder show “Key account”, as
    an unlabelled field shows its key as words, never the raw key."""
    factories.create(fieldtest, "deal", {"name": "Big one", "tags": ["hot", "key_account"]})
    status, html = page(DEALS + "?cols=name,tags")
    assert status == 200
    badges = re.findall(r'<span class="rt-badge tone-\d">([^<]*)</span>', html)
    assert badges == ["Hot", "Key account"]
    meta = re.search(r'<script type="application/json" id="rt-fields">(.*?)</script>', html, re.S)
    assert meta is not None
    tags = next(f for f in json.loads(meta.group(1))["fields"] if f["key"] == "tags")
    assert tags["options"] == [
        ["hot", "Hot"], ["cold", "Cold"], ["vip", "Vip"], ["key_account", "Key account"]
    ]  # fmt: skip


def test_pages_follow_signed_cursors_without_overlap(
    fieldtest: Platform, page: Callable[..., Any]
) -> None:
    factories.many(fieldtest, 60)
    seen: list[str] = []
    url = DEALS + "?sort=name&limit=25"
    for _ in range(3):
        status, html = page(url)
        assert status == 200
        seen += names(html)
        found = re.search(r'href="\?([^"]+)" rel="next"', html)
        if not found:
            break
        url = DEALS + "?" + found.group(1).replace("&amp;", "&")
    assert seen == [f"Deal {n:03d}" for n in range(60)]
    assert page(DEALS + "_/count?sort=name")[1].strip() == '{"total":60}'


@pytest.mark.parametrize(
    "query",
    [
        "sort=" + quote("name, (select sleep(5))"),
        "sort=" + quote("-name;DROP TABLE users"),
        "filter=" + quote(json.dumps({"field": "x`) or 1=1--", "op": "eq", "value": 1})),
        "filter=" + quote(json.dumps({"field": "name", "op": "eq) OR 1=1 --", "value": 1})),
        "filter=" + quote("{not json"),
        "formula=" + quote("().__class__.__bases__[0].__subclasses__()"),
        "formula=" + quote('"{0.__class__}".format(name)'),
        "after=" + quote("eyJ0YW1wZXJlZCI6dHJ1ZX0.deadbeef"),
    ],
)
def test_hostile_list_queries_are_refused_without_database_text(
    deals: Platform, page: Callable[..., Any], query: str
) -> None:
    status, html = page(DEALS + "?" + query)
    assert status == 400
    assert "This list cannot be shown" in html
    lowered = html.lower()
    for leak in ("sqlite", "psycopg", "syntax error", "traceback", "operationalerror"):
        assert leak not in lowered


def test_unknown_columns_and_page_sizes_fall_back_quietly(
    deals: Platform, page: Callable[..., Any]
) -> None:
    status, html = page(DEALS + "?cols=name,evil%22%3E%3Cscript%3E,password&limit=100000")
    assert status == 200
    assert "<script>" not in html and len(names(html)) == 3


def test_saved_views_are_personal_unless_shared(
    deals: Platform, signed_in: Web, user_factory: Callable[..., User], other_web: Web
) -> None:
    query = "q=router&sort=-amount"
    mine = signed_in.post(DEALS + "views", {"name": "Routers", "query": query}, token_from=DEALS)
    assert mine.status_code == 302
    key = mine.headers["Location"].split("view=")[1]
    status_html = signed_in.client.get(DEALS + "?view=" + key).get_data(as_text=True)
    assert names(status_html) == ["Router upgrade"] and "Routers" in status_html
    shared = signed_in.post(
        DEALS + "views", {"name": "Everyone", "query": "q=wi-fi", "shared": "1"}, token_from=DEALS
    )
    shared_key = shared.headers["Location"].split("view=")[1]

    other = user_factory(name="Bo Other")
    other_web.sign_in(other.email)
    theirs = other_web.client.get(DEALS + "?view=" + key).get_data(as_text=True)
    assert "Routers" not in theirs and len(names(theirs)) == 3  # a private key shows nothing
    assert names(other_web.client.get(DEALS + "?view=" + shared_key).get_data(as_text=True)) == [
        "Campus Wi-Fi"
    ]
    refused = other_web.post(DEALS + f"views/{shared_key}/delete", token_from=DEALS)
    assert refused.status_code == 403
    assert other_web.post(DEALS + f"views/{key}/delete", token_from=DEALS).status_code == 404
    assert signed_in.post(DEALS + f"views/{key}/delete", token_from=DEALS).status_code == 302


def test_bulk_edit_and_delete_go_through_the_records_service(
    deals: Platform, signed_in: Web
) -> None:
    edited = signed_in.post(
        DEALS + "_/bulk",
        {"action": "edit", "ids": ["1", "2"], "field": "stage", "value": "won", "next": DEALS},
        token_from=DEALS,
    )
    assert edited.status_code == 302
    # deal 2 has no amount... it has 800; both pass the "won needs an amount" rule
    assert [factories.get(deals, "deal", i)["stage"] for i in (1, 2)] == ["won", "won"]
    refused = signed_in.post(
        DEALS + "_/bulk",
        {"action": "edit", "ids": ["1", "3"], "field": "amount", "value": "", "next": DEALS},
        token_from=DEALS,
    )
    assert refused.status_code == 302
    # all or nothing: record 1 (won) may not lose its amount, so record 3 keeps its amount too
    assert str(factories.get(deals, "deal", 3)["amount"]) == "50.00"
    deleted = signed_in.post(
        DEALS + "_/bulk", {"action": "delete", "ids": ["3"], "next": DEALS}, token_from=DEALS
    )
    assert deleted.status_code == 302
    assert sorted(names(signed_in.client.get(DEALS).get_data(as_text=True))) == [
        "Campus Wi-Fi",
        "Router upgrade",
    ]
    computed = signed_in.post(
        DEALS + "_/bulk",
        {"action": "edit", "ids": ["1"], "field": "total", "value": "1", "next": DEALS},
        token_from=DEALS,
    )
    assert computed.status_code == 400


def test_writes_need_the_csrf_token(deals: Platform, signed_in: Web) -> None:
    response = signed_in.client.post(DEALS + "_/bulk", data={"action": "delete", "ids": ["1"]})
    assert response.status_code == 403
    assert factories.get(deals, "deal", 1)["deleted_at"] is None


def test_signed_out_visitors_are_sent_to_sign_in(deals: Platform, client: Any) -> None:
    response = client.get(DEALS)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/apps/nope/",
        "/apps/fieldtest/nope/",
        "/apps/fieldtest/deal_line/",
        "/apps/fieldtest/deal/999",
        "/apps/fieldtest/deal/999/edit",
    ],
)
def test_unknown_apps_entities_and_records_are_404(
    deals: Platform, page: Callable[..., Any], path: str
) -> None:
    assert page(path)[0] == 404


def test_a_formula_filters_error_is_shown_in_the_readers_language(
    deals: Platform, web: Web, user_factory: Callable[..., User]
) -> None:
    """The field is named by its label in the reader's language, however it was written."""
    for locale, message in (
        ("zh-CN", "[金额]是金额；不能与文本“lots”比较"),
        ("en", "[Amount] is a currency amount; it cannot be compared with the text &#34;lots&#34;"),
    ):
        web.sign_in(user_factory(locale=locale).email)
        for formula in ('amount > "lots"', '[金额] > "lots"'):
            response = web.client.get(DEALS + "?formula=" + quote(formula))
            assert response.status_code == 400
            assert message in response.get_data(as_text=True)
        web.sign_out()
