"""The diff and the schema plan say what they do as phrases: their English (``str()``, what the
CLI and the logs read) is what it always was, and the names in them know their other
languages, so the builder can show a plan and a history in Chinese."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import (
    DestructiveChangeRefused,
    PlanError,
    PlatformTables,
    apply,
    compile_app,
    diff,
    key_change_phrases,
    key_changes,
    key_changes_said,
    plan,
    schema_transaction,
)
from tessera.engines.messages import Localised, Phrase, Term, from_json, render, to_json

from .factories import Doc, app_doc, publish, tweak

OLD: Doc = app_doc(
    "crm",
    {"en": "CRM", "zh-CN": "客户关系"},
    {
        "key": "account",
        "label": {"en": "Account", "zh-CN": "客户"},
        "title": "name",
        "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh-CN": "名称"}}],
    },
    {
        "key": "deal",
        "label": {"en": "Deal", "zh-CN": "商机"},
        "title": "name",
        "fields": [
            {"key": "name", "type": "text", "max_length": 50},
            {"key": "qty", "type": "integer", "label": {"en": "Quantity", "zh-CN": "数量"}},
            {"key": "memo", "type": "text", "label": {"en": "Memo", "zh-CN": "备注"}},
            {"key": "stage", "type": "select", "options": ["new", "won"]},
        ],
    },
)


def _change(doc: Doc) -> None:
    deal = doc["entities"][1]
    fields = {f["key"]: f for f in deal["fields"]}
    fields["qty"]["type"] = "decimal"
    fields["stage"]["options"].append("lost")
    fields["stage"]["type"] = "multi_select"
    deal["fields"].remove(fields["memo"])
    deal["fields"].append({"key": "due", "type": "date", "label": {"en": "Due", "zh-CN": "到期日"}})
    deal["fields"].append({"key": "notes", "type": "long_text"})
    deal["views"] = [
        {
            "key": "board",
            "type": "list",
            "columns": ["name"],
            "label": {"en": "Board", "zh-CN": "看板"},
        }
    ]
    doc["label"] = {"en": "Sales", "zh-CN": "销售"}


NEW = tweak(OLD, _change)

#: the English the diff and the plan wrote before they kept phrases (pinned from that release)
CHANGES_IN_ENGLISH = [
    "Rename the app from “CRM” to “Sales”",
    "Change the field “Quantity” of “Deal” from integer to decimal",
    "Change the field “Stage” of “Deal” from select to multi_select",
    "Add the option(s) lost to “Stage” of “Deal”",
    "Add the date field “Due” (due) to “Deal”",
    "Add the long text field “Notes” (notes) to “Deal”",
    "Remove the field “Memo” (memo) from “Deal” and its values",
    "Add the list view “Board” to “Deal”",
]
PLAN_IN_ENGLISH = [
    "Rename the app from “CRM” to “Sales” (no table change)",
    "Add the option(s) lost to “Stage” of “Deal” (no table change)",
    "Add the list view “Board” to “Deal” (no table change)",
    "Add the field “Due” of “Deal”",
    "Add the field “Notes” of “Deal”",
    "Convert the field “Quantity” of “Deal” from integer to decimal; every value is kept "
    "(old column kept as _trash_qty_v2)",
    "Convert the field “Stage” of “Deal” from select to multi_select; every value is kept "
    "(old column kept as _trash_stage_v2)",
    "⚠ Drop the field “Memo” of “Deal”: its values are kept in the column _trash_memo_v2 "
    "until purged",
]


def _names(value: object) -> list[Localised]:
    """Every label among a phrase's params, however deep."""
    if isinstance(value, Localised):
        return [value]
    if isinstance(value, Phrase):
        return [n for v in value.params.values() for n in _names(v)]
    return []


def test_changes_carry_phrases_whose_english_is_unchanged() -> None:
    changes = diff(OLD, NEW)
    assert [c.text for c in changes] == CHANGES_IN_ENGLISH
    for change in changes:
        assert str(change) == change.text == render(change.phrase.template, change.phrase.params)
        assert change.phrase.template != change.text  # a template, not the sentence
    added = next(c for c in changes if c.kind == "add_field")
    assert added.phrase.template == "Add the %(type)s field “%(field)s” (%(key)s) to “%(entity)s”"
    assert added.phrase.params["type"] == Term("Date", "date")
    field, entity = added.phrase.params["field"], added.phrase.params["entity"]
    assert (field, field.pick("zh-CN")) == ("Due", "到期日")
    assert (entity, entity.pick("zh-CN")) == ("Deal", "商机")
    renamed = changes[0].phrase.params
    assert (renamed["old"].pick("zh-CN"), renamed["new"].pick("zh-CN")) == ("客户关系", "销售")


