"""The publish preview, the rollback preview and the version history speak the builder's
language: a Chinese builder reads every step and change in Chinese with the entities and fields
named by their Chinese labels, and a version stored before plans kept their phrases still
shows its English lines."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tessera.platform import apps
from tessera.platform.models import App, AppVersion
from tessera.platform.runtime import Platform
from tests.builder_ui.conftest import small_app
from tests.conftest import Web

CJK = re.compile(r"[\u4e00-\u9fff]")
#: words of the English sentences; none may be left in a Chinese one
ENGLISH = re.compile(
    r"\b(the|of|to|from|with|and|Add|Create|Drop|Remove|Change|Convert|Rename|Restore|Reorder|"
    r"field|entity|table|index|values?|kept|purged|installed|rollback)\b"
)
LABELS = {
    "name": {"en": "Name", "zh-CN": "名称"},
    "status": {"en": "Status", "zh-CN": "状态"},
    "due": {"en": "Due", "zh-CN": "截止日期"},
    "hours": {"en": "Hours", "zh-CN": "工时"},
}


def labelled_app() -> dict[str, Any]:
    doc = small_app()
    for field in doc["entities"][0]["fields"]:
        field["label"] = LABELS[field["key"]]
    return doc


def second_version(doc: dict[str, Any]) -> dict[str, Any]:
    """Drop “due” (can lose data), relabel “hours”, make “status” a multiple choice with one
    more option, add a labelled field."""
    order = doc["entities"][0]
    order["fields"] = [f for f in order["fields"] if f["key"] != "due"]
    order["form"]["sections"][0]["fields"] = ["name", "status"]
    hours = next(f for f in order["fields"] if f["key"] == "hours")
    hours["label"] = {"en": "Work hours", "zh-CN": "工作时长"}
    order["fields"].append(
        {"key": "note", "type": "long_text", "label": {"en": "Note", "zh-CN": "备注"}}
    )
    order["fields"][1].update(type="multi_select", options=["open", "closed", "paused"])
    return doc


def lines(page: str, css: str) -> list[str]:
    """The text of every item of the lists with class ``css`` on ``page``."""
    found = []
    for block in re.findall(rf'<(?:ol|ul) class="{css}">(.*?)</(?:ol|ul)>', page, re.S):
        for item in re.findall(r"<li[^>]*>(.*?)</li>", block, re.S):
            found.append(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()))
    return found


def assert_chinese(texts: list[str]) -> None:
    assert texts
    for text in texts:
        assert CJK.search(text), text
        assert not ENGLISH.search(text), text


def chinese_builder(web: Web, user_factory: Callable[..., Any]) -> Web:
    web.sign_in(user_factory(platform_role="app_builder", locale="zh-CN").email)
    return web


def test_publish_preview_history_and_rollback_speak_chinese(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str], platform: Platform
) -> None:
    builder = chinese_builder(web, user_factory)
    make_app(labelled_app())
    first = builder.client.get("/build/shop/publish").get_data(as_text=True)
    steps = lines(first, "plan-list")
    assert_chinese(steps)
    assert "创建数据表：实体“订单”（x_shop__order）" in steps

    assert builder.post("/build/shop/publish", {}).status_code == 302
    with platform.db.engine.begin() as conn:
        assert apps.save_draft(conn, "shop", second_version(labelled_app())) == []
    page = builder.client.get("/build/shop/publish").get_data(as_text=True)
    steps, changes = lines(page, "plan-list"), lines(page, "change-list")
    assert_chinese(steps)
    assert_chinese(changes)
    assert (
        "可能丢失数据 移除“订单”的字段“截止日期”：其值保留在列 _trash_due_v2 中，"
        "在清空回收站之前一直保留" in steps
    )
    assert (
        "将“订单”的字段“状态”从单选转换为多选；所有值均保留（旧列保留为 _trash_status_v2）" in steps
    )
    assert "为“订单”添加多行文本字段“备注”（note）" in changes
    assert "将“订单”的字段“工时”重命名为“工作时长”" in changes
    assert "为“订单”的“状态”添加选项：paused" in changes
    assert "将“订单”的“状态”从单选类型改为多选类型" in changes
    assert 'id="confirm-destructive"' in page

    done = builder.post("/build/shop/publish", {"confirm_destructive": "yes"})
    assert done.status_code == 302
    history = builder.client.get("/build/shop/history").get_data(as_text=True)
    assert_chinese(lines(history, "plan-list"))
    assert_chinese(lines(history, "change-list"))
    assert (
        "⚠ 移除“订单”的字段“截止日期”：其值保留在列 _trash_due_v2 中，在清空回收站之前一直保留"
        in (lines(history, "plan-list"))
    )
    compared = builder.client.get("/build/shop/history?old=1&new=2").get_data(as_text=True)
    assert "为“订单”添加多行文本字段“备注”（note）" in lines(compared, "change-list")

    rollback = builder.client.get("/build/shop/history/1/rollback").get_data(as_text=True)
    steps = lines(rollback, "plan-list")
    assert_chinese(steps)
    assert "从 _trash_due_v2 恢复“订单”的字段“截止日期”及其值" in steps
    back = builder.post("/build/shop/history/1/rollback", {"confirm_destructive": "yes"})
    assert back.status_code == 302
    history = builder.client.get("/build/shop/history").get_data(as_text=True)
    assert "回滚到版本 1" in history and "rollback to version" not in history
    with platform.db.engine.connect() as conn:
        assert apps.history(conn, "shop")[-1]["note"] == "rollback to version 1"


def test_an_english_builder_still_reads_english(
    builder: Web, make_app: Callable[..., str], platform: Platform
) -> None:
    make_app(labelled_app(), publish=True)
    with platform.db.engine.begin() as conn:
        apps.save_draft(conn, "shop", second_version(labelled_app()))
    page = builder.client.get("/build/shop/publish").get_data(as_text=True)
    assert "Add the Long text field “Note” (note) to “Order”" in lines(page, "change-list")
    steps = lines(page, "plan-list")
    assert (
        "Can lose data Drop the field “Due” of “Order”: its values are kept in the column "
        "_trash_due_v2 until purged"
    ) in steps
    assert not any(CJK.search(s) for s in steps)


def test_a_version_stored_as_english_lines_still_shows(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str], platform: Platform
) -> None:
    """Versions published before plans kept their phrases hold a list of English lines (a
    destructive one starting with ⚠): the history shows them as they were written, beside
    the newer versions in the reader's language."""
    make_app(labelled_app(), publish=True)
    old_lines = [
        "Create the table for the entity “Order” (x_shop__order)",
        "⚠ Drop the field “Due” of “Order”: its values are kept in the column _trash_due_v1 "
        "until purged",
    ]
    with platform.db.engine.begin() as conn:
        app_id = conn.scalar(sa.select(App.id).where(App.key == "shop"))
        conn.execute(
            sa.update(AppVersion)
            .where(AppVersion.app_id == app_id, AppVersion.version == 1)
            .values(plan=old_lines)
        )
        assert [str(line) for line in apps.history(conn, "shop")[0]["plan"]] == old_lines
        apps.save_draft(conn, "shop", second_version(labelled_app()))
    apps.publish(platform.db.engine, "shop", confirm_destructive=True)
    builder = chinese_builder(web, user_factory)
    answer = builder.client.get("/build/shop/history")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    newer, older = re.split(r'data-version="1"', page)
    assert lines(older, "plan-list") == old_lines
    assert older.count("plan-step is-destructive") == 1
    assert "数据库步骤 (2)" in older
    assert_chinese(lines(newer, "plan-list"))


