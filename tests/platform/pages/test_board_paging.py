"""The board's "Load more": keyset pages per column and hostile cursors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tessera.platform.runtime import Platform
from tests.platform.test_permission_matrix import World, world  # noqa: F401 - the fixture

from . import factories

DEALS = "/apps/fieldtest/deal/"
CARDS = DEALS + "_/cards"


def test_a_board_column_loads_more_by_keyset_pages(
    fieldtest: Platform, page: Callable[..., Any]
) -> None:
    factories.many(fieldtest, 120)  # all "new"
    html = page(DEALS + "kanban")[1]
    column = html.split('data-column="new"', 1)[1].split("</section>", 1)[0]
    assert column.count("data-card ") == 50 and "data-column-count>120<" in column
    after = re.search(r'data-load-more data-after="([^"]+)"', column)
    assert after
    seen = set(re.findall(r'data-card data-id="(\d+)"', column))
    cursor: str | None = after.group(1).replace("&amp;", "&")
    pages = 0
    while cursor:
        status, body = page(CARDS, query_string={"by": "stage", "column": "new", "after": cursor})
        assert status == 200
        data = json.loads(body)
        ids = set(re.findall(r'data-card data-id="(\d+)"', data["html"]))
        assert ids and not ids & seen
        seen |= ids
        cursor = data["next"]
        pages += 1
    assert len(seen) == 120 and pages == 2


@pytest.mark.parametrize(
    "query",
    [
        {"by": "stage", "column": "nonsense"},
        {"by": "stage", "column": "new", "after": "forged"},
        {"by": "stage", "column": "new", "after": "x' OR 1=1 --"},
    ],
)
def test_hostile_load_more_requests_are_refused(
    fieldtest: Platform, page: Callable[..., Any], query: dict[str, str]
) -> None:
    factories.create(fieldtest, "deal", {"name": "Secret-ish"})
    status, body = page(CARDS, query_string=query)
    assert status == 400 and "Secret-ish" not in body


# -- the app switcher ------------------------------------------------------------------------------
