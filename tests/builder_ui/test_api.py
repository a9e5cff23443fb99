"""The designers' JSON endpoints: saving drafts with errors and their paths, live checks, and
what they refuse (wrong app key, not JSON, too large, no CSRF token, not a builder)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tessera.platform import apps
from tessera.platform.runtime import Platform
from tests.builder_ui.conftest import small_app, token
from tests.conftest import Web


def post(web: Web, path: str, body: Any, *, csrf: bool = True) -> Any:
    headers = {"X-CSRFToken": token(web)} if csrf else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return web.client.post(path, data=data, headers=headers, content_type="application/json")


def test_get_draft_returns_document_and_errors(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    answer = builder.client.get("/build/shop/_/draft")
    assert answer.status_code == 200
    assert answer.json["doc"]["key"] == "shop"
    assert answer.json["errors"] == []
    assert answer.json["published_version"] is None


def test_save_draft_keeps_invalid_draft_and_answers_paths(
    builder: Web, make_app: Callable[..., str], platform: Platform
) -> None:
    make_app()
    doc = small_app()
    doc["entities"][0]["fields"][1]["options"] = []  # a select needs options
    doc["entities"][0]["form"]["sections"][0]["fields"].append("nowhere")
    answer = post(builder, "/build/shop/_/draft", {"doc": doc})
    assert answer.status_code == 200
    paths = {e["json_path"] for e in answer.json["errors"]}
    assert "$.entities[0].fields[1].options" in paths
    error = next(e for e in answer.json["errors"] if e["json_path"].endswith("options"))
    assert error["path"] == ["entities", 0, "fields", 1, "options"]
    with platform.db.engine.connect() as conn:
        assert apps.draft(conn, "shop")["entities"][0]["fields"][1]["options"] == []


def test_save_draft_semantic_error_points_at_placement(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    doc = small_app()
    doc["entities"][0]["form"]["sections"][1]["fields"].append("nowhere")
    answer = post(builder, "/build/shop/_/draft", {"doc": doc})
    assert [e["json_path"] for e in answer.json["errors"]] == [
        "$.entities[0].form.sections[1].fields[1]"
    ]


def test_save_draft_refuses_another_app_key(
    builder: Web, make_app: Callable[..., str], platform: Platform
) -> None:
    make_app()
    answer = post(builder, "/build/shop/_/draft", {"doc": small_app("other")})
    assert answer.status_code == 400
    assert "key cannot change" in answer.json["message"]
    with platform.db.engine.connect() as conn:
        assert apps.draft(conn, "shop")["key"] == "shop"


def test_save_draft_refuses_what_is_not_a_json_object(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    for body in ("{not json", "[1, 2]", '"text"', json.dumps({"doc": [1]}), json.dumps({})):
        answer = post(builder, "/build/shop/_/draft", body)
        assert answer.status_code == 400, body
        assert answer.json["error"] == "bad_request"


def test_save_draft_refuses_a_huge_body(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    doc = small_app()
    doc["description"] = "x" * (3 * 1024 * 1024)
    answer = post(builder, "/build/shop/_/draft", {"doc": doc})
    assert answer.status_code == 413


def test_save_draft_needs_the_csrf_token(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    answer = post(builder, "/build/shop/_/draft", {"doc": small_app()}, csrf=False)
    assert answer.status_code == 403


def test_unknown_app_is_404(builder: Web) -> None:
    assert builder.client.get("/build/nothing/_/draft").status_code == 404
    assert post(builder, "/build/nothing/_/draft", {"doc": small_app("nothing")}).status_code == 404


def test_members_get_403_and_strangers_sign_in(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    make_app()
    assert web.client.get("/build/shop/_/draft").status_code == 302
    member = user_factory(platform_role="member")
    web.sign_in(member.email)
    for path in (
        "/build/",
        "/build/shop/",
        "/build/shop/_/draft",
        "/build/shop/publish",
        "/build/shop/history",
        "/build/shop/entities/order",
    ):
        assert web.client.get(path).status_code == 403, path
    csrf = web.csrf("/profile")
    answer = web.client.post(
        "/build/shop/_/draft",
        data=json.dumps({"doc": small_app()}),
        headers={"X-CSRFToken": csrf},
        content_type="application/json",
    )
    assert answer.status_code == 403


def test_system_admins_may_build(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    make_app()
    admin = user_factory(platform_role="system_admin")
    web.sign_in(admin.email)
    assert web.client.get("/build/shop/_/draft").status_code == 200


def test_check_formula_live(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    doc = small_app()
    good = post(
        builder,
        "/build/shop/_/check",
        {"doc": doc, "entity": "order", "source": "hours * 80", "kind": "formula"},
    )
    assert good.json["ok"] is True
    assert good.json["checked"] is True
    bad = post(
        builder,
        "/build/shop/_/check",
        {"doc": doc, "entity": "order", "source": "hours * nope", "kind": "formula"},
    )
    assert bad.json["ok"] is False
    assert bad.json["errors"][0]["start"] == 8
    condition = post(
        builder,
        "/build/shop/_/check",
        {"doc": doc, "entity": "order", "source": "hours + 1", "kind": "condition"},
    )
    assert condition.json["ok"] is False
    assert "yes or no" in condition.json["errors"][0]["message"]


def test_check_formula_rejects_escapes_and_bad_input(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    doc = small_app()
    for source in ("().__class__.__bases__[0]", "f.__globals__", '"{0.__class__}".format(x)'):
        answer = post(
            builder, "/build/shop/_/check", {"doc": doc, "entity": "order", "source": source}
        )
        assert answer.status_code == 200
        assert answer.json["ok"] is False, source
    assert (
        post(builder, "/build/shop/_/check", {"doc": doc, "entity": 1, "source": "1"}).status_code
        == 400
    )
    long = post(
        builder, "/build/shop/_/check", {"doc": doc, "entity": "order", "source": "1+" * 3000}
    )
    assert long.json["ok"] is False


def test_conditions_follow_the_values_typed_in_the_preview(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    doc = small_app()
    body = {"doc": doc, "entity": "order", "values": {"status": "open"}}
    assert post(builder, "/build/shop/_/conditions", body).json["fields"] == {"due": True}
    body["values"] = {"status": "closed"}
    assert post(builder, "/build/shop/_/conditions", body).json["fields"] == {"due": False}
    body["values"] = {"status": "<script>", "hours": "not a number"}
    assert post(builder, "/build/shop/_/conditions", body).json["fields"] == {"due": False}


def test_preview_gives_plan_or_errors(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    answer = post(builder, "/build/shop/_/preview", {})
    assert answer.json["errors"] == []
    assert answer.json["version"] == 1
    assert any("x_shop__order" in step for step in answer.json["plan"])


def test_formula_checks_speak_the_builders_language(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    """A Chinese builder reads the live check and the draft's formula errors in Chinese: the
    sentence, the types and the quoted names; keys of fields without a label stay as they are
    written (labelled fields: ``test_formula_errors_name_a_field_by_the_builders_label``)."""
    make_app()
    web.sign_in(user_factory(platform_role="app_builder", locale="zh-CN").email)
    doc = small_app()

    def check(source: str, kind: str = "formula", result: str = "number") -> Any:
        body = {"doc": doc, "entity": "order", "source": source, "kind": kind, "result": result}
        return post(web, "/build/shop/_/check", body).json

    assert check("hours * 80")["type"] == "小数"
    unknown = check("hours * nope")["errors"][0]
    assert (unknown["message"], unknown["code"]) == ("“order”没有字段“nope”", "unknown_field")
    assert check('"x" * hours')["errors"][0]["message"] == "“x”是文本；不能乘以“hours”（小数）"
    assert check("hours + 1", kind="condition")["errors"][0]["message"] == (
        "结果为小数，但需要“是”或“否”"
    )
    assert check('name & "!"')["errors"][0]["message"] == "结果为文本，但需要数字"
    assert check("1 +")["errors"][0]["message"] == "此处应为值、字段或函数，实际为公式结尾"
    long = check("1+" * 3000)["errors"][0]["message"]
    assert long == "公式最多 4000 个字符"

    doc["entities"][0]["fields"].append(
        {"key": "total", "type": "formula", "formula": "1 + -name", "result": "number"}
    )
    saved = post(web, "/build/shop/_/draft", {"doc": doc}).json
    (error,) = [e for e in saved["errors"] if e["code"].startswith("formula_")]
    assert error["message"] == "“name”是文本；只有数字可以取负（第 5 个字符处）"
    assert error["json_path"] == "$.entities[0].fields[4].formula"


def test_definition_errors_speak_the_builders_language(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    """The draft's other errors (the schema's and the semantic rules') reach a Chinese builder
    in Chinese too, with the keys quoted as they are written."""
    make_app()
    web.sign_in(user_factory(platform_role="app_builder", locale="zh-CN").email)
    doc = small_app()
    doc["entities"][0]["fields"] += [
        {"key": "created_at", "type": "date"},
        {"key": "customer", "type": "link", "entity": "company"},
    ]
    saved = post(web, "/build/shop/_/draft", {"doc": doc}).json
    messages = {e["json_path"]: (e["code"], e["message"]) for e in saved["errors"]}
    assert messages == {
        "$.entities[0].fields[4].key": ("reserved_key", "“created_at”是系统字段；请换一个标识"),
        "$.entities[0].fields[5].entity": ("unknown_entity", "要关联的实体“company”不存在"),
    }

    doc = small_app()
    doc["entities"][0]["fields"][0]["key"] = "Name"
    doc["entities"][0]["views"] = "all"
    saved = post(web, "/build/shop/_/draft", {"doc": doc}).json
    messages = {e["json_path"]: e["message"] for e in saved["errors"]}
    assert messages["$.entities[0].fields[0].key"] == (
        "“Name”不是有效的标识：请使用小写字母、数字和单个下划线，并以字母开头"
    )
    assert messages["$.entities[0].views"] == "此项必须为列表"


def _with_a_field_of_type(kind: str, **settings: Any) -> dict[str, Any]:
    """The small app with a unique field of type ``kind`` as the order's title (which a
    multi link or a child table cannot be)."""
    doc = small_app()
    doc["entities"][0]["fields"].append({"key": "other", "type": kind, **settings})
    doc["entities"][0]["fields"][-1]["unique"] = True
    doc["entities"][0]["title"] = "other"
    return doc


def test_definition_errors_name_field_types_in_the_builders_language(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    """A message about a field type names it as the palette does, in Chinese for a Chinese
    builder (“多项关联”), never by its key (``multi_link``)."""
    make_app()
    web.sign_in(user_factory(platform_role="app_builder", locale="zh-CN").email)
    doc = _with_a_field_of_type("multi_link", entity="order")
    saved = post(web, "/build/shop/_/draft", {"doc": doc}).json
    messages = {e["json_path"]: (e["code"], e["message"]) for e in saved["errors"]}
    assert messages == {
        "$.entities[0].fields[4].unique": ("not_indexable", "“多项关联”类型的字段不能设为唯一"),
        "$.entities[0].title": ("bad_title", "“other”不能作为标题：它是“多项关联”类型的字段"),
    }


def test_definition_errors_name_field_types_in_english_for_an_english_builder(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    doc = _with_a_field_of_type("child_table", entity="order")
    doc["entities"][0]["fields"][-1].pop("unique")
    (error, *_others) = post(builder, "/build/shop/_/draft", {"doc": doc}).json["errors"]
    assert error["message"] == "“other” cannot be the title: its type is “Child table”"


def test_definition_errors_stay_english_for_an_english_builder(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    doc = small_app()
    doc["entities"][0]["fields"].append({"key": "created_at", "type": "date"})
    (error,) = post(builder, "/build/shop/_/draft", {"doc": doc}).json["errors"]
    assert error["message"] == "“created_at” is a system field; choose another key"


def test_formula_checks_stay_english_for_an_english_builder(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    body = {"doc": small_app(), "entity": "order", "source": '"x" * hours'}
    answer = post(builder, "/build/shop/_/check", body).json
    assert answer["errors"][0]["message"] == (
        '"x" is a text; it cannot be multiplied by `hours`, which is a decimal number'
    )
    body["source"] = "hours * 2"
    assert post(builder, "/build/shop/_/check", body).json["type"] == "a decimal number"


def test_formula_errors_name_a_field_by_the_builders_label(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    """A field with a label is named as the builder writes it, ``[工时]`` in Chinese and
    ``[Hours]`` in English, whichever way the formula was typed; one without a label in the
    builder's language keeps its key."""
    make_app()
    doc = small_app()
    doc["entities"][0]["fields"][3]["label"] = {"en": "Hours", "zh-CN": "工时"}
    doc["entities"][0]["fields"][0]["label"] = {"en": "Name"}
    doc["entities"][0]["fields"].append(
        {"key": "total", "type": "formula", "formula": "1 + -[Name]", "result": "number"}
    )
    for locale, typed, by_label, without in (
        ("zh-CN", '"x" * [工时]', "“x”是文本；不能乘以[工时]（小数）",
         "“name”是文本；只有数字可以取负（第 5 个字符处）"),
        ("en", '"x" * hours', '"x" is a text; it cannot be multiplied by [Hours], '
         "which is a decimal number",
         "[Name] is a text; only numbers can be negated (at character 5)"),
    ):  # fmt: skip
        web.sign_in(user_factory(platform_role="app_builder", locale=locale).email)
        body = {"doc": doc, "entity": "order", "source": typed, "kind": "formula"}
        (error,) = post(web, "/build/shop/_/check", body).json["errors"]
        assert error["message"] == by_label
        saved = post(web, "/build/shop/_/draft", {"doc": doc}).json
        (error,) = [e for e in saved["errors"] if e["code"].startswith("formula_")]
        assert error["message"] == without
        web.sign_out()
