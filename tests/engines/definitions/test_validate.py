"""Schema and semantic validation: 40+ broken definitions, each with the exact error path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tessera.engines.definitions import InvalidDefinition, compile_app, validate
from tessera.engines.messages import Listing, Localised, Phrase

from .factories import Doc, tweak

SALES = json.loads((Path(__file__).parent / "fixtures" / "v1" / "sales.json").read_text("utf-8"))
ACCOUNT, DEAL, LINE = 0, 1, 2


def fields(doc: Doc, entity: int) -> list[Doc]:
    result: list[Doc] = doc["entities"][entity]["fields"]
    return result


def deal_field(key: str) -> Callable[[Doc], Doc]:
    return lambda d: next(f for f in fields(d, DEAL) if f["key"] == key)


def idx(key: str, entity: int = DEAL) -> int:
    return next(i for i, f in enumerate(fields(SALES, entity)) if f["key"] == key)


def add(entity: int, field: Doc) -> Callable[[Doc], Any]:
    return lambda d: fields(d, entity).append(field)


N_DEAL, N_ACC = len(fields(SALES, DEAL)), len(fields(SALES, ACCOUNT))
F = ("entities", DEAL, "fields")

# (id, change to the valid sales app, expected path of the first error, expected code)
CASES: list[tuple[str, Callable[[Doc], Any], str, str]] = [
    ("missing key", lambda d: d.pop("key"), "$", "required"),
    ("app key uppercase", lambda d: d.update(key="Sales"), "$.key", "bad_key"),
    ("app key too long", lambda d: d.update(key="a" * 17), "$.key", "too_long"),
    ("app key double underscore", lambda d: d.update(key="sa__les"), "$.key", "bad_key"),
    ("unknown top-level setting", lambda d: d.update(colour="red"), "$.colour", "unknown_setting"),
    ("empty label", lambda d: d.update(label=""), "$.label", "empty"),
    ("label bad locale", lambda d: d.update(label={"English": "Sales"}), "$.label", "wrong_type"),
    ("no entities", lambda d: d.update(entities=[]), "$.entities", "too_few"),
    (
        "entity without fields",
        lambda d: d["entities"][0].update(fields=[]),
        "$.entities[0].fields",
        "too_few",
    ),
    (
        "entity key with dash",
        lambda d: d["entities"][0].update(key="my-acc"),
        "$.entities[0].key",
        "bad_key",
    ),
    (
        "field type unknown",
        lambda d: fields(d, 0)[0].update(type="string"),
        "$.entities[0].fields[0].type",
        "not_allowed",
    ),
    (
        "field key missing",
        lambda d: fields(d, 0)[0].pop("key"),
        "$.entities[0].fields[0]",
        "required",
    ),
    (
        "select without options",
        lambda d: fields(d, 0)[1].pop("options"),
        "$.entities[0].fields[1]",
        "required",
    ),
    (
        "empty options",
        lambda d: fields(d, 0)[1].update(options=[]),
        "$.entities[0].fields[1].options",
        "too_few",
    ),
    (
        "option colour malformed",
        lambda d: fields(d, 0)[1]["options"][1].update(color="red"),
        "$.entities[0].fields[1].options[1].color",
        "pattern",
    ),
    (
        "setting of another type",
        lambda d: fields(d, 0)[0].update(options=["a"]),
        "$.entities[0].fields[0].options",
        "unknown_setting",
    ),
    (
        "precision too high",
        lambda d: deal_field("amount")(d).update(precision=60),
        f"$.entities[1].fields[{idx('amount')}].precision",
        "range",
    ),
    (
        "currency code lowercase",
        lambda d: deal_field("amount")(d).update(currency="cny"),
        f"$.entities[1].fields[{idx('amount')}].currency",
        "pattern",
    ),
    (
        "required not boolean",
        lambda d: fields(d, 0)[0].update(required="yes"),
        "$.entities[0].fields[0].required",
        "wrong_type",
    ),
    (
        "link without entity",
        lambda d: deal_field("account")(d).pop("entity"),
        f"$.entities[1].fields[{idx('account')}]",
        "required",
    ),
    (
        "kanban without group",
        lambda d: d["entities"][1]["views"][0].pop("group_by"),
        "$.entities[1].views[0]",
        "required",
    ),
    (
        "view type unknown",
        lambda d: d["entities"][1]["views"][0].update(type="gantt"),
        "$.entities[1].views[0].type",
        "not_allowed",
    ),
    (
        "section columns 9",
        lambda d: d["entities"][1]["form"]["sections"][0].update(columns=9),
        "$.entities[1].form.sections[0].columns",
        "range",
    ),
    (
        "rollup aggregate unknown",
        lambda d: fields(d, 0)[5].update(aggregate="median"),
        "$.entities[0].fields[5].aggregate",
        "not_allowed",
    ),
    (
        "slot item without key",
        lambda d: d["roles"].append({"label": "x"}),
        "$.roles[1]",
        "required",
    ),
    # semantic rules
    (
        "duplicate entity key",
        lambda d: d["entities"].append(
            {"key": "account", "fields": [{"key": "a", "type": "text"}]}
        ),
        "$.entities[3].key",
        "duplicate_key",
    ),
    (
        "duplicate field key",
        add(ACCOUNT, {"key": "name", "type": "text"}),
        f"$.entities[0].fields[{N_ACC}].key",
        "duplicate_key",
    ),
    (
        "reserved field key",
        add(ACCOUNT, {"key": "created_at", "type": "date"}),
        f"$.entities[0].fields[{N_ACC}].key",
        "reserved_key",
    ),
    (
        "location column clash",
        add(ACCOUNT, {"key": "hq_lat", "type": "decimal"}),
        f"$.entities[0].fields[{N_ACC}].key",
        "column_clash",
    ),
    (
        "title unknown",
        lambda d: d["entities"][0].update(title="nom"),
        "$.entities[0].title",
        "unknown_field",
    ),
    (
        "title is a child table",
        lambda d: d["entities"][1].update(title="lines"),
        "$.entities[1].title",
        "bad_title",
    ),
    (
        "link to missing entity",
        lambda d: deal_field("account")(d).update(entity="company"),
        f"$.entities[1].fields[{idx('account')}].entity",
        "unknown_entity",
    ),
    (
        "link to a child entity",
        add(ACCOUNT, {"key": "line", "type": "link", "entity": "deal_line"}),
        f"$.entities[0].fields[{N_ACC}].entity",
        "link_to_child",
    ),
    (
        "child table to normal entity",
        lambda d: deal_field("lines")(d).update(entity="account"),
        f"$.entities[1].fields[{idx('lines')}].entity",
        "not_child",
    ),
    (
        "orphan child entity",
        lambda d: d["entities"].append(
            {"key": "extra", "child": True, "fields": [{"key": "a", "type": "text"}]}
        ),
        "$.entities[3].child",
        "child_parents",
    ),
    (
        "duplicate option",
        lambda d: deal_field("stage")(d)["options"].append("won"),
        f"$.entities[1].fields[{idx('stage')}].options[4]",
        "duplicate_option",
    ),
    (
        "select default not an option",
        lambda d: deal_field("stage")(d).update(default="closed"),
        f"$.entities[1].fields[{idx('stage')}].default",
        "bad_default",
    ),
    (
        "integer default not a number",
        lambda d: fields(d, LINE)[1].update(default="many"),
        "$.entities[2].fields[1].default",
        "bad_default",
    ),
    (
        "scale above precision",
        lambda d: fields(d, LINE)[2].update(precision=4, scale=6),
        "$.entities[2].fields[2].scale",
        "scale_too_large",
    ),
    (
        "unique multi select",
        add(ACCOUNT, {"key": "tags", "type": "multi_select", "options": ["a"], "unique": True}),
        f"$.entities[0].fields[{N_ACC}].unique",
        "not_indexable",
    ),
    (
        "index on unknown field",
        lambda d: d["entities"][1]["indexes"].append({"fields": ["nope"]}),
        "$.entities[1].indexes[1].fields[0]",
        "unknown_field",
    ),
    (
        "duplicate index",
        lambda d: d["entities"][1]["indexes"].append({"fields": ["stage", "close_on"]}),
        "$.entities[1].indexes[1]",
        "duplicate_index",
    ),
    (
        "form shows unknown field",
        lambda d: d["entities"][1]["form"]["sections"][2]["fields"].append("budget"),
        "$.entities[1].form.sections[2].fields[3]",
        "unknown_field",
    ),
    (
        "form places a field twice",
        lambda d: d["entities"][1]["form"]["sections"][2]["fields"].append("name"),
        "$.entities[1].form.sections[2].fields[3]",
        "placed_twice",
    ),
    (
        "section on unknown tab",
        lambda d: d["entities"][1]["form"]["sections"][2].update(tab="extra"),
        "$.entities[1].form.sections[2].tab",
        "unknown_tab",
    ),
    (
        "condition uses unknown field",
        lambda d: d["entities"][1]["form"]["sections"][0]["fields"][4].update(
            visible_if="phase = 1"
        ),
        "$.entities[1].form.sections[0].fields[4].visible_if",
        "unknown_field",
    ),
    (
        "view column unknown",
        lambda d: d["entities"][0]["views"][0]["columns"].append("phone"),
        "$.entities[0].views[0].columns[2]",
        "unknown_field",
    ),
    (
        "kanban groups by text",
        lambda d: d["entities"][1]["views"][0].update(group_by="name"),
        "$.entities[1].views[0].group_by",
        "bad_group",
    ),
    (
        "calendar on a text field",
        lambda d: d["entities"][1]["views"][1].update(date_field="name"),
        "$.entities[1].views[1].date_field",
        "bad_date",
    ),
    (
        "filter operator for another type",
        lambda d: d["entities"][1]["views"][2]["filters"][0].update(op="starts_with"),
        "$.entities[1].views[2].filters[0].op",
        "bad_operator",
    ),
    (
        "duplicate view key",
        lambda d: d["entities"][1]["views"][1].update(key="board"),
        "$.entities[1].views[1].key",
        "duplicate_key",
    ),
    (
        "navigation to missing entity",
        lambda d: d["navigation"][0].update(entity="contact"),
        "$.navigation[0].entity",
        "unknown_entity",
    ),
    (
        "navigation to missing view",
        lambda d: d["navigation"][1]["items"][1].update(view="mine"),
        "$.navigation[1].items[1].view",
        "unknown_view",
    ),
    (
        "rollup over a non-link",
        lambda d: fields(d, 0)[5].update(source="deal.stage"),
        "$.entities[0].fields[5].source",
        "bad_source",
    ),
    (
        "rollup field missing",
        lambda d: fields(d, 0)[5].update(field="budget"),
        "$.entities[0].fields[5].field",
        "unknown_field",
    ),
    (
        "rollup sums text",
        lambda d: fields(d, 0)[5].update(field="name"),
        "$.entities[0].fields[5].field",
        "not_numeric",
    ),
    (
        "sum rollup without field",
        lambda d: fields(d, 0)[5].pop("field"),
        "$.entities[0].fields[5].field",
        "required",
    ),
    (
        "lookup through a non-link",
        lambda d: deal_field("industry")(d).update(link="stage"),
        f"$.entities[1].fields[{idx('industry')}].link",
        "bad_link",
    ),
    (
        "lookup of missing field",
        lambda d: deal_field("industry")(d).update(field="sector"),
        f"$.entities[1].fields[{idx('industry')}].field",
        "unknown_field",
    ),
    (
        "formula unknown field",
        lambda d: deal_field("weighted")(d).update(formula="amount * chance"),
        f"$.entities[1].fields[{idx('weighted')}].formula",
        "unknown_field",
    ),
    (
        "formula unknown linked field",
        lambda d: deal_field("weighted")(d).update(formula="account.budget * 2"),
        f"$.entities[1].fields[{idx('weighted')}].formula",
        "unknown_field",
    ),
    (
        "formula cycle",
        lambda d: fields(d, DEAL).extend(
            [
                {"key": "a", "type": "formula", "formula": "b + 1"},
                {"key": "b", "type": "formula", "formula": "a + 1"},
            ]
        ),
        f"$.entities[1].fields[{N_DEAL}]",
        "cycle",
    ),
    (
        "formula reads itself",
        lambda d: deal_field("weighted")(d).update(formula="weighted + 1"),
        f"$.entities[1].fields[{idx('weighted')}]",
        "cycle",
    ),
    (
        "cycle through a lookup and a rollup",
        lambda d: (
            fields(d, ACCOUNT).append(
                {
                    "key": "top",
                    "type": "rollup",
                    "source": "deal.account",
                    "field": "echo",
                    "aggregate": "max",
                }
            ),
            fields(d, DEAL).append(
                {"key": "echo", "type": "lookup", "link": "account", "field": "top"}
            ),
        ),
        f"$.entities[0].fields[{N_ACC}]",
        "cycle",
    ),
    (
        "auto number without counter",
        lambda d: deal_field("number")(d).update(pattern="DL-{YYYY}"),
        f"$.entities[1].fields[{idx('number')}].pattern",
        "bad_pattern",
    ),
    (
        "auto number unknown token",
        lambda d: deal_field("number")(d).update(pattern="DL-{Q}-{000}"),
        f"$.entities[1].fields[{idx('number')}].pattern",
        "bad_pattern",
    ),
    (
        "default on a formula",
        lambda d: deal_field("weighted")(d).update(default=1),
        f"$.entities[1].fields[{idx('weighted')}].default",
        "no_default",
    ),
    (
        "email default malformed",
        add(ACCOUNT, {"key": "mail", "type": "email", "default": "not-an-email"}),
        f"$.entities[0].fields[{N_ACC}].default",
        "bad_default",
    ),
    (
        "nested child table",
        lambda d: (
            fields(d, LINE).append({"key": "parts", "type": "child_table", "entity": "part"}),
            d["entities"].append(
                {"key": "part", "child": True, "fields": [{"key": "a", "type": "text"}]}
            ),
        ),
        "$.entities[2].child",
        "nested_child",
    ),
]


def test_the_base_fixture_is_valid() -> None:
    assert validate(SALES) == []


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("change", "path", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_definition_reports_exact_path(
    change: Callable[[Doc], Any], path: str, code: str
) -> None:
    errors = validate(tweak(SALES, change))
    assert errors, "expected an error"
    assert (errors[0].json_path, errors[0].code) == (path, code), [str(e) for e in errors]
    assert errors[0].message and not errors[0].message.startswith("'")
    for error in errors:  # every error can be told in the builder's language
        assert error.template, error
        assert str(Phrase(error.template, **error.params)) == error.message


def test_all_errors_are_reported_at_once_best_first() -> None:
    def break_three(d: Doc) -> None:
        d["entities"][0]["title"] = "nom"
        d["entities"][1]["views"][0]["columns"].append("budget")
        d["navigation"][0]["entity"] = "contact"

    errors = validate(tweak(SALES, break_three))
    assert [e.json_path for e in errors] == [
        "$.entities[0].title",
        "$.entities[1].views[0].columns[2]",
        "$.navigation[0].entity",
    ]
    schema_errors = validate(
        tweak(SALES, lambda d: (d.update(key="X"), fields(d, 0)[0].update(type="nope")))
    )
    assert {e.json_path for e in schema_errors} == {"$.key", "$.entities[0].fields[0].type"}


def test_messages_speak_to_business_users() -> None:
    error = validate(tweak(SALES, lambda d: deal_field("stage")(d).update(default="closed")))[0]
    assert (
        error.message == "the default is not valid: “closed” is not one of the options: "
        "Qualify, Proposal, Won, Lost"  # unlabelled options: their keys as words, as shown
    )
    assert error.path == ("entities", 1, "fields", idx("stage"), "default")


def test_errors_keep_their_words_apart_from_their_values() -> None:
    """The builder translates ``template`` and fills in ``params``; the English sentence is
    unchanged, and the quoted key stays a value (never translated)."""
    (error,) = validate(tweak(SALES, add(ACCOUNT, {"key": "created_at", "type": "date"})))
    assert error.message == "“created_at” is a system field; choose another key"
    assert error.template == "“%(key)s” is a system field; choose another key"
    assert error.params == {"key": "created_at"}
    assert error.code == "reserved_key"

    stage = validate(tweak(SALES, lambda d: deal_field("stage")(d).update(default="closed")))[0]
    assert stage.template == "the default is not valid: %(problem)s"
    assert stage.params == {  # the field's own refusal, still in words and values
        "problem": Phrase(
            "“%(value)s” is not one of the options: %(options)s",
            value="closed",
            options=Listing(
                Localised.of(None, words) for words in ("Qualify", "Proposal", "Won", "Lost")
            ),
        )
    }

    (kind,) = validate(tweak(SALES, lambda d: d.update(entities="none")))
    assert (kind.message, kind.template) == ("this must be a list", "this must be %(kind)s")
    assert kind.params == {"kind": Phrase("a list")}


def test_errors_name_field_types_as_people_call_them() -> None:
    """A message about a field type names it as the palette does ("Multiple links", not
    ``multi_link``), as a phrase of the type's own name, so the builder translates it."""
    (title,) = validate(tweak(SALES, lambda d: d["entities"][DEAL].update(title="lines")))
    assert title.message == "“lines” cannot be the title: its type is “Child table”"
    assert title.params == {"key": "lines", "type": Phrase("Child table")}

    tags = {"key": "tags", "type": "multi_select", "options": ["a"], "unique": True}
    (unique,) = validate(tweak(SALES, add(ACCOUNT, tags)))
    assert unique.message == "fields of type “Multiple choice” cannot be unique"
    assert unique.template == "fields of type “%(type)s” cannot be unique"
    assert unique.params == {"type": Phrase("Multiple choice")}

    setting = {"key": "others", "type": "multi_link", "entity": "account", "scale": 2}
    (unknown,) = validate(tweak(SALES, add(ACCOUNT, setting)))
    assert unknown.message == "“scale” is not a known setting for fields of type “Multiple links”"
    assert unknown.params == {"key": "scale", "type": Phrase("Multiple links")}


def test_compile_raises_with_every_error() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        compile_app(tweak(SALES, lambda d: d["entities"][0].update(title="nom")))
    assert caught.value.errors[0].json_path == "$.entities[0].title"
