"""How a formula's message names a field: its key in the English sentence, and to a reader the
name they would write in their language (``[金额]``, ``[Amount]``), the key where the field has
no label in that language."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.engines.expressions import (
    EntitySpec,
    ExpressionError,
    ExpressionErrors,
    ExprSchema,
    FieldSpec,
    check,
    parse,
)
from tessera.engines.expressions import ValueType as V
from tessera.engines.expressions.errors import FieldName, code
from tessera.engines.expressions.schema import label_in
from tessera.engines.messages import Phrase

from .conftest import SCHEMA


def first_error(source: str, schema: ExprSchema = SCHEMA, entity: str = "deal") -> ExpressionError:
    with pytest.raises(ExpressionErrors) as info:
        check(parse(source, schema=schema, entity=entity), schema, entity)
    return info.value.errors[0]


def named(error: ExpressionError, *keys: str) -> Any:
    """The param at ``keys`` (``subject``, ``what``) of ``error``."""
    value: Any = error.phrase
    for key in keys:
        value = value.params[key]
    return value


def test_a_field_is_its_key_in_english_and_its_label_to_a_reader() -> None:
    error = first_error("[金额] = name")
    amount, name = named(error, "subject", "what"), named(error, "other", "field")
    assert isinstance(amount, FieldName) and isinstance(name, FieldName)
    # the English sentence and the params' equality are what they were: the key, quoted
    assert error.message == (
        "`amount` is a number; it cannot be compared with `name`, which is a text"
    )
    assert amount == code("amount") and str(amount) == "`amount`"
    assert (amount.for_reader("zh-CN"), name.for_reader("zh-CN")) == ("[金额]", "[名称]")
    assert (amount.for_reader("en"), name.for_reader("en")) == ("[Amount]", "[Name]")


def test_without_a_label_in_the_readers_language_the_key_is_kept() -> None:
    """``qty`` has no label; ``discount`` has only an English one, which a Chinese reader does
    not get: a formula names such a field by its key, as the editor shows it back."""
    qty = named(first_error("NOT qty"), "subject", "what")
    assert qty.for_reader("zh-CN") is qty and qty.for_reader("en") is qty
    discount = named(first_error("NOT discount"), "subject", "what")
    assert discount.for_reader("zh-CN") is discount
    assert discount.for_reader("en") == "[Discount]"


def test_a_path_through_a_link_names_each_step() -> None:
    """``account`` has only an English label, ``account.industry`` a Chinese one too."""
    path = named(first_error("account.industry + 1"), "subject", "what")
    assert str(path) == "`account.industry`"
    assert path.for_reader("en") == "[Account].[Industry]"
    # a key among the steps keeps the quotes, translated with the sentence
    assert path.for_reader("zh-CN") == code("account.[行业]")
    tags = named(first_error("SUM(tags.name)"), "subject", "what")
    assert tags.for_reader("zh-CN") is tags


def test_a_label_that_would_not_name_the_field_alone_is_not_used() -> None:
    """``status`` and ``state`` share the label “State”: written, it would be ambiguous."""
    status = named(first_error("-status"), "subject", "what")
    assert status.for_reader("en") is status
    # the ambiguity error keeps listing keys: it tells the author to write one
    ambiguous = first_error('[State] = "x"')
    assert ambiguous.params["keys"] == (code("status"), code("state"))


def test_not_a_link_names_the_field_written_before_the_dot() -> None:
    error = first_error("name.x")
    assert error.message == "`name` is not a link to other records, so it has no field `x`"
    assert error.params["field"].for_reader("zh-CN") == "[名称]"
    assert error.params["name"] == code("x")  # what the author wrote, as written


def test_a_plain_label_is_every_languages_and_the_language_counts() -> None:
    schema = ExprSchema(
        {
            "order": EntitySpec(
                "order",
                "order",
                {
                    "total": FieldSpec("total", V.NUMBER, {"": "Total"}, column="total"),
                    "memo": FieldSpec("memo", V.TEXT, {"zh": "备注", "en": "Memo"}, column="memo"),
                    "odd": FieldSpec("odd", V.TEXT, {"en": "Odd [x]"}, column="odd"),
                },
            )
        }
    )
    error = first_error("memo * total", schema, "order")
    memo, total = named(error, "subject", "what"), named(error, "other", "field")
    assert (memo.for_reader("zh-CN"), total.for_reader("zh-CN")) == ("[备注]", "[Total]")
    odd = named(first_error("-odd", schema, "order"), "subject", "what")
    assert odd.for_reader("en") is odd  # “]” cannot be written inside brackets


def test_label_in_follows_the_locale_then_its_language_then_every_language() -> None:
    labels = {"en": "Amount", "zh-TW": "金額", "": "Sum"}
    assert label_in(labels, "en") == "Amount"
    assert label_in(labels, "zh-CN") == "金額"
    assert label_in({"zh": "金额", "zh-TW": "金額"}, "zh-CN") == "金额"
    assert label_in(labels, "fr") == "Sum"
    assert label_in({"en": "Amount"}, "zh-CN") is None


def test_a_phrase_reads_the_same_to_every_reader() -> None:
    phrase = Phrase("%(what)s is %(type)s", what=code("amount"), type=Phrase("a number"))
    assert phrase.for_reader("zh-CN") is phrase
