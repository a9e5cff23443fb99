"""Who may build which app: ``permissions.may_build`` guards every builder page and endpoint.

An app whose roles name none with ``build_app`` is every app builder's; once a role says
``build_app``, only its holders (and system administrators) may view, save, publish, roll back
or export it, whatever their platform role; anyone else gets 403 on every route.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tessera.platform import apps
from tessera.platform.runtime import Platform
from tests.builder_ui.conftest import small_app
from tests.conftest import Web
from tests.platform.factories import install


def guarded_app() -> dict[str, Any]:
    doc = small_app("guarded")
    doc["roles"] = [
        {"key": "shop_designer", "label": "Designer", "build_app": True,
         "entities": {"order": {"read": "all"}}},
        {"key": "shop_clerk", "label": "Clerk", "entities": {"order": {"read": "own"}}},
    ]  # fmt: skip
    return doc


@pytest.fixture
def guarded(platform: Platform) -> dict[str, int]:
    """The app ``guarded`` published as version 1, and the ids of its two roles."""
    return install(platform, guarded_app())


#: (method, path) of every builder route of one app
ROUTES = [
    ("GET", "/build/guarded/"),
    ("GET", "/build/guarded/entities/order"),
    ("GET", "/build/guarded/entities/order/views"),
    ("GET", "/build/guarded/_/draft"),
    ("POST", "/build/guarded/_/draft"),
    ("POST", "/build/guarded/_/check"),
    ("POST", "/build/guarded/_/conditions"),
    ("POST", "/build/guarded/_/preview"),
    ("GET", "/build/guarded/publish"),
    ("POST", "/build/guarded/publish"),
    ("GET", "/build/guarded/history"),
    ("GET", "/build/guarded/history/1/rollback"),
    ("POST", "/build/guarded/history/1/rollback"),
    ("GET", "/build/guarded/export"),
    ("GET", "/build/guarded/export?data=1"),
]


def call(web: Web, method: str, path: str) -> Any:
    if method == "GET":
        return web.client.get(path)
    body = {"doc": guarded_app(), "entity": "order", "source": "1", "values": {}}
    return web.client.post(
        path,
        data=json.dumps(body),
        headers={"X-CSRFToken": web.csrf("/profile")},
        content_type="application/json",
    )


def test_app_builders_without_the_role_get_403_everywhere(
    guarded: dict[str, int], web: Web, user_factory: Callable[..., Any], platform: Platform
) -> None:
    builder = user_factory(platform_role="app_builder", roles=[guarded["shop_clerk"]])
    web.sign_in(builder.email)
    for method, path in ROUTES:
        answer = call(web, method, path)
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert "Order" not in answer.get_data(as_text=True) or method == "POST"
    listed = web.client.get("/build/").get_data(as_text=True)
    assert 'data-app="guarded"' not in listed
    with platform.db.engine.connect() as conn:
        assert apps.draft(conn, "guarded") == apps.version_definition(conn, "guarded", 1)


def test_members_holding_a_build_role_may_build_that_app_only(
    guarded: dict[str, int],
    web: Web,
    user_factory: Callable[..., Any],
    make_app: Callable[..., str],
) -> None:
    make_app(publish=True)  # "shop": no build role, so app builders only
    member = user_factory(platform_role="member", roles=[guarded["shop_designer"]])
    web.sign_in(member.email)
    for path in ("/build/guarded/", "/build/guarded/_/draft", "/build/guarded/history",
                 "/build/guarded/publish", "/build/guarded/export"):  # fmt: skip
        assert web.client.get(path).status_code == 200, path
    saved = call(web, "POST", "/build/guarded/_/draft")
    assert saved.status_code == 200 and saved.json["saved"] is True
    manager = web.client.get("/build/")
    assert manager.status_code == 200
    page = manager.get_data(as_text=True)
    assert 'data-app="guarded"' in page and 'data-app="shop"' not in page
    assert 'id="create-form"' not in page  # creating apps stays the app builders' right
    assert web.client.get("/build/shop/").status_code == 403
    created = web.post("/build/new", {"key": "mine", "entity_key": "x"}, token_from="/profile")
    assert created.status_code == 403


def test_members_without_build_rights_and_admins(
    guarded: dict[str, int], web: Web, other_web: Web, user_factory: Callable[..., Any]
) -> None:
    clerk = user_factory(platform_role="member", roles=[guarded["shop_clerk"]])
    web.sign_in(clerk.email)
    assert web.client.get("/build/").status_code == 403
    for method, path in ROUTES:
        assert call(web, method, path).status_code == 403, (method, path)
    admin = user_factory(platform_role="system_admin")
    other_web.sign_in(admin.email)
    for path in ("/build/guarded/", "/build/guarded/_/draft", "/build/guarded/history"):
        assert other_web.client.get(path).status_code == 200, path
    assert 'data-app="guarded"' in other_web.client.get("/build/").get_data(as_text=True)


def test_open_apps_stay_every_app_builders(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    make_app(publish=True)
    builder = user_factory(platform_role="app_builder")
    web.sign_in(builder.email)
    assert web.client.get("/build/shop/").status_code == 200
    assert web.client.get("/build/nosuch/").status_code == 404
