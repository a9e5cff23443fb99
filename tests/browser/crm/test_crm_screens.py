"""The CRM as a sales rep sees it after ``make demo``: the 360° account page, the pipeline
kanban and a quote form with line items, in Debian's Chromium, with screenshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tessera.platform import demo
from tessera.platform.runtime import Platform


@pytest.fixture
def crm(platform: Platform) -> Platform:
    engine = platform.db.engine
    demo.install_crm(engine)
    people = demo.ensure_people(engine)
    demo.load(engine, size="small", seed=5, today=dt.date(2026, 3, 2), people=people)
    return platform


def sign_in_as_rep(page: Page) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.locator("main")).to_be_visible()


def test_rep_sees_account_360_pipeline_and_quote_form(
    crm: Platform, page: Page, shot: Callable[[Page, str], Path]
) -> None:
    sign_in_as_rep(page)

    page.goto("/apps/crm/account/")
    first = page.locator("main a[href^='/apps/crm/account/']").filter(has_text="有限公司").first
    name = first.inner_text().strip()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    shot(page, "account-360")
    for tab in page.get_by_role("tab").all():
        tab.click()  # every tab of the 360° page opens without a script error
    shot(page, "account-360-last-tab")

    page.goto("/apps/crm/opportunity/kanban?view=pipeline")
    expect(page.locator("[data-column]").first).to_be_visible()
    shot(page, "opportunity-kanban")

    page.goto("/apps/crm/quote/new")
    expect(page.locator("[data-child-table]").first).to_be_visible()
    page.locator("[data-add-row]").first.click()
    expect(page.locator("[data-child-table] [data-row]").first).to_be_visible()
    shot(page, "quote-form")
