"""Field types refuse values with a template and its values; the engines speak no language."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tessera.engines.definitions import compile_app
from tessera.engines.definitions.fields import InvalidValue, field_type
from tessera.engines.messages import (
    Listing,
    Localised,
    Phrase,
    Term,
    from_json,
    render,
    sentences,
    to_json,
)


@pytest.mark.parametrize(
    ("kind", "spec", "value", "template", "params"),
    [
        ("integer", {}, "abc", "“%(value)s” is not a whole number", {"value": "abc"}),
        ("date", {}, "31/31", "“%(value)s” is not a date; write it like 2024-03-05",
         {"value": "31/31"}),
        ("select", {"options": ["a", "b"]}, "c",
         "“%(value)s” is not one of the options: %(options)s",
         {"value": "c", "options": Listing(Localised.of(None, w) for w in "AB")}),
        ("text", {"max_length": 3}, "abcd", "this text is too long: at most %(limit)s characters",
         {"limit": 3}),
        ("location", {}, {"lat": "north", "lng": 1}, "“%(value)s” is not a latitude",
         {"value": "north"}),
        ("user", {}, "someone", "“%(value)s” is not a user", {"value": "someone"}),
    ],
)  # fmt: skip
def test_a_refusal_keeps_its_template_and_values(
    kind: str, spec: dict[str, object], value: object, template: str, params: dict[str, object]
) -> None:
    with pytest.raises(InvalidValue) as caught:
        field_type(kind).validate({"key": "f", **spec}, value)
    error = caught.value
    assert (error.template, error.params) == (template, params)
    assert str(error) == error.message == template % params


def test_try_validate_returns_the_error_and_check_its_sentence() -> None:
    kind = field_type("integer")
    value, error = kind.try_validate({"key": "n"}, "x")
    assert value is None and error is not None and error.params == {"value": "x"}
    assert kind.check({"key": "n"}, "x") == (None, "“x” is not a whole number")
    assert kind.try_validate({"key": "n"}, "12") == (12, None)


def test_render_leaves_a_sentence_without_values_alone() -> None:
    assert render("100% done", {}) == "100% done"
    assert render("“%(value)s” is late", {"value": 3}) == "“3” is late"
    assert render("“%(value)s” is late", {"other": 3}) == "“%(value)s” is late"


def test_the_engines_import_no_flask_or_babel_support() -> None:
    code = (
        "import sys, tessera.engines.forms, tessera.engines.messages;"
        "print(sorted(m for m in ('flask', 'flask_babel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_label_parameter_is_english_text_that_knows_its_other_languages() -> None:
    model = compile_app(
        {
            "format": "tessera.app/1",
            "key": "shop",
            "label": "Shop",
            "entities": [
                {
                    "key": "order",
                    "label": {"en": "Order", "zh-CN": "订单"},
                    "fields": [{"key": "qty", "type": "integer", "label": {"zh-CN": "数量"}}],
                }
            ],
        }
    )
    order = model.entity("order")
    entity, field = order.named(), order.field("qty").named()
    assert (entity, field) == ("Order", "数量")  # a field without English falls back
    assert (entity.pick("zh-CN"), entity.pick("en")) == ("订单", "Order")
    assert render("no %(entity)s here", {"entity": entity}) == "no Order here"
    assert json.dumps({"entity": entity}) == '{"entity": "Order"}'


def test_a_message_stored_as_json_reads_back_in_every_language() -> None:
    order = Localised.of({"en": "Order", "zh-CN": "订单"}, "Order")
    plain, unlabelled = Localised.of("Box", "Box"), Localised.of(None, "Line item")
    said = Phrase(
        "%(what)s: %(kinds)s, %(type)s (%(n)d)",
        what=Phrase("the entity “%(entity)s”", entity=order),
        kinds=Listing([plain, unlabelled]),
        type=Term("long text", "long_text"),
        n=3,
    )
    stored = json.loads(json.dumps(to_json(said)))
    back = from_json(stored)
    assert back == said
    assert str(back) == str(said) == "the entity “Order”: Box, Line item, long_text (3)"
    entity = back.params["what"].params["entity"]
    assert (entity.pick("zh-CN"), entity.pick("en")) == ("订单", "Order")
    assert [k.pick("zh-CN") for k in back.params["kinds"]] == ["Box", "Line item"]
    assert back.params["type"].english == "long_text"
    assert from_json("plain English") == "plain English"


def test_sentences_join_two_by_two() -> None:
    one, two, three = Phrase("A"), Phrase("B %(x)s", x=1), Phrase("C")
    assert sentences([one]) == one
    assert str(sentences([one, two, three])) == "A; B 1; C"
    assert sentences([]) == ""
