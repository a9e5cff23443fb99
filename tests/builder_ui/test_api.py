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
