"""The builder in a real browser: an app designed by drag and drop, published, used, changed,
published again with a destructive step, and rolled back with its data intact.

Screenshots of the app manager, the form designer with its property panel, the live preview,
the view designer and the publish plan go to ``$TESSERA_TEST_ARTIFACTS/<test name>/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tessera.platform import apps
from tessera.platform.runtime import Platform
from tests.browser.mouse import drag
from tests.builder_ui.test_plan_language import CJK, ENGLISH, labelled_app, second_version
from tests.conftest import PASSWORD

Shot = Callable[[Page, str], Path]


def top_shot(shot: Shot, page: Page, name: str) -> None:
    """A full-page screenshot from the top, so sticky bars sit where a person sees them."""
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".user-button")).to_be_visible()


def saved(page: Page) -> None:
    expect(page.locator("#save-status")).to_have_attribute("data-state", "saved")


def section(page: Page, n: int) -> Locator:
    return page.locator(".canvas-section").nth(n).locator(".drop-list")


def placement(page: Page, key: str) -> Locator:
    return page.locator(f'.placement[data-field="{key}"]')


def drop_field(page: Page, type_: str, n: int = 0) -> str:
    """Drag a field type from the palette into section ``n``; returns the new field's key."""
    # the canvas is drawn by the designer's module script after the page loads: count the
    # fields only once it is there, or a field already on it is taken for the new one
    page.locator(".canvas-sections .canvas-section").first.wait_for()
    before = set(
        page.locator(".canvas-sections .placement").evaluate_all(
            "els => els.map(e => e.dataset.field)"
        )
    )
    drag(
        page,
        page.locator(f'#palette .palette-item[data-type="{type_}"]').first,
        section(page, n),
        to="bottom",
    )
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.canvas-sections .placement').length === n",
            arg=len(before) + 1,
        )
    except Exception:
        page.screenshot(path="/tmp/debug.png", full_page=True)
        print(page.locator(".canvas-sections").inner_html()[:3000])
        raise
    after = set(
        page.locator(".canvas-sections .placement").evaluate_all(
            "els => els.map(e => e.dataset.field)"
        )
    )
    (key,) = after - before
    return str(key)


def label(page: Page, text: str, locale: str = "en") -> None:
    page.locator(f'#panel input[name="field-label-{locale}"]').fill(text)


def field_keys(page: Page, n: int) -> list[str]:
    return list(
        section(page, n).locator(".placement").evaluate_all("els => els.map(e => e.dataset.field)")
    )


