"""The builder's pages through the Flask test client: the app manager (create, install,
export, import), the designers, publishing (refusing destructive steps without confirmation)
and history with rollback."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions.fields import FIELD_TYPES
from tessera.platform import apps, i18n
from tessera.platform.runtime import Platform
from tests.builder_ui.conftest import small_app
from tests.conftest import Web


def test_manager_lists_apps_and_templates(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    page = builder.client.get("/build/").get_data(as_text=True)
    assert 'data-app="shop"' in page
    assert 'name="template" value="crm"' in page


def test_create_app_makes_a_valid_draft(builder: Web, platform: Platform) -> None:
    form = {
        "label_en": "Orders",
        "label_zh-CN": "订单管理",
        "key": "orders",
        "entity_label_en": "Order",
        "entity_key": "order",
    }
    answer = builder.post("/build/new", form, token_from="/build/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/build/orders/entities/order")
    with platform.db.engine.connect() as conn:
        doc = apps.draft(conn, "orders")
    assert doc["label"] == {"en": "Orders", "zh-CN": "订单管理"}
    assert doc["entities"][0]["fields"][0]["key"] == "name"
    assert builder.client.get("/build/orders/entities/order").status_code == 200
    assert builder.client.get("/build/orders/entities/order/views").status_code == 200
    assert builder.client.get("/build/orders/").status_code == 200


def test_create_app_shows_errors_next_to_the_fields(
    builder: Web, make_app: Callable[..., str]
) -> None:
    make_app()
    bad = builder.post(
        "/build/new",
        {"label_en": "X", "key": "Bad Key!", "entity_key": "order"},
        token_from="/build/",
    )
    assert bad.status_code == 400
    assert 'id="key-error"' in bad.get_data(as_text=True)
    taken = builder.post(
        "/build/new", {"label_en": "X", "key": "shop", "entity_key": "order"}, token_from="/build/"
    )
    assert taken.status_code == 400
    assert "exists already" in taken.get_data(as_text=True)


def _builder_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="builder-data">(.*?)</script>', page)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


PALETTE_ORDER = [
    ("文本", ["text", "long_text", "rich_text", "email", "phone", "url"]),
    ("数字", ["integer", "decimal", "currency", "percent", "rating", "duration"]),
    ("选项", ["select", "multi_select", "boolean"]),
    ("日期", ["date", "datetime", "time"]),
    ("关联关系", ["link", "multi_link", "child_table", "user", "department"]),
    ("计算字段", ["formula", "rollup", "lookup", "auto_number"]),
    ("文件及其他", ["attachment", "image", "location", "json"]),
]


def test_the_palette_names_every_field_type_in_the_builders_language(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    """The form designer's palette lists every field type once, in its group and order,
    named by the type itself (``display_name``) in the builder's language, with the name in
    every locale as a new field's label; the draft's errors on the page name types the same
    way."""
    make_app()
    web.sign_in(user_factory(platform_role="app_builder", locale="zh-CN").email)
    doc = small_app()
    doc["entities"][0]["fields"].append({"key": "lines", "type": "multi_link", "entity": "order"})
    doc["entities"][0]["indexes"] = [{"fields": ["lines"]}]
    saved = web.client.post(
        "/build/shop/_/draft",
        data=json.dumps({"doc": doc}),
        headers={"X-CSRFToken": web.csrf("/build/")},
        content_type="application/json",
    )
    assert saved.status_code == 200
    data = _builder_data(web.client.get("/build/shop/entities/order").get_data(as_text=True))
    palette = data["palette"]
    assert [(g["name"], [t["type"] for t in g["types"]]) for g in palette] == PALETTE_ORDER
    types = {t["type"]: t for g in palette for t in g["types"]}
    assert sorted(types) == sorted(FIELD_TYPES)
    chinese = i18n.catalogue("zh-CN")
    for key, entry in types.items():
        name = FIELD_TYPES[key].display_name
        assert set(entry) == {"type", "name", "label", "mark", "computed"}
        assert entry["name"] == chinese.gettext(name) != name, key  # every name translated
        assert entry["label"] == {"en": name, "zh-CN": entry["name"]}
        assert entry["computed"] is FIELD_TYPES[key].computed
    assert types["multi_link"]["label"] == {"en": "Multiple links", "zh-CN": "多项关联"}
    assert types["integer"]["name"] == "整数" and types["boolean"]["mark"] == "✓"
    assert [e["message"] for e in data["errors"]] == ["“多项关联”类型的字段不能建立索引"]


def test_unknown_entity_or_app_is_404(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    assert builder.client.get("/build/shop/entities/nothing").status_code == 404
    assert builder.client.get("/build/nothing/").status_code == 404
    assert builder.client.get("/build/shop/history/9/rollback").status_code == 404


def test_publish_refuses_destructive_steps_without_confirmation(
    builder: Web, make_app: Callable[..., str], platform: Platform
) -> None:
    make_app(publish=True)
    doc = small_app()
    doc["entities"][0]["fields"] = [f for f in doc["entities"][0]["fields"] if f["key"] != "hours"]
    doc["entities"][0]["form"]["sections"][1]["fields"] = ["name"]
    doc["entities"][0]["form"]["sections"][0]["fields"].remove("name")
    with platform.db.engine.begin() as conn:
        assert apps.save_draft(conn, "shop", doc) == []
    page = builder.client.get("/build/shop/publish").get_data(as_text=True)
    assert 'id="confirm-destructive"' in page and "data-destructive" in page
    refused = builder.post("/build/shop/publish", {}, token_from="/build/shop/publish")
    assert refused.status_code == 409
    with platform.db.engine.connect() as conn:
        assert apps.history(conn, "shop")[-1]["version"] == 1
    done = builder.post(
        "/build/shop/publish", {"confirm_destructive": "yes"}, token_from="/build/shop/publish"
    )
    assert done.status_code == 302
    with platform.db.engine.connect() as conn:
        assert apps.history(conn, "shop")[-1]["version"] == 2
    history = builder.client.get("/build/shop/history").get_data(as_text=True)
    assert 'data-version="2"' in history
    rollback = builder.client.get("/build/shop/history/1/rollback")
    assert rollback.status_code == 200
    back = builder.post(
        "/build/shop/history/1/rollback", {}, token_from="/build/shop/history/1/rollback"
    )
    assert back.status_code == 302
    with platform.db.engine.connect() as conn:
        assert apps.history(conn, "shop")[-1]["version"] == 3
        assert any(f["key"] == "hours" for f in apps.draft(conn, "shop")["entities"][0]["fields"])


def test_publish_page_lists_errors_and_refuses(
    builder: Web, make_app: Callable[..., str], platform: Platform
) -> None:
    make_app()
    doc = small_app()
    doc["entities"][0]["title"] = "nothing"
    with platform.db.engine.begin() as conn:
        apps.save_draft(conn, "shop", doc)
    page = builder.client.get("/build/shop/publish").get_data(as_text=True)
    assert "$.entities[0].title" in page
    answer = builder.post("/build/shop/publish", {}, token_from="/build/shop/")
    assert answer.status_code == 400


def test_publish_needs_csrf(builder: Web, make_app: Callable[..., str]) -> None:
    make_app()
    assert builder.client.post("/build/shop/publish", data={}).status_code == 403


def test_export_and_import_round_trip(
    builder: Web, make_app: Callable[..., str], platform: Platform
) -> None:
    make_app(publish=True)
    exported = builder.client.get("/build/shop/export?data=1")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    document = json.loads(exported.get_data())
    with platform.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM apps WHERE key = 'shop'"))
        for table in ("x_shop__order",):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    csrf = builder.csrf("/build/")
    upload = {"csrf_token": csrf, "file": (io.BytesIO(json.dumps(document).encode()), "shop.json")}
    answer = builder.client.post("/build/import", data=upload, content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert answer.headers["Location"].endswith("/build/shop/")


def test_import_refuses_what_is_not_an_export(builder: Web) -> None:
    for content in (b"\xff\xfe not utf-8", b"{nope", json.dumps({"format": "x"}).encode()):
        csrf = builder.csrf("/build/")
        upload = {"csrf_token": csrf, "file": (io.BytesIO(content), "x.json")}
        answer = builder.client.post(
            "/build/import", data=upload, content_type="multipart/form-data"
        )
        assert answer.status_code == 302
        assert "could not be imported" in builder.client.get("/build/").get_data(as_text=True)


def test_install_template(builder: Web, platform: Platform) -> None:
    answer = builder.post("/build/install", {"template": "crm"}, token_from="/build/")
    assert answer.status_code == 302
    with platform.db.engine.connect() as conn:
        assert apps.history(conn, "crm")[0]["note"] == "installed"
    assert (
        builder.post("/build/install", {"template": "../etc"}, token_from="/build/").status_code
        == 400
    )
