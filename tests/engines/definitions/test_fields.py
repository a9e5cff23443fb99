"""Every field type on both databases: its column, a valid value round-trip, a refused value."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import PlatformTables, apply, compile_app, plan, schema_transaction
from tessera.engines.definitions.fields import FIELD_TYPES, InvalidValue, field_type, type_name
from tessera.engines.definitions.fields.base import OPERATOR_NAMES, operator_name
from tessera.engines.definitions.fields.choice import OPTIONS_NAMED
from tessera.engines.definitions.tables import record_values, row_values
from tessera.engines.messages import Phrase

from .factories import Doc, minimal_doc

# type -> (extra settings, valid input, stored value read back, invalid input, words in the error,
#          expected column type name(s) per database as (sqlite, postgresql))
COLUMN_CASES: dict[str, tuple[Doc, Any, Any, Any, str, tuple[str, str]]] = {
    "text": (
        {"max_length": 5},
        "hello",
        "hello",
        "much too long",
        "too long",
        ("VARCHAR", "VARCHAR"),
    ),
    "long_text": ({}, "a\nb", "a\nb", ["x"], "is not text", ("TEXT", "TEXT")),
    "rich_text": (
        {},
        "<b>x</b><script>1</script>",
        "<b>x</b>",
        5.5j,
        "is not text",
        ("TEXT", "TEXT"),
    ),
    "integer": ({}, "1,234", 1234, "1.5", "not a whole number", ("BIGINT", "BIGINT")),
    "decimal": (
        {"precision": 6, "scale": 2},
        "1,234.505",
        Decimal("1234.50"),
        "12345.6",
        "too large",
        ("NUMERIC", "NUMERIC"),
    ),
    "currency": (
        {},
        "¥1,234.50",
        Decimal("1234.50"),
        "abc",
        "not a number",
        ("NUMERIC", "NUMERIC"),
    ),
    "percent": ({}, "12.5%", Decimal("12.50"), "half", "not a number", ("NUMERIC", "NUMERIC")),
    "boolean": ({}, "是", True, "maybe", "not yes or no", ("BOOLEAN", "BOOLEAN")),
    "date": ({}, "2024/3/5", dt.date(2024, 3, 5), "2024/13/45", "not a date", ("DATE", "DATE")),
    "datetime": (
        {},
        "2024-03-05T08:00:00+08:00",
        dt.datetime(2024, 3, 5, 0, 0, tzinfo=dt.UTC),
        "soon",
        "not a date",
        ("DATETIME", "TIMESTAMP"),
    ),
    "time": ({}, "14:30", dt.time(14, 30), "25:99", "not a time", ("TIME", "TIME")),
    "duration": ({}, "1:30", 5400, "forever", "not a duration", ("BIGINT", "BIGINT")),
    "select": (
        {"options": ["a", {"key": "b", "label": {"zh-CN": "乙"}}]},
        "乙",
        "b",
        "c",
        "not one of the options",
        ("VARCHAR", "VARCHAR"),
    ),
    "multi_select": (
        {"options": ["a", "b", "c"]},
        "c，a",
        ["a", "c"],
        ["z"],
        "not one of the options",
        ("JSON", "JSON"),
    ),
    "email": (
        {},
        "Ada@Example.COM",
        "Ada@example.com",
        "ada@",
        "not an email",
        ("VARCHAR", "VARCHAR"),
    ),
    "phone": (
        {},
        "+86 138 0000 0000",
        "+86 138 0000 0000",
        "call me",
        "not a phone",
        ("VARCHAR", "VARCHAR"),
    ),
    "url": (
        {},
        "example.com/x",
        "https://example.com/x",
        "javascript:alert(1)",
        "not a web address",
        ("VARCHAR", "VARCHAR"),
    ),
    "rating": ({"max": 5}, "★★★", 3, 9, "between 0 and 5", ("SMALLINT", "SMALLINT")),
    "user": ({}, 2, 2, "nobody", "not a user", ("INTEGER", "INTEGER")),
    "department": ({}, "1", 1, -4, "not a department", ("INTEGER", "INTEGER")),
    "link": ({"entity": "item"}, None, None, "x", "not a record", ("INTEGER", "BIGINT")),
    "attachment": (
        {},
        [{"id": "f1", "name": "a.pdf", "size": 3}],
        [{"id": "f1", "name": "a.pdf", "size": 3}],
        [{}],
        "needs the id",
        ("JSON", "JSON"),
    ),
    "image": (
        {},
        [{"id": "i", "name": "a.png", "mime": "image/png"}],
        [{"id": "i", "name": "a.png", "mime": "image/png"}],
        [{"id": "s", "name": "x.svg", "mime": "image/svg+xml"}],
        "not a PNG",
        ("JSON", "JSON"),
    ),
    "location": (
        {},
        "31.23，121.47",
        {"lat": 31.23, "lng": 121.47},
        {"lat": 95, "lng": 0},
        "within ±90",
        ("DOUBLE", "DOUBLE"),
    ),
    "auto_number": (
        {"pattern": "QT-{YYYY}-{0000}"},
        "QT-2024-0001",
        "QT-2024-0001",
        5.5j,
        "is not text",
        ("VARCHAR", "VARCHAR"),
    ),
    "formula": (
        {"formula": "1 + 1", "result": "number"},
        "2",
        Decimal("2.000000"),
        "two",
        "not a number",
        ("NUMERIC", "NUMERIC"),
    ),
    "json": (
        {},
        {"a": [1, 2]},
        {"a": [1, 2]},
        {"x": float("nan")},
        "cannot be stored as JSON",
        ("JSON", "JSON"),
    ),
}
NO_COLUMN = {
    "multi_link",
    "child_table",
    "rollup",
    "lookup",
}  # covered by the scenario and model tests


def test_every_field_type_is_covered() -> None:
    assert set(FIELD_TYPES) == set(COLUMN_CASES) | NO_COLUMN


def _app() -> Doc:
    doc = minimal_doc()
    fields = doc["entities"][0]["fields"]
    for name, (settings, *_rest) in COLUMN_CASES.items():
        fields.append({"key": f"f_{name}", "type": name, **settings})
    return doc


def test_every_column_type_round_trips(engine: sa.Engine, platform: PlatformTables) -> None:
    app = compile_app(_app())
    with schema_transaction(engine) as conn:
        apply(conn, plan(conn, None, app, platform))
    entity = app.entity("item")
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(entity.table)}
    dialect = 0 if engine.dialect.name == "sqlite" else 1
    values: dict[str, Any] = {}
    for name, (_s, valid, _stored, invalid, words, types) in COLUMN_CASES.items():
        f = entity.field(f"f_{name}")
        for column in f.columns:
            assert type(columns[column]).__name__.upper().startswith(types[dialect]), (
                name,
                columns[column],
            )
        with pytest.raises(InvalidValue, match=words):
            f.kind.validate(f.spec, invalid)
        values[f.key] = valid
    table = sa.Table(entity.table, sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        row_id = conn.execute(
            table.insert().values(row_values(entity, values)).returning(table.c.id)
        ).scalar_one()
        row = conn.execute(sa.select(table).where(table.c.id == row_id)).one()
    got = record_values(entity, row)
    for name, (_s, _valid, stored, *_rest) in COLUMN_CASES.items():
        assert got[f"f_{name}"] == stored, name


@pytest.mark.parametrize(
    ("type_", "settings", "cell", "expected"),
    [
        ("boolean", {}, "否", False),
        ("boolean", {}, "√", True),
        ("date", {}, "2024年3月5日", dt.date(2024, 3, 5)),
        ("date", {}, 45356, dt.date(2024, 3, 5)),
        ("decimal", {}, "(1,234.50)", Decimal("-1234.50")),
        ("currency", {}, "￥１，２３４.５", Decimal("1234.50")),
        ("integer", {}, "  ", None),
        ("duration", {}, "1天2小时", 93600),
        ("multi_select", {"options": ["a", "b"]}, "b; a", ["a", "b"]),
        ("json", {}, '{"k": 1}', {"k": 1}),
    ],
)
def test_import_reads_spreadsheet_habits(
    type_: str, settings: Doc, cell: Any, expected: Any
) -> None:
    spec = {"key": "f", "type": type_, **settings}
    assert field_type(type_).from_import(spec, cell) == expected


@pytest.mark.parametrize("type_", sorted(COLUMN_CASES))
def test_export_then_import_round_trips_and_formats(type_: str) -> None:
    settings, _valid, stored, *_rest = COLUMN_CASES[type_]
    kind, spec = field_type(type_), {"key": "f", "type": type_, **settings}
    if type_ in ("link", "user", "department"):
        stored = 7
    cell = kind.to_export(spec, stored)
    assert kind.from_import(spec, cell) == stored
    assert isinstance(kind.format(spec, stored, "zh-CN"), str)
    assert kind.operators, "every type can be filtered"
    demo = kind.demo_value(spec, random.Random(1))
    assert demo is None or kind.validate(spec, demo) == demo


def test_formatting_follows_locale() -> None:
    currency = {"key": "f", "type": "currency", "currency": "CNY"}
    assert field_type("currency").format(currency, Decimal("1234.5"), "zh-CN") == "¥1,234.50"
    assert field_type("boolean").format({}, True, "zh-CN") == "是"
    select = {"key": "f", "options": [{"key": "won", "label": {"en": "Won", "zh-CN": "赢单"}}]}
    assert field_type("select").format(select, "won", "zh-CN") == "赢单"
    assert field_type("select").format(select, "won", "fr") == "Won"


def test_an_option_without_a_label_is_its_key_as_words() -> None:
    """Pages, forms, filters and exports show an unlabelled option as its key read as words
    (the fallback of every label), and a select accepts those words back, as it accepts a
    label; a labelled option's key as words is shown nowhere, so it is not accepted."""
    spec: dict[str, Any] = {
        "key": "f",
        "options": ["closed_won", {"key": "on_hold"}, {"key": "won", "label": {"en": "Deal won"}}],
    }
    select, multi = field_type("select"), field_type("multi_select")
    assert select.format(spec, "closed_won", "zh-CN") == "Closed won"
    assert select.format(spec, "on_hold", "en") == "On hold"
    assert select.format(spec, "won", "en") == "Deal won"
    assert select.format(spec, "gone_away", "en") == "Gone away"  # an option removed since
    assert multi.format(spec, ["on_hold", "closed_won"], "en") == "On hold, Closed won"
    for given, key in [("Closed won", "closed_won"), ("closed_won", "closed_won"),
                       ("On hold", "on_hold"), ("Deal won", "won"), ("won", "won")]:  # fmt: skip
        assert select.validate(spec, given) == key, given
        assert select.validator(spec)(given) == key, given
    assert multi.from_import(spec, "On hold, Closed won") == ["closed_won", "on_hold"]
    with pytest.raises(InvalidValue, match="not one of the options"):
        select.validate(spec, "Won")