def test_design_publish_use_change_and_roll_back(
    page: Page, user_factory: Callable[..., Any], platform: Platform, shot: Shot
) -> None:
    builder = user_factory(platform_role="app_builder", name="Lin Wei")
    sign_in(page, builder.email)

    # -- the app manager: create an app whose first entity is the customer ---------------
    page.goto("/build/")
    expect(page.get_by_role("heading", name="App builder")).to_be_visible()
    page.get_by_label("App name in English").fill("Field service")
    page.get_by_label("App name in Chinese").fill("现场服务")
    expect(page.get_by_label("App key")).to_have_value("field_service")
    page.get_by_label("First entity in English").fill("Customer")
    page.get_by_label("First entity in Chinese").fill("客户")
    page.get_by_role("button", name="Create app").click()
    expect(page.locator(".designer")).to_be_visible()

    # -- the app designer: add the job entity --------------------------------------------
    page.goto("/build/field_service/")
    page.get_by_label("Name in English").fill("Job")
    page.get_by_label("Name in Chinese").fill("工单")
    expect(page.locator("#entity_key")).to_have_value("job")
    page.get_by_role("button", name="Add entity").click()
    expect(page).to_have_url("/build/field_service/entities/job")

    # -- the form designer: six more fields, all dragged from the palette -----------------
    status = drop_field(page, "select")
    label(page, "Status")
    status = "status"
    label(page, "状态", "zh-CN")
    page.locator('#panel input[name="option-0-key"]').fill("open")
    page.locator('#panel input[name="option-0-key"]').press("Tab")
    page.locator('#panel input[name="option-0-en"]').fill("Open")
    page.locator('#panel input[name="option-1-key"]').fill("done")
    page.locator('#panel input[name="option-1-key"]').press("Tab")
    page.locator('#panel input[name="option-1-en"]').fill("Done")
    due = drop_field(page, "date")
    label(page, "Due")
    due = "due"
    hours = drop_field(page, "decimal")
    label(page, "Hours")
    hours = "hours"
    cost = drop_field(page, "formula")
    label(page, "Cost")
    cost = "cost"
    page.locator('#panel textarea[name="formula"]').fill("hours * 80")
    expect(page.locator("#panel textarea[name=formula] ~ .formula-status")).to_contain_text(
        "Looks right"
    )
    page.locator('#panel textarea[name="formula"]').fill("hours * nope")
    expect(page.locator("#panel textarea[name=formula] ~ .formula-status")).to_contain_text("nope")
    page.locator('#panel textarea[name="formula"]').fill("hours * 80")
    expect(page.locator("#panel textarea[name=formula] ~ .formula-status")).to_contain_text(
        "Looks right"
    )
    customer = drop_field(page, "link")
    expect(page.locator('#panel select[data-path$=".entity"]')).to_have_value("customer")
    steps = drop_field(page, "child_table")
    label(page, "Steps")
    steps = "steps"
    saved(page)
    keys = field_keys(page, 0)
    assert keys == ["name", status, due, hours, cost, customer, steps]
    # keys follow the English labels until the app is published
    assert (status, due, hours, cost, customer, steps) == (
        "status",
        "due",
        "hours",
        "cost",
        "link",
        "steps",
    )

    # undo and redo are designer steps too
    page.get_by_role("button", name="Undo").click()
    expect(placement(page, steps)).to_have_count(0)
    page.get_by_role("button", name="Redo").click()
    expect(placement(page, steps)).to_have_count(1)

    # reorder: the due date goes first; then a second section takes the hours
    drag(page, placement(page, due), placement(page, "name"), to="top")
    page.wait_for_function(
        "() => document.querySelector('.canvas-sections .placement').dataset.field === 'due'"
    )
    page.get_by_role("button", name="Add section").click()
    expect(page.locator(".canvas-section")).to_have_count(2)
    drag(page, placement(page, hours), section(page, 1))
    expect(section(page, 1).locator(f'[data-field="{hours}"]')).to_have_count(1)
    assert hours not in field_keys(page, 0)

    # a visibility condition: the due date shows only for open jobs
    placement(page, due).click()
    page.locator('#panel textarea[name="visible-if"]').fill('status = "open"')
    expect(page.locator("#panel textarea[name=visible-if] ~ .formula-status")).to_contain_text(
        "Looks right"
    )
    saved(page)
    expect(placement(page, due).locator(".chip-condition")).to_be_visible()
    top_shot(shot, page, "form-designer")

    # a validator error shows next to the element it concerns
    placement(page, status).click()
    page.locator('#panel input[name="option-1-key"]').fill("open")
    page.locator('#panel input[name="option-1-key"]').press("Tab")
    saved(page)
    expect(page.locator("#problems")).to_be_visible()
    expect(placement(page, status).locator(".problem-note")).to_be_visible()
    top_shot(shot, page, "form-designer-error")
    page.get_by_role("button", name="Undo").click()
    saved(page)
    expect(page.locator("#problems")).to_be_hidden()

    # live preview: the due date appears once the status is "open"
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview.locator(f'[data-preview-field="{status}"]')).to_be_visible()
    expect(preview.locator(f'[data-preview-field="{due}"]')).to_be_hidden()
    preview.locator(f'select[name="{status}"]').select_option("open")
    expect(preview.locator(f'[data-preview-field="{due}"]')).to_be_visible()
    top_shot(shot, page, "form-preview")
    page.get_by_role("button", name="Design").click()

    # the draft survives a reload
    page.reload()
    expect(page.locator(".canvas-sections .placement")).to_have_count(7)
    assert field_keys(page, 0)[0] == due

    # -- the view designer: a board grouped by status ------------------------------------
    page.get_by_role("link", name="Views").click()
    expect(page.locator("#view-editor")).to_be_visible()
    page.locator('[data-add-view="kanban"]').click()
    expect(page.locator('#view-editor select[data-path$=".group_by"]')).to_have_value(status)
    drag(
        page,
        page.locator('.column-list-other [data-column="cost"]'),
        page.locator(".column-list").first.locator("[data-column]").last,
        to="end",
    )
    expect(page.locator('.column-list >> nth=0 >> [data-column="cost"]')).to_have_count(1)
    saved(page)
    top_shot(shot, page, "view-designer")

    # -- publish, seeing the plan --------------------------------------------------------
    page.locator("#go-publish").click()
    expect(page.locator("[data-test=plan]")).to_contain_text("x_field_service__job")
    expect(page.locator("#confirm-destructive")).to_have_count(0)
    top_shot(shot, page, "publish-plan")
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 is live")

    # -- a record in the running app, through its create form ----------------------------
    page.goto("/apps/field_service/job/new")
    page.locator('[name="name"]').fill("Boiler check")
    page.locator(f'[name="{status}"]').select_option("open")
    page.locator(f'[name="{due}"]').fill("2030-05-04")
    page.locator(f'[name="{hours}"]').fill("2.5")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.locator(".flash-success")).to_be_visible()
    with platform.db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM x_field_service__job")).mappings().one()
    assert row["name"] == "Boiler check" and str(row[due]) == "2030-05-04"

    # -- change: rename a label, change options, drop a field ----------------------------
    page.goto("/build/field_service/entities/job")
    placement(page, hours).click()
    label(page, "Work hours")
    placement(page, status).click()
    page.locator("#panel [data-action=add-option]").click()
    page.locator('#panel input[name="option-2-en"]').fill("Waiting")
    placement(page, due).click()
    expect(page.locator("#panel")).to_contain_text("Publishing will ask you to confirm")
    page.locator("#panel [data-action=delete-field]").click()
    expect(placement(page, due)).to_have_count(0)
    saved(page)
    page.locator("#go-publish").click()
    expect(page.locator(".plan-step.is-destructive")).to_have_count(1)
    expect(page.locator("[data-test=changes]")).to_contain_text("Work hours")
    expect(page.locator("#confirm-destructive")).to_be_visible()
    top_shot(shot, page, "publish-destructive")
    page.get_by_role("button", name="Publish version 2").click()  # the browser wants the tick
    expect(page).to_have_url("/build/field_service/publish")
    page.locator("#confirm-destructive").check()
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 2 is live")

    # -- roll back to version 1: the dropped field comes back with its value -------------
    page.locator('[data-version="1"]').get_by_role("link", name="Roll back to this version").click()
    expect(page.locator("[data-test=plan]")).to_be_visible()
    top_shot(shot, page, "rollback-plan")
    page.get_by_role("button", name="Roll back").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 is live again as version 3")
    top_shot(shot, page, "history")
    with platform.db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM x_field_service__job")).mappings().one()
        doc = apps.draft(conn, "field_service")
    assert row["name"] == "Boiler check" and str(row[due]) == "2030-05-04"
    assert str(row[hours]) in ("2.5", "2.50")
    job = next(e for e in doc["entities"] if e["key"] == "job")
    assert any(f["key"] == due for f in job["fields"])
    page.goto("/build/")
    expect(page.locator('[data-app="field_service"]')).to_contain_text("v3")
    top_shot(shot, page, "app-manager")


