"""Permissions as a user sees them in a real browser: a field the role may only read cannot be
edited (and a hidden one is not there), and the share dialog shares a record, lists the share
and withdraws it.  Screenshots go to ``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tessera.platform.models import User
from tests.conftest import PASSWORD
from tests.platform.factories import records
from tests.platform.test_permission_matrix import SECRET_NOTE, World, world
from tests.platform.test_permission_pages import ro_lead

__all__ = ["ro_lead", "world"]  # fixtures of the HTTP tests, used here too

Shot = Callable[[Page, str], Path]


def sign_in(page: Page, user: User) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Good to see you, {user.name}")).to_be_visible()


def test_a_read_only_field_cannot_be_edited(
    page: Page, world: World, ro_lead: int, shot: Shot
) -> None:
    sign_in(page, world.users["rep"])
    page.goto(f"/apps/ro/lead/{ro_lead}/edit")
    stage, name = page.locator("#f-stage"), page.locator("#f-name")
    expect(name).to_be_editable()
    expect(stage).to_be_disabled()
    expect(stage).not_to_be_editable()
    expect(page.locator('[data-field="amount"]')).to_have_count(0)
    expect(page.locator('[data-field="memo"]')).to_have_count(0)
    expect(page.get_by_text(SECRET_NOTE)).to_have_count(0)
    shot(page, "read-only-stage")
    name.fill("Renamed in the browser")
    page.locator(".rt-form-actions").get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Renamed in the browser")).to_be_visible()
    with records(world.platform, "ro") as system:
        lead = system.get("lead", ro_lead)
    assert (lead["name"], lead["stage"]) == ("Renamed in the browser", "new")


def test_sharing_a_record_from_its_page(page: Page, world: World, shot: Shot) -> None:
    rep2 = world.users["rep2"]
    sign_in(page, world.users["rep"])
    page.goto(f"/apps/perm/lead/{world.leads['rep']}")
    page.locator(".rt-share summary").click()
    dialog = page.get_by_role("dialog", name="Share this record")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Not shared with anyone yet.")).to_be_visible()
    dialog.get_by_label("Share with").select_option(label=rep2.name)
    dialog.get_by_label("Access").select_option("edit")
    shot(page, "share-dialog")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text("The record has been shared.")).to_be_visible()
    page.locator(".rt-share summary").click()
    item = page.locator(f'[data-grantee="user:{rep2.id}"]')
    expect(item).to_contain_text(rep2.name)
    expect(item).to_contain_text("can edit")
    shot(page, "shared")
    item.get_by_role("button", name=f"Stop sharing with {rep2.name}").click()
    expect(page.get_by_text("The record is no longer shared with them.")).to_be_visible()
    expect(page.locator(f'[data-grantee="user:{rep2.id}"]')).to_have_count(0)
