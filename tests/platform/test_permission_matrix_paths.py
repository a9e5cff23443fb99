"""The permission matrix, continued: the indirect ways to a value.

Counts (list totals, kanban columns, related lists on a record page), computed fields that copy
or derive a hidden value (lookups, rollups, formulas), filters through links to records out of
scope, expanded links, the history of hidden fields and search terms that only a hidden or
computed-from-hidden field holds.  The app ``paths``: accounts with a ``revenue`` and a
``secret`` note the rep role may not see, leads with lookups of both and a formula of the
hidden ``amount``.  Users and roles come from the first matrix's ``world`` (roles are the
platform's, by key, so the same people hold them here).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tessera.platform import apps
from tests.conftest import Web
from tests.platform.factories import records
from tests.platform.test_permission_matrix import World, api_as, body, token_for, world

__all__ = ["token_for", "world"]  # fixtures used from the first matrix

REVENUE = 4_321_987
SECRET = "quixotic-margin"
AMOUNT = 876_543


def paths_app() -> dict[str, Any]:
    return {
        "format": "tessera.app/1",
        "key": "paths",
        "label": "Paths",
        "entities": [
            {"key": "account", "title": "name", "fields": [
                {"key": "name", "type": "text", "required": True},
                {"key": "revenue", "type": "currency"},
                {"key": "secret", "type": "text"},
                {"key": "lead_count", "type": "rollup", "source": "lead.account",
                 "aggregate": "count"},
                {"key": "lead_amounts", "type": "rollup", "source": "lead.account",
                 "field": "amount", "aggregate": "sum"},
            ]},
            {"key": "lead", "title": "name", "fields": [
                {"key": "name", "type": "text", "required": True},
                {"key": "amount", "type": "currency"},
                {"key": "stage", "type": "select", "options": ["new", "won"]},
                {"key": "account", "type": "link", "entity": "account"},
                {"key": "account_name", "type": "lookup", "link": "account", "field": "name"},
                {"key": "account_revenue", "type": "lookup", "link": "account",
                 "field": "revenue"},
                {"key": "account_secret", "type": "lookup", "link": "account", "field": "secret"},
                {"key": "doubled", "type": "formula", "formula": "amount * 2"},
            ], "views": [{"key": "board", "type": "kanban", "group_by": "stage"}]},
        ],
        "roles": [
            {"key": "rep", "label": "Rep", "entities": {
                "lead": {"read": "own", "create": "own", "update": "own",
                         "fields": {"amount": "hidden"}},
                "account": {"read": "own", "fields": {"revenue": "hidden", "secret": "hidden"}},
            }},
            {"key": "manager", "entities": {
                "lead": {"read": "department_tree"}, "account": {"read": "all"}}},
        ],
    }  # fmt: skip


@dataclass
class Paths:
    world: World
    accounts: dict[str, int]
    leads: dict[str, int]


@pytest.fixture
def paths(world: World) -> Paths:
    """East's rep owns lead L1 on West's account; West's rep owns L2 and L3 on it too."""
    apps.install(world.platform.db.engine, paths_app())
    users = world.users
    with records(world.platform, "paths") as system:
        west = system.create(
            "account",
            {"name": "Acme West", "revenue": REVENUE, "secret": SECRET, "owner": users["rep2"].id},
        )["id"]
        east = system.create("account", {"name": "Beta East", "owner": users["rep"].id})["id"]
        leads = {
            "L1": system.create("lead", {"name": "L1", "amount": AMOUNT, "account": west,
                                         "owner": users["rep"].id, "stage": "new"})["id"],
            "L2": system.create("lead", {"name": "L2", "amount": 5, "account": west,
                                         "owner": users["rep2"].id, "stage": "new"})["id"],
            "L3": system.create("lead", {"name": "L3", "amount": 7, "account": west,
                                         "owner": users["rep2"].id, "stage": "won"})["id"],
        }  # fmt: skip
        system.update("account", west, {"revenue": REVENUE + 1, "secret": SECRET + "-2"})
        system.update("lead", leads["L1"], {"amount": AMOUNT + 1, "name": "L1 renamed"})
    return Paths(world, {"west": west, "east": east}, leads)


def rep_api(paths: Paths, app: Flask, token_for: Any, who: str = "rep") -> Any:
    client = api_as(app, token_for, paths.world.users[who])
    client.base = "/api/v1/apps/paths"
    return client


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, body(response)
    return {r["id"] for r in response.get_json()["records"]}


# -- counts ----------------------------------------------------------------------------------------
def test_totals_and_kanban_columns_count_records_in_scope_only(
    paths: Paths, app: Flask, token_for: Any, web: Web
) -> None:
    rep2 = rep_api(paths, app, token_for, "rep2")
    assert rep2.get("/lead?total=1").get_json()["total"] == 2
    rep = rep_api(paths, app, token_for)
    assert rep.get("/lead?total=1").get_json()["total"] == 1
    web.sign_in(paths.world.users["rep"].email)
    board = body(web.client.get("/apps/paths/lead/kanban"))
    counts = [int(n) for n in re.findall(r"data-column-count>(\d+)<", board)]
    assert sum(counts) == 1, counts
    assert body(web.client.get("/apps/paths/lead/_/count")).count('"total": 1') or (
        web.client.get("/apps/paths/lead/_/count").get_json()["total"] == 1
    )


