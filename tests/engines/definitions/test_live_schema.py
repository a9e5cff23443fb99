"""Publishing versions against a live database: plan, apply, convert, drop, roll back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import (
    DestructiveChangeRefused,
    PlatformTables,
    apply,
    compile_app,
    plan,
    purge,
    schema_transaction,
)

from .factories import Doc, app_doc, publish, tweak

V1: Doc = app_doc(
    "crm",
    "CRM",
    {
        "key": "account",
        "title": "name",
        "fields": [{"key": "name", "type": "text", "required": True}],
    },
    {
        "key": "deal",
        "title": "name",
        "fields": [
            {"key": "name", "type": "text", "max_length": 50},
            {"key": "account", "type": "link", "entity": "account"},
            {"key": "qty", "type": "integer"},
            {"key": "stage", "type": "select", "options": ["new", "won"]},
            {"key": "memo", "type": "text"},
            {"key": "tags", "type": "multi_link", "entity": "account"},
        ],
    },
)


def v2_change(doc: Doc) -> None:
    deal = doc["entities"][1]
    fields = {f["key"]: f for f in deal["fields"]}
    deal["label"] = {"en": "Deal", "zh-CN": "商机"}
    fields["qty"]["type"] = "decimal"
    fields["stage"]["type"] = "multi_select"
    fields["stage"]["options"] = ["new", "won", "lost"]
    fields["memo"]["type"] = "long_text"
    deal["fields"].append({"key": "due", "type": "date", "index": True})


def v3_change(doc: Doc) -> None:
    doc["entities"][1]["fields"] = [f for f in doc["entities"][1]["fields"] if f["key"] != "memo"]


def rows(engine: sa.Engine, table: str = "x_crm__deal") -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).mappings().all()
    return [dict(r) for r in result]


def test_publish_convert_drop_roll_back_and_forward(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    v1 = compile_app(V1)
    v2 = compile_app(tweak(V1, v2_change))
    v3 = compile_app(tweak(tweak(V1, v2_change), v3_change))

    words = publish(engine, None, v1, platform, "v1")
    assert any("Create the table for the entity “Account”" in w for w in words)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO x_crm__account (name) VALUES ('Acme'), ('Globex')"))
        conn.execute(
            sa.text(
                "INSERT INTO x_crm__deal (name, account, qty, stage, memo) VALUES "
                "('big', 1, 5, 'won', 'call back'), ('small', 2, 7, 'new', NULL)"
            )
        )
        conn.execute(sa.text("INSERT INTO x_crm__deal__tags (source_id, target_id) VALUES (1, 2)"))

    words = publish(engine, v1, v2, platform, "v2")
    assert any(
        w.startswith("Convert the field “Qty”") and "every value is kept" in w for w in words
    )
    assert any("Add the date field" not in w and "Add the field “Due”" in w for w in words)
    assert any("Rename the entity" in w and "no table change" in w for w in words)
    assert not any(w.startswith("⚠") for w in words)
    got = rows(engine)
    assert len(got) == 2
    assert [Decimal(str(r["qty"])) for r in got] == [Decimal("5.00"), Decimal("7.00")]
    stages = [
        r["stage"] if isinstance(r["stage"], list) else __import__("json").loads(r["stage"])
        for r in got
    ]
    assert stages == [["won"], ["new"]]
    assert [r["memo"] for r in got] == ["call back", None]
    assert len(rows(engine, "x_crm__deal__tags")) == 1

    with schema_transaction(engine) as conn:
        refused = plan(conn, v2, v3, platform, tag="v3")
        assert refused.destructive
        with pytest.raises(DestructiveChangeRefused, match="memo"):
            apply(conn, refused)
    assert [r["memo"] for r in rows(engine)] == ["call back", None], (
        "a refused plan changes nothing"
    )

    words = publish(engine, v2, v3, platform, "v3", confirm=True)
    assert any("_trash_memo_v3" in w for w in words)
    got = rows(engine)
    assert "memo" not in got[0] and got[0]["_trash_memo_v3"] == "call back" and len(got) == 2

    words = publish(engine, v3, v1, platform, "v4", confirm=True)  # roll back to version 1
    assert any(w.startswith("Restore the field “Memo”") for w in words)
    got = rows(engine)
    assert [(r["name"], r["qty"], r["stage"], r["memo"]) for r in got] == [
        ("big", 5, "won", "call back"),
        ("small", 7, "new", None),
    ]

    publish(engine, v1, v3, platform, "v5", confirm=True)  # roll forward again
    got = rows(engine)
    assert len(got) == 2 and [Decimal(str(r["qty"])) for r in got] == [
        Decimal("5.00"),
        Decimal("7.00"),
    ]
    assert "memo" not in got[0]

    with schema_transaction(engine) as conn:
        removed = purge(conn, "crm")
    assert "x_crm__deal._trash_memo_v5" in removed
    assert not [c for c in rows(engine)[0] if c.startswith("_trash_")]
    assert len(rows(engine)) == 2


def test_a_failed_publish_leaves_the_old_table_intact(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    v1, v2 = compile_app(V1), compile_app(tweak(V1, v2_change))
    publish(engine, None, v1, platform, "v1")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO x_crm__deal (name, qty) VALUES ('kept', 3)"))
    before = {c["name"] for c in sa.inspect(engine).get_columns("x_crm__deal")}
    with pytest.raises(RuntimeError, match="boom"), schema_transaction(engine) as conn:
        apply(conn, plan(conn, v1, v2, platform, tag="v2"))
        raise RuntimeError("boom")
    assert {c["name"] for c in sa.inspect(engine).get_columns("x_crm__deal")} == before
    assert [(r["name"], r["qty"]) for r in rows(engine)] == [("kept", 3)]


def test_dropping_an_entity_moves_its_table_aside(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    doc = tweak(
        V1,
        lambda d: d["entities"].append(
            {"key": "note", "fields": [{"key": "body", "type": "text"}]}
        ),
    )
    with_note, without = compile_app(doc), compile_app(V1)
    publish(engine, None, with_note, platform, "v1")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO x_crm__note (body) VALUES ('keep me')"))
    with schema_transaction(engine) as conn:
        schema_plan = plan(conn, with_note, without, platform, tag="v2")
        assert [s.kind for s in schema_plan.steps if s.destructive] == ["trash_table"]
        apply(conn, schema_plan, confirm_destructive=True)
    assert rows(engine, "xt_v2_crm__note")[0]["body"] == "keep me"
    assert "x_crm__note" not in sa.inspect(engine).get_table_names()


def test_apply_needs_schema_transaction_only_on_sqlite(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    with engine.begin() as conn:
        schema_plan = plan(conn, None, compile_app(V1), platform)
        if engine.dialect.name == "sqlite":
            with pytest.raises(RuntimeError, match="schema_transaction"):
                apply(conn, schema_plan)
            return
        apply(conn, schema_plan)  # PostgreSQL: DDL is transactional, any transaction will do
    assert set(schema_plan.metadata.tables) <= set(sa.inspect(engine).get_table_names())
