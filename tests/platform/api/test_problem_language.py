"""Problem messages speak the caller's language: the token user's locale, else Accept-Language.

Titles, details and messages are translated; field paths and codes are not.
"""

from __future__ import annotations

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
    assert _by_path(_problem(app, zh_token, missing)) == {"name": ("“Name”为必填项", "required")}
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
