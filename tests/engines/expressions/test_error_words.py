"""Formula errors are told as a template and its params, so the platform can translate them.

The English sentence (``message``, what logs, the CLI and older callers read) must stay what it
was; the template and params say the same thing without a language, their parts (types, quoted
names, ordinals) being phrases of their own.
"""

from __future__ import annotations

from typing import Any

import pytest

from tessera.engines.definitions import validate
from tessera.engines.expressions import (
    MAX_STEPS,
    EvaluationError,
    ExpressionError,
    ExpressionErrors,
    check,
    compile_python,
    parse,
)
from tessera.engines.expressions.errors import code
from tessera.engines.messages import Listing, Phrase, render
from tests.engines.definitions.factories import minimal_doc

from .conftest import CTX, SCHEMA
from .test_functions import DEAL, _ManyLines


def first_error(source: str, **kw: Any) -> ExpressionError:
    with pytest.raises(ExpressionErrors) as info:
        check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal", **kw)
    return info.value.errors[0]


def templates(value: Any) -> set[str]:
    """Every template of a phrase and of the phrases in its params."""
    if isinstance(value, Phrase):
        return {value.template}.union(*(templates(v) for v in value.params.values()))
    if isinstance(value, Listing):
        return set().union(*(templates(v) for v in value))
    return set()


#: formulas with one error each, and the English sentence it has always had
ENGLISH = {
    "amont > 1": "`deal` has no field `amont`; did you mean `amount`, `Amount`, `account`?",
    "zzzqqq": "`deal` has no field `zzzqqq`",
    "1 +": "expected a value, a field or a function, found the end of the formula",
    "IF(a, 1": "expected `,` or `)` in the arguments of IF, found the end of the formula",
    '"abc': 'unexpected character `"` (unclosed text?)',
    "SUMM(1)": "there is no function SUMM; did you mean SUM?",
    "amount = name": "`amount` is a number; it cannot be compared with `name`, which is a text",
    'stage = "wonn"': '`stage` is a choice with the options "new", "won", "lost"; '
    '"wonn" is not one of them',
    "name + 1": "`name` is a text; it cannot be added to a number; use & to join texts",
    "ROUND()": "ROUND takes 1 to 2 arguments (ROUND(number, digits?)); it was given 0",
    "TODAY(1)": "TODAY takes 0 arguments (TODAY()); it was given 1",
    'IF(TRUE, 1, "x")': "the results of IF must have one type; they are a number, a text",
    'DATEADD(close_date, 1, "weeks")': "the third argument of DATEADD must be written as one "
    'of "day", "week", "month", "year", "hour", "minute", "second"',
    'ROUND("x", 1)': 'ROUND needs a number as its first argument; "x" is a text',
    "SUM(tags.name)": "SUM needs numbers; `tags.name` is a list of texts",
    "line_items": "`line_items` is a list of links; use it inside SUM, AVG, COUNT, MAXOF or MINOF",
}


@pytest.mark.parametrize(("source", "english"), ENGLISH.items())
def test_the_english_sentence_is_unchanged_and_is_its_template_filled(
    source: str, english: str
) -> None:
    error = first_error(source)
    assert error.message == english
    assert render(error.template, error.params) == english
    assert str(error.phrase) == english


def test_an_unknown_field_names_its_parts_as_params() -> None:
    error = first_error("amont > 1")
    assert error.code == "unknown_field"
    assert error.template == "%(entity)s has no field %(name)s; did you mean %(names)s?"
    assert error.params == {
        "entity": code("deal"),
        "name": code("amont"),
        "names": Listing([code("amount"), code("Amount"), code("account")]),
    }
    assert (error.start, error.end) == (0, 5)


def test_a_type_error_is_a_sentence_about_a_phrase() -> None:
    error = first_error("-name")
    assert error.template == "%(subject)s; only numbers can be negated"
    subject = error.params["subject"]
    assert subject == Phrase("%(what)s is %(type)s", what=code("name"), type=Phrase("a text"))
    assert templates(error.phrase) == {
        "%(subject)s; only numbers can be negated",
        "%(what)s is %(type)s",
        "`%(code)s`",
        "a text",
    }


def test_values_are_params_never_part_of_a_template() -> None:
    """A template holds no value of the formula (those are never translated)."""
    for source in ENGLISH:
        error = first_error(source)
        for template in templates(error.phrase):
            for value in ("amont", "zzzqqq", "SUMM", "wonn", "weeks", "deal", "tags.name"):
                assert value not in template, (source, template)


def test_need_sql_names_the_dialects_as_a_listing() -> None:
    error = first_error('VALUE("1")', need_sql=True, dialect="sqlite")
    assert error.params["dialects"] == Listing(["sqlite"])
    assert error.message == (
        "VALUE cannot run in the database on sqlite, so it cannot be used in filters or measures"
    )


def test_an_evaluation_error_carries_its_template() -> None:
    checked = check(parse("SUM(line_items.quantity)", schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    with pytest.raises(EvaluationError) as info:
        compile_python(checked)(DEAL, CTX, _ManyLines(MAX_STEPS + 1))
    error = info.value
    assert (error.code, error.template) == (
        "too_many_steps",
        "the formula took more than %(limit)s steps",
    )
    assert error.params == {"limit": MAX_STEPS}
    assert str(error) == error.message == f"the formula took more than {MAX_STEPS} steps"


def test_a_definition_error_from_a_formula_keeps_the_formulas_words() -> None:
    doc = minimal_doc()
    doc["entities"][0]["fields"].append(
        {"key": "calc", "type": "formula", "formula": "1 + -name", "result": "number"}
    )
    (error,) = validate(doc)
    assert error.code == "formula_type"
    assert error.template == "%(problem)s (at character %(position)s)"
    assert error.params["position"] == 5
    assert error.params["problem"].template == "%(subject)s; only numbers can be negated"
    assert error.message == "`name` is a text; only numbers can be negated (at character 5)"
    assert error.message == render(error.template, error.params)


def test_a_definition_error_for_a_wrong_result_names_the_type() -> None:
    doc = minimal_doc()
    doc["entities"][0]["fields"].append(
        {"key": "calc", "type": "formula", "formula": 'name & "!"', "result": "number"}
    )
    (error,) = validate(doc)
    assert error.message == "this gives a text, but the field's result is declared as number"
    assert error.template == "this gives %(type)s, but %(expected)s"
    assert error.params["type"] == Phrase("a text")
    assert error.params["expected"] == Phrase(
        "the field's result is declared as %(result)s", result=Phrase("number")
    )


def test_an_error_without_a_template_is_its_own_template() -> None:
    plain = ExpressionError("syntax", "the formula is empty")
    assert (plain.template, plain.params) == ("the formula is empty", {})
