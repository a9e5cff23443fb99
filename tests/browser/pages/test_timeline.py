"""A record's timeline in a real browser: newest first, who did it, when and through what
(the app, the API, an import…), and each change as its field's label with the old and the new
value formatted as the page shows them — in English and in Chinese.  Screenshots go to
``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tessera.engines.forms import Actor
from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.browser.pages.test_runtime_pages import crm, sign_in  # noqa: F401 - the fixture
from tests.platform.factories import records
from tests.platform.pages import factories

Shot = Callable[[Page, str], Path]
DEALS = "/apps/fieldtest/deal/"


def test_the_timeline_tells_who_changed_what_and_through_what(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
) -> None:
    with records(platform, "fieldtest", Actor(user_id=crm.id, via="api", name=crm.name)) as api:
        deal = api.create("deal", {"name": "Wuhan expansion", "amount": "120000"})
    sign_in(page, crm.email)
    page.goto(f"{DEALS}{deal['id']}/edit")
    page.locator("#f-stage").select_option(label="Qualified")
    page.locator("#f-amount").fill("98000.5")
    page.locator("#record-form").get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Wuhan expansion")).to_be_visible()
    events = page.locator(".rt-timeline .rt-event")
    expect(events).to_have_count(2)
    newest, first = events.nth(0), events.nth(1)
    expect(newest).to_contain_text("Lin Wei made changes")
    expect(newest.locator("[data-via]")).to_have_text("in the app")
    changes = newest.locator(".rt-changes li")
    expect(changes).to_have_count(2)
    expect(changes.filter(has_text="Stage")).to_contain_text("New")
    expect(changes.filter(has_text="Stage").locator("ins")).to_have_text("Qualified")
    expect(changes.filter(has_text="Amount").locator("del")).to_contain_text("120,000")
    expect(changes.filter(has_text="Amount").locator("ins")).to_contain_text("98,000.5")
    expect(first).to_contain_text("Lin Wei created this record")
    expect(first.locator("[data-via]")).to_have_text("through the API")
    shot(page, "timeline")
    page.get_by_role("button", name="中文").click()
    expect(newest.locator("[data-via]")).to_have_text("在应用中")
    expect(first.locator("[data-via]")).to_have_text("通过 API")
    expect(changes.filter(has_text="阶段").locator("ins")).to_have_text("已确认")
    shot(page, "timeline-zh")
    assert factories.get(platform, "deal", deal["id"])["stage"] == "qualified"
