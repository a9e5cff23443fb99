"""Rich text fields: markup cleaned on save, and the form without scripts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.test_permission_matrix import World, world  # noqa: F401 - the fixture

from . import factories

DEALS = "/apps/fieldtest/deal/"


def test_rich_text_is_cleaned_on_save_and_the_form_works_without_scripts(
    fieldtest: Platform, signed_in: Web, page: Callable[..., Any]
) -> None:
    status, html = page(DEALS + "new")
    assert status == 200
    # the editor enhances a plain textarea of the same name, so the form posts without JS
    assert re.search(
        r'data-rich-text[^>]*>\s*<textarea class="input" id="f-summary" name="summary"', html
    )
    hostile = (
        "<p><strong>Bold</strong> <em>it</em></p><ul><li>one</li></ul>"
        '<script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)" onclick="alert(4)">link</a>'
    )
    response = signed_in.post(
        DEALS + "new",
        {"name": "Rich", "stage": "new", "summary": hostile},
        token_from=DEALS + "new",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    record_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    stored = factories.get(fieldtest, "deal", record_id)["summary"]
    assert "<strong>Bold</strong>" in stored and "<li>one</li>" in stored
    for bad in ("<script", "alert(1)", "onerror", "onclick", "javascript:"):
        assert bad not in stored
    shown = page(f"{DEALS}{record_id}")[1]
    assert (
        "<strong>Bold</strong>" in shown and "onerror" not in shown and "<script>alert" not in shown
    )
