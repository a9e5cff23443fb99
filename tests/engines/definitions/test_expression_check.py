"""The validator's last phase: expressions parse and type-check against the app itself."""

from typing import Any

import pytest

from tessera.engines.definitions import validate
from tests.engines.definitions.factories import minimal_doc

Doc = dict[str, Any]


def deal_app() -> Doc:
    doc = minimal_doc()
    doc["entities"][0]["fields"] += [
        {"key": "amount", "type": "currency", "label": {"en": "Amount", "zh-CN": "金额"}},
        {"key": "due", "type": "date"},
        {"key": "stage", "type": "select", "options": ["open", "won"]},
    ]
    return doc


def with_formula(source: str, result: str = "number") -> Doc:
    doc = deal_app()
    doc["entities"][0]["fields"].append(
        {"key": "calc", "type": "formula", "formula": source, "result": result}
    )
    return doc


def only_error(doc: Doc) -> tuple[str, str, str]:
    errors = validate(doc)
    assert len(errors) == 1, errors
    return errors[0].json_path, errors[0].code, errors[0].message


def test_well_typed_formulas_and_labels_pass() -> None:
    assert validate(with_formula("amount * 2", "currency")) == []
    assert validate(with_formula('IF([金额] > 100, "big", "small")', "text")) == []
    assert validate(with_formula('DATEDIFF(TODAY(), due, "day") > 30', "boolean")) == []


def test_type_error_points_at_the_character() -> None:
    path, code, message = only_error(with_formula('amount > "high"', "boolean"))
    assert path == "$.entities[0].fields[4].formula"
    assert code == "formula_type"
    assert message.startswith("`amount` is a currency amount; it cannot be compared")
    assert message.endswith("(at character 1)")


def test_syntax_error_is_reported_with_its_position() -> None:
    path, code, message = only_error(with_formula("amount * (2 +", "number"))
    assert path == "$.entities[0].fields[4].formula"
    assert code.startswith("formula_")
    assert "at character" in message


def test_result_must_match_the_declared_result() -> None:
    path, code, message = only_error(with_formula('name & "!"', "number"))
    assert (path, code) == ("$.entities[0].fields[4].formula", "formula_type")
    assert message == "this gives a text, but the field's result is declared as number"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("amount + 1", "this gives a currency amount, but a condition must give yes or no"),
        ("WORKDAY(due, 3) > TODAY()", "WORKDAY"),
    ],
)
def test_view_conditions_are_yes_no_and_run_in_sql(where: str, message: str) -> None:
    doc = deal_app()
    doc["entities"][0]["views"] = [{"key": "mine", "type": "list", "where": where}]
    path, _code, text = only_error(doc)
    assert path == "$.entities[0].views[0].where"
    assert message in text


def test_validation_rules_and_visibility_conditions_are_checked() -> None:
    doc = deal_app()
    doc["entities"][0]["validations"] = [
        {"key": "positive", "error_if": "amount", "message": {"en": "Must be positive"}}
    ]
    path, code, _ = only_error(doc)
    assert (path, code) == ("$.entities[0].validations[0].error_if", "formula_type")


def test_escape_payloads_in_a_definition_are_refused() -> None:
    for payload in ("().__class__.__bases__[0]", "f.__globals__", '"{0.__class__}".format(x)'):
        errors = validate(with_formula(payload))
        assert errors and errors[0].json_path == "$.entities[0].fields[4].formula", payload