def test_a_refused_option_lists_the_options_as_people_see_them() -> None:
    """Not the keys only the definition knows: each option by its label in the reader's
    language (``pick``), its key as words where it has none; in a multi select too."""
    spec: dict[str, Any] = {
        "key": "f",
        "options": [{"key": "won", "label": {"en": "Won", "zh-CN": "赢单"}}, "on_hold"],
    }
    for kind, value in (("select", "lost"), ("multi_select", ["lost"])):
        with pytest.raises(InvalidValue) as caught:
            field_type(kind).validate(spec, value)
        assert str(caught.value) == "“lost” is not one of the options: Won, On hold"
        options = caught.value.params["options"]
        assert [o.pick("zh-CN") for o in options] == ["赢单", "On hold"]


def test_every_operator_a_type_offers_has_a_name() -> None:
    """Messages and the filter editor name operators from one table: none goes without."""
    offered = {op for kind in FIELD_TYPES.values() for op in kind.operators}
    assert offered <= set(OPERATOR_NAMES)
    assert operator_name("gt") == Phrase("is more than")
    assert operator_name("bigger") == "bigger"  # no operator: as it is written


def test_a_long_list_of_options_is_named_by_its_first_ones() -> None:
    spec = {"key": "city", "options": [f"city_{n}" for n in range(25)]}
    with pytest.raises(InvalidValue) as caught:
        field_type("select").validator(spec)("Atlantis")
    first = ", ".join(f"City {n}" for n in range(OPTIONS_NAMED))
    assert str(caught.value) == (
        f"“Atlantis” is not one of the options: {first} and {25 - OPTIONS_NAMED} more"
    )