def test_related_lists_on_a_record_page_count_records_in_scope_only(
    paths: Paths, web: Web, other_web: Web
) -> None:
    """West's account has three leads; its owner may read two of them, the manager all."""
    web.sign_in(paths.world.users["rep2"].email)
    page = body(web.client.get(f"/apps/paths/account/{paths.accounts['west']}"))
    related = re.search(r'id="rel-1">[^<]*<span class="rt-count">(\d+)</span>', page)
    assert related is not None and related.group(1) == "2", page[:200]
    assert "L1 renamed" not in page
    other_web.sign_in(paths.world.users["manager"].email)
    page = body(other_web.client.get(f"/apps/paths/account/{paths.accounts['west']}"))
    related = re.search(r'id="rel-1">[^<]*<span class="rt-count">(\d+)</span>', page)
    assert related is not None and related.group(1) == "3"


# -- computed fields -------------------------------------------------------------------------------
def test_computed_fields_of_hidden_values_are_hidden_too(
    paths: Paths, app: Flask, token_for: Any
) -> None:
    """Lookups of the account's hidden revenue and secret, a formula of the hidden amount and a
    rollup of hidden amounts are hidden like their sources: absent and unusable."""
    rep = rep_api(paths, app, token_for)
    mine = paths.leads["L1"]
    got = rep.get(f"/lead/{mine}").get_json()
    for key in ("amount", "account_revenue", "account_secret", "doubled"):
        assert key not in got, key
    assert got["account_name"] == "Acme West"  # a lookup of a visible field: the builder's choice
    text = body(rep.get(f"/lead/{mine}?fields=name,account_revenue,account_secret,doubled"))
    assert str(REVENUE + 1) not in text and SECRET not in text and str(2 * AMOUNT) not in text
    for query in ("?sort=account_revenue", "?sort=-doubled",
                  "?filter=account_revenue%20%3E%201", "?filter=doubled%20%3E%201",
                  "?filter=" + json.dumps({"field": "account_secret", "op": "contains",
                                           "value": "quix"})):  # fmt: skip
        refused = rep.get("/lead" + query)
        assert refused.status_code == 400, (query, body(refused))
    assert rep.get("/lead?search=quixotic").get_json()["records"] == []
    east = rep.get(f"/account/{paths.accounts['east']}").get_json()
    assert "lead_amounts" not in east and "revenue" not in east


def test_filters_through_a_link_read_only_records_in_scope(
    paths: Paths, app: Flask, token_for: Any
) -> None:
    """The rep's lead L1 points at West's account, which the rep may not read: a filter through
    the link must not tell what that account is called or holds."""
    rep = rep_api(paths, app, token_for)
    mine = paths.leads["L1"]
    assert ids(rep.get('/lead?filter=account.name%20%3D%20"Acme West"')) == set()
    assert ids(rep.get("/lead?filter=ISBLANK(account.name)")) == {mine}
    assert ids(rep.get('/lead?filter=account.name%20%3D%20"Beta East"')) == set()
    refused = rep.get("/lead?filter=account.revenue%20%3E%201")
    assert refused.status_code == 400 and str(REVENUE) not in body(refused)
    # the manager may read the account: the same filter finds every lead on it
    manager = rep_api(paths, app, token_for, "manager")
    assert ids(manager.get('/lead?filter=account.name%20%3D%20"Acme West"')) == set(
        paths.leads.values()
    )


# -- expanded links and history ----------------------------------------------------------------
def test_expanded_links_leave_out_records_and_fields_out_of_reach(
    paths: Paths, app: Flask, token_for: Any
) -> None:
    rep = rep_api(paths, app, token_for)
    out_of_scope = rep.get(f"/lead/{paths.leads['L1']}?expand=account").get_json()
    assert out_of_scope["account"] == {"id": paths.accounts["west"]}
    rep2 = rep_api(paths, app, token_for, "rep2")
    listed = rep2.get("/lead?expand=account").get_json()["records"]
    assert {r["account"]["name"] for r in listed} == {"Acme West"}
    for r in listed:
        assert "revenue" not in r["account"] and "secret" not in r["account"]
    assert str(REVENUE) not in body(rep2.get("/lead?expand=account"))


def test_history_leaves_out_hidden_and_computed_from_hidden_fields(
    paths: Paths, app: Flask, token_for: Any, web: Web
) -> None:
    rep = rep_api(paths, app, token_for)
    entries = rep.get(f"/lead/{paths.leads['L1']}/history").get_json()["entries"]
    changed = {c["field"] for e in entries for c in e["changes"]}
    assert "name" in changed
    assert not changed & {"amount", "doubled", "account_revenue", "account_secret"}
    text = json.dumps(entries)
    assert str(AMOUNT) not in text and str(2 * AMOUNT) not in text and SECRET not in text
    rep2 = rep_api(paths, app, token_for, "rep2")
    account = rep2.get(f"/account/{paths.accounts['west']}/history")
    assert account.status_code == 200
    assert str(REVENUE) not in body(account) and SECRET not in body(account)
    web.sign_in(paths.world.users["rep"].email)
    page = body(web.client.get(f"/apps/paths/lead/{paths.leads['L1']}"))
    assert "876,543" not in page and "876543" not in page and SECRET not in page
    assert "L1 renamed" in page


def test_search_terms_held_only_by_hidden_fields_find_nothing(
    paths: Paths, app: Flask, token_for: Any, web: Web
) -> None:
    rep2 = rep_api(paths, app, token_for, "rep2")
    assert rep2.get("/account?search=quixotic").get_json()["records"] == []
    assert rep2.get("/lead?search=quixotic").get_json()["records"] == []
    assert ids(rep2.get("/account?search=Acme")) == {paths.accounts["west"]}
    web.sign_in(paths.world.users["rep2"].email)
    for path in ("/apps/paths/account/?q=quixotic", "/apps/paths/lead/?q=quixotic",
                 "/apps/paths/account/_/search?q=quixotic"):  # fmt: skip
        answer = web.client.get(path)
        assert SECRET not in body(answer) and "Acme West" not in body(answer), path