def test_refusals_reach_a_chinese_builder_in_chinese(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str], platform: Platform
) -> None:
    builder = chinese_builder(web, user_factory)
    make_app(labelled_app(), publish=True)
    renamed = labelled_app()
    renamed["entities"][0]["fields"][3]["key"] = "work_hours"
    renamed["entities"][0]["form"]["sections"][1]["fields"] = ["work_hours"]
    with platform.db.engine.begin() as conn:
        assert apps.save_draft(conn, "shop", renamed) == []
    refused = builder.post("/build/shop/publish", {}, token_from="/build/shop/publish")
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    said = "“order”的字段标识“hours”在发布后不能更改：“work_hours”会成为一个新的空字段"
    assert page.count(said) == 2  # the refusal, and the warning beside the changes
    assert "cannot change after publishing" not in page


def test_the_preview_endpoint_speaks_the_builders_language(
    web: Web, user_factory: Callable[..., Any], make_app: Callable[..., str]
) -> None:
    builder = chinese_builder(web, user_factory)
    make_app(labelled_app())
    answer = builder.client.post(
        "/build/shop/_/preview", json={}, headers={"X-CSRFToken": builder.csrf("/build/")}
    )
    assert answer.status_code == 200
    assert "创建数据表：实体“订单”（x_shop__order）" in answer.json["plan"]
    assert_chinese(answer.json["plan"])
