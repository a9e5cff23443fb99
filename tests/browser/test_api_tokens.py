"""A personal API token in a real browser, used for real: made on the profile's token page
(shown once, with its scopes), it creates a record through the REST API over HTTP on the
live server, the page then shows when it was last used, and once revoked the same call is
refused with 401.  Screenshots go to ``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.browser.conftest import LiveServer
from tests.browser.pages.test_runtime_pages import crm, sign_in  # noqa: F401 - the fixture
from tests.platform.pages import factories

Shot = Callable[[Page, str], Path]


def post_json(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_a_token_made_on_the_profile_page_writes_through_the_api_until_revoked(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    live_server: LiveServer,
    shot: Shot,
) -> None:
    sign_in(page, crm.email)
    page.goto("/profile/tokens")
    page.get_by_label("Name").fill("Nightly ERP sync")
    page.get_by_label("records:write").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("[data-test=new-token]").inner_text().strip()
    assert secret.startswith("tsr_")
    page.reload()  # shown once: a reload neither posts the form again nor shows the secret
    expect(page.locator("[data-test=new-token]")).to_have_count(0)
    expect(page.locator("tbody tr", has_text="Nightly ERP sync")).to_have_count(1)
    row = page.locator("tbody tr", has_text="Nightly ERP sync")
    expect(row).to_contain_text("records:write")
    expect(row).to_contain_text("Never")
    shot(page, "token-made")
    deals = f"{live_server.url}/api/v1/apps/fieldtest/deal"
    status, created = post_json(deals, secret, {"name": "From the ERP", "amount": "5000"})
    assert status == 201, created
    assert factories.get(platform, "deal", created["id"])["name"] == "From the ERP"
    page.reload()  # no longer "Never": the use was noted
    expect(page.locator("tbody tr", has_text="Nightly ERP sync")).not_to_contain_text("Never")
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tbody tr", has_text="Nightly ERP sync")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("tbody tr", has_text="Nightly ERP sync")).to_contain_text("Revoked")
    shot(page, "token-revoked")
    status, problem = post_json(deals, secret, {"name": "Too late"})
    assert status == 401 and problem["status"] == 401, problem
