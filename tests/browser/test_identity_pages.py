"""The identity pages in a real browser: first run, sign-in and out, lockout, language, admin,
and the signed-in home on a phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from tessera.platform.identity import throttle
from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.browser.conftest import BROWSER_TIME_ZONE, LiveServer
from tests.conftest import PASSWORD

Shot = Callable[[Page, str], Path]


def _sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_first_run_creates_the_administrator(page: Page, platform: Platform, shot: Shot) -> None:
    page.goto("/")
    expect(page).to_have_url("/setup")
    expect(page.get_by_role("heading", name="Create the administrator account")).to_be_visible()
    # The time zone starts at the browser's own zone (our ES module), not the form's default.
    expect(page.get_by_label("Time zone")).to_have_value(BROWSER_TIME_ZONE)
    shot(page, "setup-empty")
    page.get_by_label("Your name").fill("陈静")
    page.get_by_label("Email").fill("chen.jing@example.cn")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.locator("#locale").select_option("zh-CN")
    page.get_by_label("Time zone").select_option("Asia/Shanghai")
    page.get_by_role("button", name="Create account and continue").click()
    expect(page.get_by_role("heading", name="陈静，您好")).to_be_visible()
    expect(page.locator(".flash-success")).to_contain_text("欢迎使用 Tessera")
    shot(page, "home-after-setup-zh")
    with platform.db.session() as db:
        admin = db.scalars(sa.select(User)).one()
    assert admin.platform_role == "system_admin" and admin.time_zone == "Asia/Shanghai"


def test_sign_in_and_sign_out(page: Page, user_factory: Callable[..., User], shot: Shot) -> None:
    user = user_factory(name="Zhou Min")
    page.goto("/sign-in")
    shot(page, "sign-in")
    _sign_in(page, user.email, "not the password")
    expect(page.locator("[data-test=sign-in-error]")).to_have_text(
        "The email or password is not correct."
    )
    shot(page, "sign-in-wrong-password")
    _sign_in(page, user.email)
    expect(page.get_by_role("heading", name="Good to see you, Zhou Min")).to_be_visible()
    page.get_by_label("Account menu").click()
    expect(page.get_by_role("menuitem", name="Sign out")).to_be_visible()
    shot(page, "user-menu-open")
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url("/sign-in")
    expect(page.locator(".flash-success")).to_contain_text("You have signed out.")
    page.goto("/profile")
    expect(page).to_have_url("/sign-in?next=/profile")


def test_lockout_message(page: Page, user_factory: Callable[..., User], shot: Shot) -> None:
    user = user_factory()
    for attempt in range(throttle.MAX_FAILURES):
        _sign_in(page, user.email, f"guess number {attempt}")
    error = page.locator("[data-test=sign-in-error]")
    expect(error).to_contain_text("Too many failed sign-ins for this account")
    expect(error).to_contain_text("15 minutes")
    _sign_in(page, user.email)  # the right password is refused while locked
    expect(error).to_contain_text("Too many failed sign-ins")
    shot(page, "lockout")


def test_language_switch_to_chinese(
    page: Page, user_factory: Callable[..., User], shot: Shot
) -> None:
    user_factory()
    page.goto("/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_label("邮箱")).to_be_visible()
    expect(page.get_by_role("link", name="忘记密码？")).to_be_visible()
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    shot(page, "sign-in-zh")
    page.get_by_role("link", name="忘记密码？").click()
    expect(page.get_by_role("heading", name="重置密码")).to_be_visible()
    shot(page, "forgot-zh")


def test_admin_users_page(
    page: Page, platform: Platform, user_factory: Callable[..., User], shot: Shot
) -> None:
    admin = user_factory(platform_role="system_admin", name="Admin Liu")
    user_factory(name="王小明", email="wang.xiaoming@example.cn")
    user_factory(name="<img src=x onerror=alert(1)>", email="xss@example.com", is_active=False)
    _sign_in(page, admin.email)
    page.get_by_label("Account menu").click()
    page.get_by_role("menuitem", name="Administration").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    table = page.locator("[data-test=users-table]")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("王小明")
    expect(table).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text
    expect(table.locator("img")).to_have_count(0)
    shot(page, "admin-users")
    page.get_by_placeholder("Search by name or email").fill("wang")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="王小明").click()
    expect(page.get_by_role("heading", name="王小明")).to_be_visible()
    shot(page, "admin-user-edit")
    page.get_by_role("link", name="Departments").click()
    page.get_by_label("Name", exact=True).fill("华东销售部")
    page.get_by_role("button", name="Add department").click()
    expect(page.locator("[data-test=department-tree]")).to_contain_text("华东销售部")
    shot(page, "admin-departments")


def test_phone_sized_home(
    browser: Browser, live_server: LiveServer, user_factory: Callable[..., User], artifacts: Path
) -> None:
    user = user_factory(name="欧阳娜娜", locale="zh-CN", platform_role="system_admin")
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()
    try:
        page.goto("/sign-in")
        page.get_by_label("邮箱").fill(user.email)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="欧阳娜娜，您好")).to_be_visible()
        expect(page.locator(".avatar").first).to_have_text("娜娜")
        # Nothing overflows the phone's width.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        page.screenshot(path=str(artifacts / "home-phone.png"), full_page=True)
        page.locator(".app-switcher summary").click()
        expect(page.locator(".app-switcher .menu-panel")).to_contain_text("还没有您可以打开的应用")
        page.screenshot(path=str(artifacts / "home-phone-apps-menu.png"))
        page.goto("/admin/users")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(artifacts / "admin-users-phone.png"), full_page=True)
    finally:
        context.close()
