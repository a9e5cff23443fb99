"""Every page of the CRM template answers for a signed-in sales rep, with the demo data loaded.

The template is pure JSON and the pages are generic, so this walks what the definition declares:
each entity's list, every one of its views (list, kanban, calendar), a record's detail page and
the create form.  A view whose filters, sort or condition the engines cannot run shows up here.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tessera.platform import apps, demo
from tessera.platform.runtime import Platform
from tests.conftest import Web

VIEW_PAGES = {"list": "", "kanban": "kanban", "calendar": "calendar"}


@pytest.fixture
def crm(platform: Platform) -> Platform:
    engine = platform.db.engine
    demo.install_crm(engine)
    people = demo.ensure_people(engine)
    demo.load(engine, size="small", seed=3, today=dt.date(2026, 3, 2), people=people)
    return platform


def test_every_crm_page_answers_for_a_sales_rep(crm: Platform, web: Web) -> None:
    web.sign_in("rep@example.com", demo.DEMO_PASSWORD)
    failures: list[str] = []
    opened: list[str] = []
    with crm.db.engine.connect() as conn:
        doc = apps.published(conn, "crm").model.to_doc()
    for entity in doc["entities"]:
        if entity.get("child"):
            continue
        base = f"/apps/crm/{entity['key']}/"
        urls = [base, f"{base}new"]
        for view in entity.get("views", ()):
            urls.append(f"{base}{VIEW_PAGES.get(view['type'], '')}?view={view['key']}")
        for url in urls:
            response = web.client.get(url)
            if response.status_code != 200:
                failures.append(f"{url}: {response.status_code}")
            elif url == base:  # open the first record the rep's list shows
                found = re.search(
                    rf'href="{re.escape(base)}(\d+)"', response.get_data(as_text=True)
                )
                if found:
                    opened.append(entity["key"])
                    detail = web.client.get(f"{base}{found.group(1)}")
                    if detail.status_code != 200:
                        failures.append(f"{base}{found.group(1)}: {detail.status_code}")
    assert failures == []
    assert {"lead", "account", "opportunity", "activity"} <= set(opened)