def test_a_chinese_builder_reads_the_publish_plan_and_history_in_chinese(
    page: Page, user_factory: Callable[..., Any], platform: Platform, shot: Shot
) -> None:
    """Every step and change of the publish preview and the history is Chinese, with the
    entities and fields named by their Chinese labels."""
    builder = user_factory(platform_role="app_builder", locale="zh-CN")
    with platform.db.engine.begin() as conn:
        apps.create(conn, labelled_app())
    sign_in(page, builder.email)

    page.goto("/build/shop/publish")
    plan = page.locator("[data-test=plan]")
    expect(plan).to_contain_text("创建数据表：实体“订单”（x_shop__order）")
    top_shot(shot, page, "publish-plan-zh")
    page.get_by_role("button", name="发布版本 1").click()
    expect(page.locator(".flash-success")).to_contain_text("版本 1 已上线")

    with platform.db.engine.begin() as conn:
        apps.save_draft(conn, "shop", second_version(labelled_app()))
    page.goto("/build/shop/publish")
    expect(page.locator(".plan-step.is-destructive")).to_contain_text(
        "移除“订单”的字段“截止日期”：其值保留在列 _trash_due_v2 中"
    )
    expect(page.locator("[data-test=changes]")).to_contain_text("为“订单”添加多行文本字段“备注”")
    for text in [
        *page.locator("[data-test=plan] li").all_inner_texts(),
        *page.locator("[data-test=changes] li").all_inner_texts(),
    ]:
        assert CJK.search(text) and not ENGLISH.search(text), text
    top_shot(shot, page, "publish-destructive-zh")
    page.locator("#confirm-destructive").check()
    page.get_by_role("button", name="发布版本 2").click()
    expect(page.locator(".flash-success")).to_contain_text("版本 2 已上线")

    card = page.locator('[data-version="2"]')
    expect(card.locator(".change-list")).to_contain_text("将“订单”的字段“工时”重命名为“工作时长”")
    card.locator("summary").click()
    expect(card.locator(".plan-step.is-destructive")).to_contain_text(
        "⚠ 移除“订单”的字段“截止日期”"
    )
    top_shot(shot, page, "history-zh")
