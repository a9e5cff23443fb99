"""The CRM template: pure data, valid, bilingual, with the pages a sales and service team needs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera.engines.definitions import compile_app, validate
from tessera.platform import apps

TEMPLATE = Path(apps.template_path("crm") or "missing")
DOC: dict[str, Any] = json.loads(TEMPLATE.read_text("utf-8"))
ENTITIES = {e["key"]: e for e in DOC["entities"]}


def test_the_template_is_found_and_valid() -> None:
    assert TEMPLATE.is_file()
    errors = validate(DOC)
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)
    compile_app(DOC)


def test_the_template_folder_holds_no_python() -> None:
    assert not [p for p in TEMPLATE.parent.rglob("*") if p.suffix in (".py", ".pyc", ".pyx")]


def _labels(node: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("label", "plural_label", "message", "description"):
                yield f"{path}.{key}", value
            yield from _labels(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _labels(value, f"{path}[{i}]")


def test_every_label_is_in_english_and_chinese() -> None:
    missing = [
        path
        for path, label in _labels(DOC)
        if not (isinstance(label, dict) and label.get("en") and label.get("zh-CN"))
    ]
    assert missing == []
    for entity in DOC["entities"]:
        for f in entity["fields"]:
            assert "label" in f, f"{entity['key']}.{f['key']} has no label"
            for option in f.get("options", ()):
                assert isinstance(option, dict) and "label" in option, (entity["key"], f["key"])


@pytest.mark.parametrize(
    "entity",
    ["lead", "account", "contact", "opportunity", "activity", "product", "price_book", "quote",
     "contract", "order", "payment", "ticket", "task"],
)  # fmt: skip
def test_every_entity_has_a_layout_and_a_list(entity: str) -> None:
    spec = ENTITIES[entity]
    assert spec["form"]["sections"], entity
    assert any(v["type"] == "list" for v in spec.get("views", ())), entity


def view(entity: str, key: str) -> dict[str, Any]:
    return next(v for v in ENTITIES[entity]["views"] if v["key"] == key)


def test_role_views_kanbans_and_calendar() -> None:
    assert view("lead", "my_leads")["where"] == "owner = CURRENT_USER()"
    assert {"field": "in_public_pool", "op": "eq", "value": True} in view("lead", "public_pool")[
        "filters"
    ]
    my_open = view("opportunity", "my_open")
    assert my_open["where"] == "owner = CURRENT_USER()"
    assert {"field": "stage", "op": "not_in", "value": ["won", "lost"]} in my_open["filters"]
    assert view("ticket", "by_priority")["sort"][0]["field"] == "priority_rank"
    assert view("opportunity", "pipeline")["group_by"] == "stage"
    assert view("ticket", "board")["group_by"] == "status"
    calendar = view("activity", "calendar")
    assert (calendar["type"], calendar["date_field"]) == ("calendar", "start_at")


def test_the_account_page_is_a_360_degree_view() -> None:
    related = [r for s in ENTITIES["account"]["form"]["sections"] for r in s.get("related", ())]
    shown = {r["entity"] for r in related}
    assert {"contact", "opportunity", "quote", "contract", "order", "ticket", "activity"} <= shown
    timeline = next(r for r in related if r["entity"] == "activity")
    assert timeline["display"] == "timeline" and timeline["link"] == "account"


def fields(entity: str) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in ENTITIES[entity]["fields"]}


def test_quote_lines_compute_subtotals_and_quotes_roll_them_up() -> None:
    item = fields("quote_item")
    assert ENTITIES["quote_item"]["child"] is True
    assert item["subtotal"]["type"] == "formula"
    assert "quantity * unit_price" in item["subtotal"]["formula"]
    quote = fields("quote")
    assert quote["number"]["pattern"] == "QT-{YYYY}-{0000}"
    assert quote["items"] == {**quote["items"], "type": "child_table", "entity": "quote_item"}
    assert (quote["total"]["type"], quote["total"]["source"], quote["total"]["field"]) == (
        "rollup",
        "items",
        "subtotal",
    )
    assert fields("contract")["number"]["pattern"].startswith("HT-")
    assert fields("order")["number"]["pattern"].startswith("SO-")
    assert fields("ticket")["number"]["pattern"].startswith("TK-")


def test_currency_is_cny_and_stages_carry_probabilities() -> None:
    for entity in DOC["entities"]:
        for f in entity["fields"]:
            if f["type"] == "currency":
                assert f["currency"] == "CNY", (entity["key"], f["key"])
    opp = fields("opportunity")
    assert opp["weighted_amount"]["formula"] == "amount * probability / 100"
    for stage in ("qualification", "needs_analysis", "proposal", "negotiation", "won"):
        assert f'"{stage}"' in opp["probability"]["formula"]
    lost = [
        p
        for s in ENTITIES["opportunity"]["form"]["sections"]
        for p in s.get("fields", ())
        if isinstance(p, dict) and p["field"] == "lost_reason"
    ]
    assert lost == [{"field": "lost_reason", "visible_if": 'stage = "lost"'}]


def test_activities_must_be_linked_to_something() -> None:
    rule = next(v for v in ENTITIES["activity"]["validations"] if v["key"] == "linked_somewhere")
    for link in ("lead", "account", "contact", "opportunity"):
        assert f"ISBLANK({link})" in rule["error_if"]
        assert fields("activity")[link]["type"] == "link"
        assert not fields("activity")[link].get("required")
