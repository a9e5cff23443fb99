"""Problem messages speak the caller's language: the token user's locale, else Accept-Language.

Titles, details and messages are translated; field paths and codes are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask

from tessera.platform.models import User
from tests.platform.api.conftest import Api, Token

BAD_ITEM = {"qty": 5_000_000, "active": "maybe"}


def _problem(
    app: Flask, token: str, body: object = BAD_ITEM, headers: dict[str, str] | None = None
) -> dict[str, object]:
    response = Api(app.test_client(), token).post("/item", body, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    return dict(response.get_json())


def _by_path(problem: dict[str, object]) -> dict[str, tuple[str, str]]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    return {e["path"]: (e["message"], e["code"]) for e in errors}


def test_a_validation_error_in_chinese_and_in_english(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    zh_token = token_for(user_factory(locale="zh-CN"))
    en_token = token_for(user_factory(locale="en"))
    chinese, english = _problem(app, zh_token), _problem(app, en_token)
    assert chinese["title"] == "值无效" and english["title"] == "Invalid values"
    zh, en = _by_path(chinese), _by_path(english)
    assert set(zh) == set(en) == {"qty", "active"}  # paths unchanged
    assert {p: c for p, (_, c) in zh.items()} == {p: c for p, (_, c) in en.items()}
    assert en["qty"][0].startswith("“5000000” is out of range")
    assert zh["qty"][0].startswith("“5000000”超出范围：必须在 0 和 1")
    assert en["active"][0] == "“maybe” is not yes or no"
    assert zh["active"][0] == "“maybe”不是“是”或“否”"
    assert "qty: “5000000”超出范围" in str(chinese["detail"])
    missing = {"qty": 1}
    assert _by_path(_problem(app, zh_token, missing)) == {"name": ("“名称”为必填项", "required")}
    assert _by_path(_problem(app, en_token, missing)) == {
        "name": ("“Name” is required", "required")
    }


def test_the_users_locale_wins_over_accept_language(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    problem = _problem(
        app, token_for(user_factory(locale="en")), headers={"Accept-Language": "zh-CN"}
    )
    assert problem["title"] == "Invalid values"


def test_without_a_token_the_browser_language_is_used(kit: object, app: Flask) -> None:
    client = app.test_client()
    response = client.get("/api/v1/apps/kit/item", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 401
    assert response.get_json()["title"] == "需要身份验证"
    english = client.get("/api/v1/apps/kit/item", headers={"Accept-Language": "en-GB"})
    assert english.get_json()["title"] == "Authentication required"


#: one bad value per field type, with the English and Chinese message each must produce; the
#: value the caller sent is kept as it was in both languages
BAD_VALUES = {
    "qty": ("abc", "“abc” is not a whole number", "“abc”不是整数"),
    "due": (
        "31/31/2026",
        "“31/31/2026” is not a date; write it like 2024-03-05",
        "“31/31/2026”不是日期；请写成 2024-03-05 的形式",
    ),
    "stage": (
        "lost",
        "“lost” is not one of the options: New, Won, On hold",
        "“lost”不在选项中：新建、赢单、On hold",  # by the labels the caller reads
    ),
    "code": (
        "x" * 300,
        "this text is too long: at most 255 characters",
        "文本过长：最多 255 个字符",
    ),
    # ``item`` has no label: it is named by its key read as words, in either language
    "bogus": (1, "“Item” has no field “bogus”", "“Item”没有字段“bogus”"),
    # Not among the sentences the API used to recognise by regular expression: these stayed
    # English before the messages carried their template.
    "effort": (
        "lots",
        "“lots” is not a duration; write it like 1:30 or 2h 15m",
        "“lots”不是时长；请写成 1:30 或 2h 15m 的形式",
    ),
    "stars": (
        9,
        "a rating is between 0 and 5; “9” is not",
        "评分必须在 0 到 5 之间；“9”不在此范围内",
    ),
}


def test_every_field_types_message_is_translated_with_its_value_kept(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    body = {"name": "ok", **{key: value for key, (value, _en, _zh) in BAD_VALUES.items()}}
    zh = _by_path(_problem(app, token_for(user_factory(locale="zh-CN")), body))
    en = _by_path(_problem(app, token_for(user_factory(locale="en")), body))
    assert {path: message for path, (message, _code) in en.items()} == {
        key: english for key, (_value, english, _zh) in BAD_VALUES.items()
    }
    assert {path: message for path, (message, _code) in zh.items()} == {
        key: chinese for key, (_value, _en, chinese) in BAD_VALUES.items()
    }
    assert zh["bogus"][1] == en["bogus"][1] == "unknown_field"


def test_required_and_too_long_text_in_chinese(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    zh_token = token_for(user_factory(locale="zh-CN"))
    assert _by_path(_problem(app, zh_token, {"name": "n" * 81})) == {
        "name": ("文本过长：最多 80 个字符", "invalid")
    }
    assert _by_path(_problem(app, zh_token, {"name": ""}))["name"] == ("“名称”为必填项", "required")


def test_not_found_and_query_problems_are_translated_too(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    api = Api(app.test_client(), token_for(user_factory(locale="zh-CN")))
    missing = api.get("/item/987654")
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "不存在Item #987654"
    bad_sort = api.get("/item?sort=nothing_here").get_json()
    assert bad_sort["errors"] == [
        {
            "path": "sort[0]",
            "message": "“Item”没有可排序的字段“nothing_here”",
            "code": "unknown_field",
        }
    ]


def test_a_formula_filters_errors_are_translated_with_their_parts(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    """The sentence, the type names and the quotes of a formula error follow the caller's
    language; a field without a label (``qty``) and the text the caller wrote stay as
    written."""
    for locale, unknown, wrong_type in (
        ("zh-CN", "“item”没有字段“nmae”；您是想用“name”、“number”吗？",
         "“qty”是数字；不能与文本“many”比较"),
        ("en", "`item` has no field `nmae`; did you mean `name`, `number`?",
         '`qty` is a number; it cannot be compared with the text "many"'),
    ):  # fmt: skip
        api = Api(app.test_client(), token_for(user_factory(locale=locale)))
        for source, message, code in (
            ("nmae = 1", unknown, "formula_unknown_field"),
            ('qty > "many"', wrong_type, "formula_type"),
        ):
            response = api.get("/item", query_string={"filter": source})
            assert response.status_code == 400
            problem = response.get_json()
            assert problem["errors"] == [{"path": "filter", "message": message, "code": code}]
            assert problem["detail"] == f"filter: {message}"


def test_a_formula_filter_names_a_labelled_field_by_the_callers_label(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    """``price`` is labelled “Price”/“价格”: the problem names it as the caller would write
    it in their language, however the filter wrote it, in the ``detail`` too."""
    for locale, message in (
        ("zh-CN", "[价格]是金额；不能与文本“many”比较"),
        ("en", '[Price] is a currency amount; it cannot be compared with the text "many"'),
    ):
        api = Api(app.test_client(), token_for(user_factory(locale=locale)))
        for source in ('price > "many"', '[价格] > "many"', '[Price] > "many"'):
            problem = api.get("/item", query_string={"filter": source}).get_json()
            assert problem["errors"] == [
                {"path": "filter", "message": message, "code": "formula_type"}
            ]
            assert problem["detail"] == f"filter: {message}"


def test_a_filter_operator_that_does_not_fit_is_named_in_the_callers_language(
    kit: object, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> None:
    """The operator the caller sent by its name; those that fit by the key a JSON filter
    writes, each with its name (``eq（等于）``)."""
    api = Api(app.test_client(), token_for(user_factory(locale="zh-CN")))
    bad = json.dumps({"field": "active", "op": "gt", "value": 1})
    problem = api.get("/item", query_string={"filter": bad}).get_json()
    assert problem["errors"] == [
        {
            "path": "filter.op",
            "message": "“大于”不是“active”可用的运算符；请使用以下之一："
            "eq（等于）、ne（不等于）、is_empty（为空）、is_not_empty（不为空）",
            "code": "bad_operator",
        }
    ]