def test_every_field_type_names_itself() -> None:
    """Each type carries the name people know it by (the palette's, the messages'), marked
    for the catalogues; a key that names no type is left as it is."""
    names = {key: kind.display_name for key, kind in FIELD_TYPES.items()}
    assert all(names.values()) and len(set(names.values())) == len(names)
    assert (names["multi_link"], names["integer"], names["select"]) == (
        "Multiple links", "Whole number", "Single choice"
    )  # fmt: skip
    assert type_name("multi_link") == Phrase("Multiple links")
    assert type_name("nope") == "nope"
    assert type_name(None) is None


def test_defaults() -> None:
    now = dt.datetime(2024, 3, 5, 9, tzinfo=dt.UTC)
    assert field_type("date").default({"default": "today"}, now) == dt.date(2024, 3, 5)
    assert field_type("select").default({"options": ["a"], "default": "a"}) == "a"
    assert field_type("text").default({}) is None


SELECT_SPEC: dict[str, Any] = {
    "options": [
        {"key": "new", "label": {"en": "New", "zh-CN": "新建"}},
        {"key": "won", "label": {"en": "Won", "zh-CN": "赢单"}},
        {"key": "lost", "label": {"en": "new", "zh-CN": "丢单"}},  # a label equal to a key
        {"key": "odd", "label": "Won"},  # the same label as an earlier option
        "plain",
    ]
}
SELECT_INPUTS: list[Any] = [
    None, "new", " won ", "Won", "赢单", "丢单", "ｗｏｎ", "plain", "nope", "", 3, 1.5, True,
    ["new"], {"k": 1}, "NEW", "Plain", " Plain ", "plain ", "PLAIN", "Odd", "Lost",
]  # fmt: skip


