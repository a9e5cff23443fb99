"""An entity or a field without a label is named by its key read as words, everywhere."""

from __future__ import annotations

import pytest

from tessera.engines.definitions import compile_app, diff, humanise
from tessera.engines.definitions.expression_schema import to_expr_schema

from .factories import minimal_doc


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("order_line", "Order line"),
        ("customerName", "Customer name"),
        ("close_date", "Close date"),
        ("qty", "Qty"),
        ("address_line_2", "Address line 2"),
        ("vatID", "Vat ID"),
        ("URLPath", "URL path"),
        ("md5_hash", "Md5 hash"),
        ("x", "X"),
        ("__", "__"),
    ],
)
def test_a_key_read_as_words(key: str, words: str) -> None:
    assert humanise(key) == words


def unlabelled_app() -> dict[str, object]:
    doc = minimal_doc()
    doc["entities"][0]["key"] = "order_line"
    doc["entities"][0]["fields"] += [
        {"key": "unit_price", "type": "currency"},
        {"key": "qty", "type": "integer", "label": {"en": "Quantity", "zh-CN": "数量"}},
    ]
    return doc


def test_models_fall_back_to_the_key_as_words_and_keep_their_labels_honest() -> None:
    entity = compile_app(unlabelled_app()).entity("order_line")
    assert entity.label() == entity.label("zh-CN") == "Order line"
    assert str(entity.named()) == "Order line"
    price = entity.field("unit_price")
    assert price.label() == price.label("zh-CN") == "Unit price"
    assert price.named().pick("zh-CN") == "Unit price"
    assert entity.field("qty").label("zh-CN") == "数量"
    # the model holds the labels the definition gives, nothing made up
    assert dict(price.labels) == {} and dict(entity.labels) == {}


def test_formulas_still_name_an_unlabelled_field_by_its_key() -> None:
    schema = to_expr_schema(compile_app(unlabelled_app()))
    assert schema.entities["order_line"].fields["unit_price"].labels == {}


def test_the_diff_names_an_unlabelled_field_by_its_key_as_words() -> None:
    old = unlabelled_app()
    new = unlabelled_app()
    new["entities"][0]["fields"].append({"key": "line_note", "type": "text"})
    assert [c.text for c in diff(old, new)] == [
        "Add the text field “Line note” (line_note) to “Order line”"
    ]
