"""Bulk edit by field type: each field's own input, conversion, and only writable fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.test_permission_matrix import World, world  # noqa: F401 - the fixture

from . import factories

DEALS = "/apps/fieldtest/deal/"


def test_bulk_edit_offers_each_fields_own_input_and_converts_by_type(
    fieldtest: Platform, signed_in: Web, page: Callable[..., Any]
) -> None:
    company = factories.create(fieldtest, "company", {"name": "Acme"})
    ids = [factories.create(fieldtest, "deal", {"name": f"Deal {n}"})["id"] for n in range(2)]
    html = page(DEALS)[1]
    stage = re.search(r'<template data-bulk-template="stage">(.*?)</template>', html, re.S)
    assert stage and '<select class="select" id="bulk-value" name="value"' in stage.group(1)
    assert 'value="qualified"' in stage.group(1)
    close = re.search(r'<template data-bulk-template="close_date">(.*?)</template>', html, re.S)
    assert close and 'type="date"' in close.group(1)
    signed = re.search(r'<template data-bulk-template="signed">(.*?)</template>', html, re.S)
    assert signed and 'type="checkbox"' in signed.group(1)
    link = re.search(r'<template data-bulk-template="company">(.*?)</template>', html, re.S)
    assert link and "data-link-picker" in link.group(1)
    assert 'data-bulk-template="total"' not in html  # computed fields are not offered

    def bulk(field: str, *values: str) -> None:
        form = {"action": "edit", "ids": ids, "field": field, "value": list(values), "next": DEALS}
        response = signed_in.post(DEALS + "_/bulk", form, token_from=DEALS)
        assert response.status_code == 302

    bulk("close_date", "2026-12-24")
    bulk("quantity", "12")
    bulk("company", str(company["id"]))
    bulk("tags", "hot", "vip")
    for record_id in ids:
        record = factories.get(fieldtest, "deal", record_id)
        assert record["close_date"] == dt.date(2026, 12, 24) and record["quantity"] == 12
        assert record["company"] == company["id"] and record["tags"] == ["hot", "vip"]
    # a value the field type cannot read is refused for every record, with the field's name
    response = signed_in.post(DEALS + "_/bulk", {"action": "edit", "ids": ids, "field": "quantity",
                              "value": "twelve", "next": DEALS}, token_from=DEALS)  # fmt: skip
    flashed = signed_in.client.get(DEALS).get_data(as_text=True)
    assert response.status_code == 302 and "Nothing was changed" in flashed
    assert all(factories.get(fieldtest, "deal", i)["quantity"] == 12 for i in ids)


# -- the board's "Load more" ---------------------------------------------------------------------


def test_bulk_edit_offers_only_fields_the_user_may_write(world: World, web: Web) -> None:  # noqa: F811
    web.sign_in(world.users["rep"].email)  # the rep's role hides amount and memo
    html = web.client.get("/apps/perm/lead/").get_data(as_text=True)
    assert 'data-bulk-template="name"' in html and 'data-bulk-template="stage"' in html
    assert 'data-bulk-template="amount"' not in html and 'data-bulk-template="memo"' not in html
