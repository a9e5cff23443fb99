"""Interface language: complete Chinese catalogue, locale choice, label fallback, formatting."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.util import pathmatch
from flask import Flask, render_template_string

from tessera.engines.definitions import validate
from tessera.engines.expressions import ExpressionError, ExpressionErrors, check, parse
from tessera.engines.messages import Listing, Phrase
from tessera.platform import i18n
from tessera.platform.models import User
from tests.conftest import Web
from tests.engines.definitions.factories import tweak
from tests.engines.definitions.test_validate import SALES
from tests.engines.expressions.conftest import SCHEMA
from tests.engines.expressions.test_error_words import ENGLISH as FORMULA_ENGLISH

#: more formulas with errors, beyond those whose English sentence is pinned
FORMULA_MORE = [
    "(" * 60 + "1" + ")" * 60, "_x + 1", "[ ]", "amount.", "amount(1)", "x IN 1", "", "1 )",
    "x IN (1 2", "amount.name", "-close_date", "NOT amount", "owner < owner",
    "close_date * 2", "amount + created_at", "DATEADD(1, 2, \"days\")", "SUM(amount)",
    "SUM(line_items)", "COUNTIF(amount, TRUE)", "COUNTIF(line_items, quantity)", "MAXOF(tags.name)",
    "account.deals.line_items.subtotal", "CONCAT()", "ROUND(amount, 1, 2, 3)",
    "DATEDIFF(close_date, close_date) * DATEDIFF(close_date, close_date)",
    "1 / DATEDIFF(close_date, close_date)", "DATEDIFF(close_date, close_date) + 1",
    'SWITCH(amount, "a", 1)', "labels & \"x\"", 'STARTSWITH(labels, "v")', "1 $ 2",
    "WORKDAY(close_date, 1)", 'REGEXMATCH(name, "a")', "[State] = 1",
]  # fmt: skip

ROOT = Path(__file__).resolve().parents[2]


BABEL_CFG = ROOT / "tessera" / "platform" / "translations" / "babel.cfg"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _extraction_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """The method map of ``babel.cfg``: the test extracts exactly what ``pybabel extract`` does."""
    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options = parse_mapping_cfg(handle, str(BABEL_CFG))  # type: ignore[no-untyped-call]
    return method_map, options


def _extracted_messages() -> set[str]:
    method_map, options = _extraction_map()
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options, keywords=KEYWORDS
        )
    }


def _catalogue(locale: str) -> dict[str, str]:
    path = i18n.TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {
        str(m.id if isinstance(m.id, str) else m.id[0]): str(
            m.string if isinstance(m.string, str) else (m.string or [""])[0]
        )
        for m in catalog
        if m.id and not m.fuzzy
    }


def test_every_template_folder_and_package_is_extracted() -> None:
    """A new folder of templates (or a new UI package) must be added to babel.cfg, or its strings
    would silently stay English."""
    method_map, _options = _extraction_map()
    templates = {p for p in (ROOT / "tessera").rglob("*.html") if "static" not in p.parts}
    templates |= {p for p in (ROOT / "tessera").rglob("*.txt") if "templates" in p.parts}
    ui_modules = [ROOT / "tessera" / "platform", ROOT / "tessera" / "builder_ui"]
    sources = {p for folder in ui_modules for p in folder.rglob("*.py")}
    unmatched = sorted(
        str(p.relative_to(ROOT))
        for p in templates | sources
        if not any(pathmatch(pattern, p.relative_to(ROOT).as_posix()) for pattern, _ in method_map)
    )
    assert unmatched == []


def test_every_message_has_a_chinese_translation() -> None:
    found = _extracted_messages()
    assert len(found) > 600
    chinese = _catalogue("zh_CN")
    assert sorted(m for m in found if not chinese.get(m)) == []
    # The English catalogue lists every message too (with empty translations: the source text).
    assert sorted(found - set(_catalogue("en"))) == []


def test_translations_keep_their_placeholders() -> None:
    placeholder = re.compile(r"%\(\w+\)[sdf]|\{\w+\}")
    changed = {
        source: text
        for source, text in _catalogue("zh_CN").items()
        if text and sorted(placeholder.findall(source)) != sorted(placeholder.findall(text))
    }
    assert changed == {}


@pytest.mark.parametrize(
    ("label", "locale", "expected"),
    [
        ({"en": "Amount", "zh-CN": "金额"}, "zh-CN", "金额"),
        ({"en": "Amount", "zh-CN": "金额"}, "en", "Amount"),
        ({"en": "Amount", "zh": "金额"}, "zh-CN", "金额"),
        ({"en": "Amount"}, "zh-CN", "Amount"),
        ({"zh-CN": "金额"}, "en", "金额"),
        ({"zh-CN": "", "en": "Amount"}, "zh-CN", "Amount"),
        ("Amount", "zh-CN", "Amount"),
        (None, "en", ""),
        ({}, "en", ""),
    ],
)
def test_localised_labels_fall_back_sensibly(label: object, locale: str, expected: str) -> None:
    assert i18n.localised(label, locale) == expected


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("zh", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-GB", "en"),
        ("fr", None),
        (None, None),
    ],
)
def test_locale_tags_are_normalised(raw: str | None, tag: str | None) -> None:
    assert i18n.normalise_locale(raw) == tag


def test_browser_language_then_switch_then_profile(
    web: Web, user_factory: Callable[..., User]
) -> None:
    user = user_factory(locale="en")
    page = web.client.get("/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in page.get_data(as_text=True) and "登录" in page.get_data(
        as_text=True
    )
    web.post("/language", {"locale": "en", "next": "/sign-in"})
    assert "Welcome back" in web.client.get(
        "/sign-in", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    # Signed in, the profile's language wins; the switch saves it on the profile.
    web.sign_in(user.email)
    assert "Good to see you" in web.client.get("/").get_data(as_text=True)
    back = web.post("/language", {"locale": "zh-CN", "next": "//evil.example/"}, token_from="/")
    assert back.location == "/"
    assert "您好" in web.client.get("/").get_data(as_text=True)
    fresh = Web(web.client.application.test_client())
    fresh.sign_in(user.email)
    assert "您好" in fresh.client.get("/").get_data(as_text=True)


def test_dates_follow_the_users_locale_and_time_zone(
    app: Flask, user_factory: Callable[..., User]
) -> None:
    user = user_factory(locale="zh-CN", time_zone="Asia/Shanghai")
    web = Web(app.test_client())
    web.sign_in(user.email)
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    cookie = web.client.get_cookie("tessera_session")
    assert cookie is not None
    with app.test_request_context("/", headers={"Cookie": f"tessera_session={cookie.value}"}):
        text = render_template_string(
            "{{ m|datetimeformat('medium') }} {{ 1234567.5|decimalformat }}", m=moment
        )
    assert text.startswith("2026年3月2日 07:30:00") and "1,234,567.5" in text


def _templates(value: object) -> set[str]:
    """Every template of a phrase (or a listing of them), its nested parts included."""
    if isinstance(value, Phrase):
        return {value.template}.union(*(_templates(v) for v in value.params.values()))
    if isinstance(value, Listing):
        return set().union(*(_templates(v) for v in value))
    return set()


#: a name in a formula's message: `account.industry`, [Amount], [Account].[Industry]
_NAME = re.compile(r"`[^`]*`|\[[^\]]*\](?:\.\[[^\]]*\])*")


def _unnamed(message: str) -> str:
    return _NAME.sub("NAME", message)


def test_every_part_of_a_formula_error_has_a_chinese_translation() -> None:
    """Not only every marked template: every template a formula error is really made of (a
    part built from an unmarked string would stay English in a Chinese sentence)."""
    chinese = _catalogue("zh_CN")
    used: set[str] = set()
    for source in [*FORMULA_ENGLISH, *FORMULA_MORE]:
        for sql in (False, True):
            try:
                check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal", need_sql=sql)
            except ExpressionErrors as errors:
                for error in errors.errors:
                    used |= _templates(error.phrase)
                    english, zh = i18n.error_text(error, "en"), i18n.error_text(error, "zh-CN")
                    # the English reader's sentence is the message, a field named by its label
                    assert _unnamed(english) == _unnamed(error.message)
                    assert zh != english and re.search(r"[\u4e00-\u9fff]", zh), zh
    assert len(used) > 60
    assert sorted(t for t in used if not chinese.get(t)) == []


def test_a_filter_operator_is_named_as_the_filter_editor_names_it() -> None:
    """A view's filter whose operator does not fit its field's type is told with the
    operator's name in the reader's language, not its key (``starts_with``)."""
    doc = tweak(
        SALES, lambda d: d["entities"][1]["views"][2]["filters"][0].update(op="starts_with")
    )
    (error,) = validate(doc)
    assert error.code == "bad_operator"
    assert error.message == "“starts with” cannot filter fields of type “Single choice”"
    assert i18n.error_text(error, "zh-CN") == "“开头是”不能用于筛选“单选”类型的字段"


def test_the_parts_of_a_sentence_are_translated_before_it_is_filled() -> None:
    name = Phrase("`%(code)s`", code="qty")
    subject = Phrase("%(what)s is %(type)s", what=name, type=Phrase("a number"))
    other = Phrase("the text %(text)s", text=Phrase('"%(text)s"', text="many"))
    template = "%(subject)s; it cannot be compared with %(other)s"
    sentence = Phrase(template, subject=subject, other=other)
    assert str(sentence) == '`qty` is a number; it cannot be compared with the text "many"'
    assert i18n.error_text(sentence, "zh-CN") == "“qty”是数字；不能与文本“many”比较"
    assert i18n.error_text(sentence, "en") == str(sentence)
    kinds = Listing([Phrase("a date"), Phrase("a number")])
    results = Phrase(
        "the results of %(name)s must have one type; they are %(kinds)s", name="IF", kinds=kinds
    )
    assert str(results) == "the results of IF must have one type; they are a date, a number"
    assert i18n.error_text(results, "zh-CN") == (
        "IF 的各个结果必须是同一种类型，现在分别是日期、数字"
    )
    # a translation that does not fit its params falls back to the English sentence
    broken = Phrase("%(subject)s; only numbers can be negated", other=subject)
    assert i18n.error_text(broken, "zh-CN") == str(broken)


def _formula_error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionErrors) as info:
        check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    return info.value.errors[0]


@pytest.mark.parametrize(
    ("source", "english", "chinese"),
    [
        # labelled in both languages: each reader reads the label of their own, in brackets
        (
            "[金额] = name",
            "[Amount] is a number; it cannot be compared with [Name], which is a text",
            "[金额]是数字；不能与[名称]（文本）比较",
        ),
        # no label at all: the key, in the quotes of the reader's language
        ("NOT qty", "NOT needs yes/no values; `qty` is a number", "NOT 需要“是/否”值；“qty”是数字"),
        # an English label only: a Chinese reader gets the key, not another language's label
        (
            "NOT discount",
            "NOT needs yes/no values; [Discount] is a decimal number",
            "NOT 需要“是/否”值；“discount”是小数",
        ),
        # a path: each step by its label where it has one in that language
        (
            "account.industry + 1",
            "[Account].[Industry] is a choice; it cannot be added to a number; use & to join texts",
            "“account.[行业]”是单选值；不能与数字相加；连接文本请使用 &",
        ),
    ],
)
def test_a_formula_error_names_fields_as_the_reader_writes_them(
    source: str, english: str, chinese: str
) -> None:
    error = _formula_error(source)
    assert i18n.error_text(error, "en") == english
    assert i18n.error_text(error, "zh-CN") == chinese
    assert "[" not in error.message  # logs and the CLI keep the keys