def test_a_changed_type_is_its_key_in_english_and_its_palette_name_to_translate() -> None:
    (stage,) = [c for c in diff(OLD, NEW) if c.kind == "change_type" and "Stage" in c.text]
    new = stage.phrase.params["new"]
    assert isinstance(new, Term)
    assert (str(new), new.template) == ("multi_select", "Multiple choice")
    notes = next(c for c in diff(OLD, NEW) if "Notes" in c.text)
    notes_type = notes.phrase.params["type"]
    assert (str(notes_type), notes_type.template) == ("long text", "Long text")  # str() as ever


def test_an_unlabelled_field_is_its_key_as_words_in_every_language() -> None:
    (notes,) = [c for c in diff(OLD, NEW) if c.kind == "add_field" and "notes" in c.text]
    field = notes.phrase.params["field"]
    assert (field, field.pick("zh-CN")) == ("Notes", "Notes")


def test_key_changes_are_phrases_too() -> None:
    renamed = tweak(OLD, lambda d: d["entities"][1]["fields"][1].update(key="amount"))
    (phrase,) = key_change_phrases(OLD, renamed)
    (english,) = key_changes(OLD, renamed)
    assert str(phrase) == english
    assert phrase.params == {"old": "qty", "entity": "deal", "new": "amount"}
    both = tweak(renamed, lambda d: d["entities"][0].update(key="client"))
    said = key_changes_said(OLD, both)
    assert str(said) == "; ".join(key_changes(OLD, both))
    assert key_changes_said(OLD, OLD) is None


def test_plan_steps_carry_phrases_whose_english_is_unchanged(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    publish(engine, None, compile_app(OLD), platform, "v1")
    with schema_transaction(engine) as conn:
        schema_plan = plan(conn, compile_app(OLD), compile_app(NEW), platform, tag="v2")
    assert schema_plan.describe() == PLAN_IN_ENGLISH
    for step in schema_plan.steps:
        assert step.description == str(step.phrase)
        assert step.phrase.template != step.description
    names = {n.pick("zh-CN") for step in schema_plan.steps for n in _names(step.phrase)}
    assert {"销售", "商机", "数量", "到期日", "备注"} <= names
    convert = next(s for s in schema_plan.steps if s.kind == "convert" and "Stage" in s.description)
    assert convert.phrase.params["new"] == Term("Multiple choice", "multi_select")


def test_a_new_table_names_its_entity_in_every_language(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    with schema_transaction(engine) as conn:
        schema_plan = plan(conn, None, compile_app(OLD), platform, tag="v1")
    create = next(s for s in schema_plan.steps if s.table == "x_crm__account")
    assert create.description == "Create the table for the entity “Account” (x_crm__account)"
    what = create.phrase.params["what"]
    assert what.template == "entity “%(entity)s” (%(table)s)"
    assert what.params["entity"].pick("zh-CN") == "客户"


def test_refusals_of_the_plan_carry_templates(engine: sa.Engine, platform: PlatformTables) -> None:
    publish(engine, None, compile_app(OLD), platform, "v1")
    other = compile_app(tweak(OLD, lambda d: d.update(key="other")))
    with engine.connect() as conn, pytest.raises(PlanError) as caught:
        plan(conn, compile_app(OLD), other, platform)
    assert str(caught.value) == "the app key cannot change (from “crm” to “other”)"
    assert caught.value.params == {"old": "crm", "new": "other"}

    with schema_transaction(engine) as conn:
        risky = plan(conn, compile_app(OLD), compile_app(NEW), platform, tag="v2")
        with pytest.raises(DestructiveChangeRefused) as refused:
            apply(conn, risky)
    error = refused.value
    assert str(error) == (
        "these changes can lose data and need confirmation:\n  - Drop the field “Memo” of "
        "“Deal”: its values are kept in the column _trash_memo_v2 until purged"
    )
    assert render(error.template, error.params) == (
        "these changes can lose data and need confirmation: Drop the field “Memo” of “Deal”: "
        "its values are kept in the column _trash_memo_v2 until purged"
    )


def test_a_step_can_be_stored_and_read_back_in_any_language(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    publish(engine, None, compile_app(OLD), platform, "v1")
    with schema_transaction(engine) as conn:
        steps = plan(conn, compile_app(OLD), compile_app(NEW), platform, tag="v2").steps
    for step in steps:
        back = from_json(json.loads(json.dumps(to_json(step.phrase))))
        assert back == step.phrase and str(back) == step.description
        assert [n.pick("zh-CN") for n in _names(back)] == [
            n.pick("zh-CN") for n in _names(step.phrase)
        ]
