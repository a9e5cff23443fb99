"""The runtime pages' newer parts in a real browser: the rich text editor, rescheduling on the
calendar by drag and drop, the trash, bulk edit with a field's own input, the board's "Load
more" and the shell's app switcher.  Screenshots go to ``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.browser.mouse import drag
from tests.browser.pages.test_runtime_pages import crm, sign_in  # noqa: F401 - the fixture
from tests.platform.factories import records
from tests.platform.pages import factories

Shot = Callable[[Page, str], Path]
DEALS = "/apps/fieldtest/deal/"


def test_rich_text_is_typed_with_the_toolbar_and_saved(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
) -> None:
    sign_in(page, crm.email)
    page.goto(DEALS + "new")
    page.locator("#f-name").fill("Rich deal")
    page.get_by_role("tab", name="More").click()
    editor = page.locator("trix-editor#f-summary")
    expect(editor).to_be_visible()
    toolbar = page.locator("#f-summary-toolbar [role=toolbar]")
    # one Tab stop for the toolbar; the arrow keys move along it
    bold = toolbar.locator("[data-trix-attribute=bold]")
    bold.focus()
    page.keyboard.press("ArrowRight")
    expect(toolbar.locator("[data-trix-attribute=italic]")).to_be_focused()
    editor.click()
    page.keyboard.type("Plan: ")
    bold.click()
    page.keyboard.type("sign this week")
    bold.click()
    page.keyboard.press("Enter")
    toolbar.locator("[data-trix-attribute=bullet]").click()
    page.keyboard.type("pilot in Shenzhen")
    page.keyboard.press("Enter")
    page.keyboard.type("roll out in Q1")
    expect(editor.locator("strong")).to_have_text("sign this week")
    expect(editor.locator("li")).to_have_count(2)
    shot(page, "rich-text-editor")
    page.locator(".rt-form-actions").get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Rich deal")).to_be_visible()
    stored = factories.get(platform, "deal", 1)["summary"]
    assert "<strong>sign this week</strong>" in stored
    assert "<li>pilot in Shenzhen</li>" in stored and "<li>roll out in Q1</li>" in stored
    shot(page, "rich-text-saved")
    page.goto(f"{DEALS}1/edit")  # the saved text comes back into the editor
    page.get_by_role("tab", name="More").click()
    expect(page.locator("trix-editor#f-summary strong")).to_have_text("sign this week")
    # a field made read-only disables its fieldset: the editor stops taking keys, and comes back
    fieldset = page.locator("fieldset[data-field=summary]")
    fieldset.evaluate("node => { node.disabled = true; }")
    expect(page.locator("trix-editor#f-summary")).to_have_attribute("contenteditable", "false")
    page.locator("trix-editor#f-summary").evaluate("node => node.focus()")
    page.keyboard.type("sneaked in")
    expect(page.locator("trix-editor#f-summary")).not_to_contain_text("sneaked in")
    fieldset.evaluate("node => { node.disabled = false; }")
    expect(page.locator("trix-editor#f-summary")).to_have_attribute("contenteditable", "true")


def test_calendar_events_are_dragged_to_another_day(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
) -> None:
    kickoff = factories.create(platform, "deal", {"name": "Kick-off", "close_date": "2026-11-10"})
    review = factories.create(platform, "deal", {"name": "Review", "close_date": "2026-11-17"})
    sign_in(page, crm.email)
    page.goto(DEALS + "calendar?month=2026-11")
    event = page.locator("[data-event]", has_text="Kick-off")
    drag(page, event, page.locator("[data-day='2026-11-12']"), into=True)
    expect(page.locator("[data-toast]")).to_contain_text("Moved to Thursday, November 12, 2026")
    expect(
        page.locator("[data-day='2026-11-12'] [data-event]", has_text="Kick-off")
    ).to_be_visible()
    assert factories.get(platform, "deal", kickoff["id"])["close_date"] == dt.date(2026, 11, 12)
    shot(page, "calendar-moved")
    # someone else changes "Review" after the page was drawn: the move is refused and undone
    with records(platform, "fieldtest") as system:
        system.update("deal", review["id"], {"amount": "10"})
    review_event = page.locator("[data-event]", has_text="Review")
    drag(page, review_event, page.locator("[data-day='2026-11-19']"), into=True)
    expect(page.locator("[data-toast]")).to_contain_text("Someone else changed this record")
    expect(page.locator("[data-day='2026-11-17'] [data-event]", has_text="Review")).to_be_visible()
    assert factories.get(platform, "deal", review["id"])["close_date"] == dt.date(2026, 11, 17)
    shot(page, "calendar-refused")
    # the keyboard way: each event's pencil opens its edit form
    page.get_by_role("link", name="Reschedule Review").click()
    expect(page.locator("#f-close_date")).to_have_value("2026-11-17")


def test_trash_restores_selected_records(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
) -> None:
    for name in ("Keep me", "Bring back", "Leave in trash"):
        factories.create(platform, "deal", {"name": name})
    sign_in(page, crm.email)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(DEALS)
    for name in ("Bring back", "Leave in trash"):
        page.get_by_role("row", name=name).get_by_role("checkbox").check()
    page.locator("[data-bulkbar]").get_by_role("button", name="Delete").click()
    expect(page.locator(".rt-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    expect(page.locator(".rt-table tbody tr")).to_have_count(2)
    page.get_by_role("row", name="Bring back").get_by_role("checkbox").check()
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    shot(page, "trash-selected")
    page.locator("[data-bulkbar]").get_by_role("button", name="Restore").click()
    expect(page.get_by_text("1 records restored.")).to_be_visible()
    expect(page.locator(".rt-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Back to Deals").first.click()
    expect(page.locator(".rt-table tbody")).to_contain_text("Bring back")
    shot(page, "trash-restored-list")


def test_bulk_edit_uses_the_fields_own_input(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        factories.create(platform, "deal", {"name": name, "stage": "new"})
    sign_in(page, crm.email)
    page.goto(DEALS)
    for name in ("Alpha", "Gamma"):
        page.get_by_role("row", name=name).get_by_role("checkbox").check()
    bar = page.locator("[data-bulkbar]")
    bar.get_by_label("Field to change").select_option(label="Stage")
    value = bar.locator("select#bulk-value")
    expect(value).to_be_focused()
    value.select_option(label="Qualified")
    shot(page, "bulk-edit-select")
    bar.get_by_role("button", name="Update").click()
    expect(page.get_by_text("2 records updated.")).to_be_visible()
    stages = {r["name"]: r["stage"] for r in _deals(platform)}
    assert stages == {"Alpha": "qualified", "Beta": "new", "Gamma": "qualified"}
    # a date field gets a date input
    page.get_by_role("row", name="Beta").get_by_role("checkbox").check()
    bar.get_by_label("Field to change").select_option(label="Close date")
    expect(bar.locator("input#bulk-value[type=date]")).to_be_visible()
    bar.locator("input#bulk-value").fill("2026-12-31")
    bar.get_by_role("button", name="Update").click()
    expect(page.get_by_text("1 records updated.")).to_be_visible()
    beta = next(r for r in _deals(platform) if r["name"] == "Beta")
    assert beta["close_date"] == dt.date(2026, 12, 31)


def _deals(platform: Platform) -> list[dict[str, object]]:
    with records(platform, "fieldtest") as service:
        return service.list("deal").records


def test_kanban_columns_load_more_cards(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
) -> None:
    factories.many(platform, 65)
    sign_in(page, crm.email)
    page.goto(DEALS + "kanban")
    column = page.locator("[data-column=new]")
    expect(column.locator("[data-card]")).to_have_count(50)
    expect(column.locator("[data-column-count]")).to_have_text("65")
    more = column.locator("[data-load-more]")
    expect(more).to_contain_text("(50 of 65)")
    more.click()
    expect(column.locator("[data-card]")).to_have_count(65)
    expect(more).to_have_count(0)
    expect(column.locator("[data-card]").nth(50)).to_be_focused()
    shot(page, "kanban-load-more")
    # a loaded card moves like the others
    card = column.locator("[data-card]").last
    name = card.get_attribute("aria-label")
    card.press("ArrowRight")
    expect(page.locator("[data-toast]")).to_contain_text("Moved to Qualified")
    expect(page.locator("[data-column=qualified] [data-card]", has_text=name or "")).to_be_visible()


def test_the_app_switcher_opens_an_app(
    page: Page,
    crm: User,  # noqa: F811
    shot: Shot,
) -> None:
    sign_in(page, crm.email)
    page.locator(".app-switcher > summary").click()
    link = page.locator(".app-switcher").get_by_role("menuitem", name="Field test")
    expect(link).to_be_visible()
    shot(page, "app-switcher")
    link.click()
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()
    page.locator(".app-switcher > summary").click()
    expect(
        page.locator(".app-switcher").get_by_role("menuitem", name="Field test")
    ).to_have_attribute("aria-current", "page")
