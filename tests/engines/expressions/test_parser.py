"""Parsing: syntax, positions in errors, labels, JSON round trip, limits and escape payloads."""

from __future__ import annotations

import pytest

from tessera.engines.expressions import (
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    Expression,
    ExpressionErrors,
    parse,
    references,
)

from .conftest import SCHEMA


def errors_of(source: str, **kw: object) -> ExpressionErrors:
    with pytest.raises(ExpressionErrors) as info:
        parse(source, **kw)  # type: ignore[arg-type]
    return info.value


def test_precedence_and_round_trip() -> None:
    expr = parse('NOT a = 1 AND b > 2 OR c & "x" = "y" * 1')
    assert expr.to_source() == 'NOT a = 1 AND b > 2 OR c & "x" = "y" * 1'
    again = Expression.from_json(expr.to_json())
    assert again == expr
    assert parse("(1 + 2) * 3").to_source() == "(1 + 2) * 3"
    assert parse("1 - (2 - 3)").to_source() == "1 - (2 - 3)"
    assert parse("x NOT IN (1, 2)").to_source() == "x NOT IN (1, 2)"


def test_json_has_format_version_and_rejects_unknown() -> None:
    data = parse("amount > 1.50").to_json()
    assert data["format"] == 1 and data["ast"]["right"] == {"t": "num", "v": "1.50", "pos": [9, 13]}
    with pytest.raises(ValueError):
        Expression.from_json({**data, "format": 99})
    with pytest.raises(ValueError):
        Expression.from_json({**data, "ast": {"t": "attr", "pos": [0, 1]}})


def test_labels_resolve_to_keys_and_render_back() -> None:
    zh = parse('[金额] > 10000 AND [Account].[行业] = "Retail"', schema=SCHEMA, entity="deal")
    en = parse('[Amount] > 10000 AND account.industry = "Retail"', schema=SCHEMA, entity="deal")
    assert zh.to_source() == en.to_source()
    assert references(zh) == {("amount",), ("account", "industry")}
    assert zh.to_source(SCHEMA, "deal", "zh-CN") == '[金额] > 10000 AND account.[行业] = "Retail"'
    assert (
        zh.to_source(SCHEMA, "deal", "en") == '[Amount] > 10000 AND [Account].[Industry] = "Retail"'
    )
    assert zh.to_source() == 'amount > 10000 AND account.industry = "Retail"'


def test_ambiguous_label_names_candidates() -> None:
    err = errors_of('[State] = "x"', schema=SCHEMA, entity="deal")
    assert err.errors[0].code == "ambiguous_field"
    assert "`status`" in err.errors[0].message and "`state`" in err.errors[0].message


def test_unknown_fields_all_reported_with_positions() -> None:
    err = errors_of("amont > 1 AND account.industy = 2", schema=SCHEMA, entity="deal")
    assert [e.code for e in err.errors] == ["unknown_field", "unknown_field"]
    assert err.errors[0].start == 0 and "did you mean `amount`" in err.errors[0].message
    assert err.errors[1].start == 22


@pytest.mark.parametrize(
    ("source", "pos", "fragment"),
    [
        ("1 +", 3, "expected a value"),
        ("IF(a, 1", 7, "`,` or `)` in the arguments of IF"),
        ('"abc', 0, "unclosed text"),
        ("a b", 2, "expected an operator"),
        ("()", 1, "inside the parentheses"),
        ("x IN 1", 5, "`(` and a list"),
        ("", 0, "empty"),
    ],
)
def test_syntax_errors_point_at_the_character(source: str, pos: int, fragment: str) -> None:
    err = errors_of(source).errors[0]
    assert err.start == pos and fragment in err.message
    assert "^" in err.describe(source)


ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "f.__globals__",
    '"{0.__class__}".format(x)',
    "raise SystemExit",
    "__import__('os').system('id')",
    "lambda: 1",
    "a[0]",
    "x.__class__",
    'eval("1")',
    "open('/etc/passwd').read()",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_payloads_rejected_at_parse(payload: str) -> None:
    with pytest.raises(ExpressionErrors):
        parse(payload, schema=SCHEMA, entity="deal")


def test_python_names_are_not_fields() -> None:
    with pytest.raises(ExpressionErrors):
        parse("gi_frame.f_globals", schema=SCHEMA, entity="deal")


def test_limits() -> None:
    assert errors_of("1" * (MAX_SOURCE_LENGTH + 1)).errors[0].code == "too_long"
    deep = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    assert "nested too deeply" in errors_of(deep).errors[0].message
    assert "nested too deeply" in errors_of("-" * 200 + "1").errors[0].message
