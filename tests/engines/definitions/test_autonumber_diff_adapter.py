"""Auto-number patterns and counters, the diff in words, and the expression-schema adapter."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from tessera.engines.definitions import (
    PlatformTables,
    apply,
    compile_app,
    diff,
    format_number,
    key_changes,
    next_number,
    period_key,
    plan,
    schema_transaction,
)
from tessera.engines.definitions.autonumber import pattern_problem
from tessera.engines.definitions.expression_schema import to_expr_schema
from tessera.engines.expressions.schema import Relation, ValueType

from .factories import tweak, with_fields

SALES = json.loads((Path(__file__).parent / "fixtures" / "v1" / "sales.json").read_text("utf-8"))
DAY = dt.date(2024, 3, 5)


def test_patterns() -> None:
    assert format_number("QT-{YYYY}-{0000}", 7, DAY) == "QT-2024-0007"
    assert format_number("{YY}{MM}{DD}-{00}", 123, DAY) == "240305-123"
    assert period_key("QT-{YYYY}-{0000}", DAY) == "2024"
    assert period_key("{YYYY}{MM}-{000}", DAY) == "2024-03"
    assert period_key("N{0000}", DAY) == ""
    assert pattern_problem("QT-{0000}") is None
    assert pattern_problem("QT-{YYYY}") is not None


def test_next_number_counts_per_period(engine: sa.Engine, platform: PlatformTables) -> None:
    app = compile_app(
        with_fields({"key": "no", "type": "auto_number", "pattern": "QT-{YYYY}-{0000}"})
    )
    with schema_transaction(engine) as conn:
        schema_plan = plan(conn, None, app, platform)
        apply(conn, schema_plan)
    counters = schema_plan.metadata.tables["x_demo___counters"]
    drawn = []
    for day in (DAY, DAY, dt.date(2025, 1, 1), DAY):
        with engine.begin() as conn:
            drawn.append(next_number(conn, counters, "item", "no", "QT-{YYYY}-{0000}", day))
    assert drawn == ["QT-2024-0001", "QT-2024-0002", "QT-2025-0001", "QT-2024-0003"]


def test_diff_in_words() -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        deal = d["entities"][1]
        deal["fields"][5]["options"].append("paused")
        deal["fields"][1]["label"] = "Title"
        deal["fields"].pop(12)
        deal["fields"].append({"key": "source", "type": "text"})

    words = [c.text for c in diff(SALES, tweak(SALES, change))]
    # fields without a label are named by their key read as words
    assert "Add the option(s) paused to “Stage” of “Deal”" in words
    assert "Rename the field “Name” of “Deal” to “Title”" in words
    assert "Add the text field “Source” (source) to “Deal”" in words
    assert "Remove the field “Notes” (notes) from “Deal” and its values" in words
    assert diff(SALES, SALES) == []


def test_key_changes_are_explained() -> None:
    renamed = tweak(SALES, lambda d: d["entities"][1]["fields"][1].update(key="title"))
    (message,) = key_changes(SALES, renamed)
    assert "“name”" in message and "cannot change after publishing" in message


def test_expression_schema_adapter() -> None:
    schema = to_expr_schema(compile_app(SALES))
    deal = schema.entity("deal")
    assert deal.table == "x_sales__deal"
    assert deal.fields["amount"].value_type is ValueType.CURRENCY
    assert (
        deal.fields["account"].relation is Relation.LINK
        and deal.fields["account"].target == "account"
    )
    assert (
        deal.fields["lines"].relation is Relation.CHILDREN
        and deal.fields["lines"].remote_column == "parent_id"
    )
    assert deal.fields["owner"].column == "owner_id" and deal.fields["owner"].target == "user"
    assert deal.fields["stage"].options == ("qualify", "proposal", "won", "lost")
    assert deal.fields["weighted"].value_type is ValueType.CURRENCY
    assert deal.fields["industry"].value_type is ValueType.SELECT
    assert schema.entity("deal_line").fields["parent"].target == "deal"
    assert schema.entity("account").fields["deal__account"].relation is Relation.REVERSE
    assert {"user", "department"} <= set(schema.entities)
