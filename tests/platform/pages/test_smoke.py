"""Every runtime page renders for a signed-in member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tessera.platform.runtime import Platform

from . import factories


def test_every_page_renders(fieldtest: Platform, page: Callable[..., Any]) -> None:
    company = factories.create(fieldtest, "company", {"name": "Huawei", "city": "Shenzhen"})
    deal = factories.create(
        fieldtest,
        "deal",
        {"name": "Big deal", "company": company["id"], "close_date": "2026-11-20"},
    )
    for path in (
        "/apps/fieldtest/deal/",
        "/apps/fieldtest/deal/kanban",
        "/apps/fieldtest/deal/calendar?month=2026-11",
        "/apps/fieldtest/deal/new",
        f"/apps/fieldtest/deal/{deal['id']}",
        f"/apps/fieldtest/deal/{deal['id']}/edit",
        "/apps/fieldtest/company/",
        f"/apps/fieldtest/company/{company['id']}",
        "/",
    ):
        status, html = page(path)
        assert status == 200, (path, html[-3000:])