@pytest.mark.parametrize("value", SELECT_INPUTS)
def test_a_selects_compiled_validator_answers_as_validate_does(value: Any) -> None:
    """Bulk writes check each row with ``validator(spec)``, which works out the accepted keys
    and labels once; it must accept, canonicalise and refuse exactly as ``validate``."""
    select = field_type("select")
    expected, refused = select.try_validate(SELECT_SPEC, value)
    if refused is None:
        assert select.validator(SELECT_SPEC)(value) == expected
    else:
        with pytest.raises(InvalidValue) as raised:
            select.validator(SELECT_SPEC)(value)
        assert (raised.value.template, raised.value.params) == (refused.template, refused.params)


@pytest.mark.parametrize("kind", sorted(k for k in FIELD_TYPES if not field_type(k).computed))
def test_every_types_validator_is_its_validate(kind: str) -> None:
    field = field_type(kind)
    spec: dict[str, Any] = dict(SELECT_SPEC) if kind in ("select", "multi_select") else {}
    for value in (None, "", "12", 12, "2024-03-05", "new, won", [1, 2], {"lat": 1, "lng": 2}):
        expected, refused = field.try_validate(spec, value)
        try:
            got: Any = field.validator(spec)(value)
        except InvalidValue as error:
            assert refused is not None and str(error) == str(refused), (kind, value)
        else:
            assert refused is None and got == expected, (kind, value)


#: inputs the text, email and number validators take a short cut for, and their neighbours
SHORT_CUT_INPUTS: list[Any] = [
    None, "", "  ", "abc", "x" * 255, "x" * 256, "Wei@Example.COM", " wei@example.com ",
    "wei@例子.公司", "ｗｅｉ＠example.com", "not an email", "12", "-3", "1234.50", "12.345",
    "0.005", "1,234.50", "(12)", "¥1,234.50", "１２３", "1e5", "NaN", "Infinity", "-", "1.",
    ".5", "9" * 17, "9" * 30, "12%", " 7 ", 12, 12.5, Decimal("1.005"), True,
    "<b>bold</b><script>x()</script>", "+86 138 0013 8000", "https://Example.com/a b",
]  # fmt: skip


SHORT_CUT_KINDS = ["text", "long_text", "rich_text", "email", "phone", "url", "decimal",
                   "currency", "percent"]  # fmt: skip


@pytest.mark.parametrize("kind", SHORT_CUT_KINDS)
def test_short_cut_validators_answer_exactly_as_validate(kind: str) -> None:
    """Text, checked text and decimal validators skip work for the common input (ASCII text
    within the limit, plain digits); every input must still get :meth:`validate`'s answer:
    the same value of the same type at the same scale, or the same refusal."""
    field = field_type(kind)
    for spec in ({}, {"max_length": 5, "scale": 1, "precision": 4}):
        check = field.validator(spec)
        for value in SHORT_CUT_INPUTS:
            expected, refused = field.try_validate(spec, value)
            try:
                got: Any = check(value)
            except InvalidValue as error:
                assert refused is not None, (kind, spec, value)
                assert (error.template, error.params) == (refused.template, refused.params)
            else:
                assert refused is None, (kind, spec, value)
                assert (type(got), str(got)) == (type(expected), str(expected)), (kind, value)
