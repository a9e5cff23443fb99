"""The runtime pages in a real browser: forms with every field type, list filters and search,
saved views, the kanban board (a refused move included), the calendar, the timeline, Chinese,
and a phone-sized screen.  Screenshots go to ``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.browser.conftest import BROWSER_TIME_ZONE, LiveServer
from tests.browser.mouse import drag
from tests.conftest import PASSWORD
from tests.platform.pages import factories

Shot = Callable[[Page, str], Path]
DEALS = "/apps/fieldtest/deal/"


@pytest.fixture
def crm(platform: Platform, user_factory: Callable[..., User]) -> User:
    factories.install(platform)
    for name, city in (
        ("Huawei Technologies", "Shenzhen"),
        ("Alibaba Group", "Hangzhou"),
        ("Tencent", "Shenzhen"),
    ):
        factories.create(platform, "company", {"name": name, "city": city})
    return user_factory(name="Lin Wei")


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Good to see you, Lin Wei")).to_be_visible()


def pick_link(page: Page, field_id: str, typed: str, choice: str) -> None:
    box = page.locator(f"#{field_id}")
    box.fill(typed)
    option = page.locator(f"#{field_id}-options").get_by_role("option", name=choice)
    expect(option).to_be_visible()
    option.click()
    expect(box).to_have_value(choice)


def save(page: Page) -> None:
    page.locator(".rt-form-actions").get_by_role("button", name="Save", exact=True).click()


def new_deal(
    page: Page,
    name: str,
    stage: str,
    company: str,
    amount: str,
    close: str,
    tags: tuple[str, ...] = (),
) -> None:
    page.goto(DEALS + "new")
    page.locator("#f-name").fill(name)
    page.locator("#f-stage").select_option(label=stage)
    for tag in tags:
        page.locator(".rt-chip-option", has_text=tag).click()
    typed = company.split()[0][:3]
    pick_link(page, "f-company", typed, company)
    if amount:
        page.locator("#f-amount").fill(amount)
    page.locator("#f-close_date").fill(close)


def test_running_an_app_end_to_end(page: Page, crm: User, platform: Platform, shot: Shot) -> None:
    sign_in(page, crm.email)
    page.get_by_role("link", name="Field test").click()
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()
    expect(page.get_by_text("No Deals yet")).to_be_visible()
    shot(page, "list-empty")

    # 1. Three deals through the form: a child-table row, a searched link, a multi select, a file.
    new_deal(
        page,
        "Shenzhen rollout",
        "Qualified",
        "Huawei Technologies",
        "120000",
        "2026-11-20",
        tags=("hot", "vip"),
    )
    row = page.locator("[data-child-table] [data-row]").first
    row.locator("input[name='lines.0.product']").fill("Router")
    row.locator("input[name='lines.0.qty']").fill("2")
    row.locator("input[name='lines.0.price']").fill("500")
    page.get_by_role("button", name="Add row").click()
    page.locator("input[name='lines.1.product']").fill("Switch")
    page.locator("input[name='lines.1.qty']").fill("1")
    page.get_by_role("tab", name="More").click()
    page.locator("input[name='files.upload']").set_input_files(
        files=[{"name": "brief.txt", "mimeType": "text/plain", "buffer": b"Rollout plan\n"}]
    )
    page.get_by_label("Email").fill("buyer@huawei.example")
    page.get_by_role("tab", name="Deal").click()
    shot(page, "form-filled")
    save(page)
    expect(page.get_by_role("heading", name="Shenzhen rollout")).to_be_visible()
    expect(page.locator("[data-value=company]")).to_have_text("Huawei Technologies")
    expect(page.locator("[data-value=lines]")).to_contain_text("Router")
    expect(page.locator(".rt-detail-side")).to_contain_text("brief.txt")

    new_deal(page, "Hangzhou pilot", "New", "Alibaba Group", "", "2026-11-24")
    save(page)
    expect(page.get_by_role("heading", name="Hangzhou pilot")).to_be_visible()
    new_deal(page, "Beijing renewal", "New", "Tencent", "5000", "2026-11-05", tags=("cold",))
    save(page)
    expect(page.get_by_role("heading", name="Beijing renewal")).to_be_visible()

    # 2. The list, text search, the filter builder and a saved view.
    page.goto(DEALS)
    expect(page.locator(".rt-table tbody tr")).to_have_count(3)
    expect(page.locator("[data-total]")).to_have_text("3 records")
    shot(page, "list")
    page.get_by_label("Search", exact=True).fill("Hangzhou")
    page.get_by_label("Search", exact=True).press("Enter")
    expect(page.locator(".rt-table tbody tr")).to_have_count(1)
    expect(page.locator(".rt-table tbody")).to_contain_text("Hangzhou pilot")
    page.goto(DEALS)
    page.locator(".rt-filter-menu > summary").click()
    page.get_by_role("button", name="+ Add condition").click()
    builder = page.locator("[data-filter-builder] .rt-fb-row").first
    builder.get_by_label("Field").select_option(label="Stage")
    builder.get_by_label("Operator").select_option(label="is")
    builder.get_by_label("Value").select_option(label="Qualified")
    shot(page, "list-filter-builder")
    page.locator("[data-filter-form]").get_by_role("button", name="Apply").click()
    expect(page.locator(".rt-table tbody tr")).to_have_count(1)
    expect(page.locator(".rt-table tbody")).to_contain_text("Shenzhen rollout")
    page.locator(".rt-views > summary").click()
    page.get_by_label("Save the current view as").fill("Qualified deals")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator(".rt-views-name")).to_have_text("Qualified deals")
    expect(page.locator(".rt-table tbody tr")).to_have_count(1)

    # 3. The board: one move is saved, one is refused by a validation rule and comes back.
    page.get_by_role("link", name="Pipeline").click()
    new_column = page.locator("[data-column=new]")
    won_column = page.locator("[data-column=won]")
    beijing = new_column.locator("[data-card]", has_text="Beijing renewal")
    drag(page, beijing, won_column.locator("[data-cards]"), into=True)
    expect(won_column.locator("[data-card]", has_text="Beijing renewal")).to_be_visible()
    expect(page.locator("[data-toast]")).to_contain_text("Moved to Won")
    hangzhou = new_column.locator("[data-card]", has_text="Hangzhou pilot")
    hangzhou.focus()
    hangzhou.press("ArrowRight")  # the keyboard moves a card one column
    qualified = page.locator("[data-column=qualified]")
    expect(page.locator("[data-toast]")).to_contain_text("Moved to Qualified")
    hangzhou = qualified.locator("[data-card]", has_text="Hangzhou pilot")
    drag(page, hangzhou, won_column.locator("[data-cards]"), into=True)
    expect(page.locator("[data-toast]")).to_contain_text("A won deal needs an amount")
    expect(qualified.locator("[data-card]", has_text="Hangzhou pilot")).to_be_visible()
    expect(won_column.locator("[data-card]", has_text="Hangzhou pilot")).to_have_count(0)
    shot(page, "kanban-refused-move")
    assert factories.get(platform, "deal", 2)["stage"] == "qualified"

    # 4. The calendar of November 2026.
    page.get_by_role("link", name="Calendar").click()
    page.goto("/apps/fieldtest/deal/calendar?month=2026-11")
    expect(page.locator("#month-title")).to_have_text("November 2026")
    expect(page.locator(".rt-cal-event", has_text="Shenzhen rollout")).to_be_visible()
    shot(page, "calendar")

    # 5. The moved record's timeline shows the change.
    page.goto(DEALS)
    page.get_by_role("link", name="Beijing renewal").click()
    timeline = page.locator(".rt-timeline")
    expect(timeline).to_contain_text("Stage")
    expect(timeline.locator("ins", has_text="Won")).to_be_visible()
    shot(page, "detail")
    page.get_by_role("link", name="Edit").click()
    shot(page, "form-edit")

    # 6. Chinese.
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="编辑商机")).to_be_visible()
    page.goto(DEALS)
    expect(page.get_by_role("link", name="销售漏斗")).to_be_visible()
    expect(page.get_by_role("link", name="新建商机")).to_be_visible()
    expect(page.locator(".rt-table th", has_text="阶段")).to_be_visible()
    shot(page, "list-zh")


def test_phone_sized_list_and_form(
    browser: Browser, live_server: LiveServer, crm: User, platform: Platform, artifacts: Path
) -> None:
    company = factories.create(platform, "company", {"name": "Xiaomi", "city": "Beijing"})
    for n in range(3):
        factories.create(
            platform,
            "deal",
            {
                "name": f"Phone deal {n}",
                "company": company["id"],
                "amount": "1200.50",
                "stage": "new",
            },
        )
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="en-US",
        timezone_id=BROWSER_TIME_ZONE,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        sign_in(page, crm.email)
        page.goto(DEALS)
        expect(page.locator(".rt-table tbody tr")).to_have_count(3)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the list overflows a phone's width ({width}px)"
        page.screenshot(path=str(artifacts / "list-phone.png"), full_page=True)
        page.get_by_role("link", name="New Deal").click()
        expect(page.get_by_role("heading", name="New Deal")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the form overflows a phone's width ({width}px)"
        page.screenshot(path=str(artifacts / "form-phone.png"), full_page=True)
        page.locator("#f-name").fill("Typed on a phone")
        pick_link(page, "f-company", "Xia", "Xiaomi")
        save(page)
        expect(page.get_by_role("heading", name="Typed on a phone")).to_be_visible()
        page.screenshot(path=str(artifacts / "detail-phone.png"), full_page=True)
    finally:
        context.close()
