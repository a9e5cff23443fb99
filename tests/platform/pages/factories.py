"""A test app with every field type, and small helpers to sign in and create records."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tessera.engines.forms import Actor
from tessera.platform import apps
from tessera.platform.runtime import Platform
from tests.platform.factories import records

APP = "fieldtest"


def every_field_app() -> dict[str, Any]:
    """One entity (``deal``) holding all 31 field types, a company it links to, and a child
    table of lines; a board, a calendar and a list view; tabs, sections and live conditions."""
    return {
        "format": "tessera.app/1",
        "key": APP,
        "label": {"en": "Field test", "zh-CN": "字段测试"},
        "entities": [
            {
                "key": "company",
                "label": {"en": "Company", "zh-CN": "公司"},
                "plural_label": {"en": "Companies", "zh-CN": "公司"},
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True,
                     "label": {"en": "Name", "zh-CN": "名称"}},
                    {"key": "city", "type": "text", "label": {"en": "City", "zh-CN": "城市"}},
                ],
            },
            {
                "key": "deal",
                "label": {"en": "Deal", "zh-CN": "商机"},
                "plural_label": {"en": "Deals", "zh-CN": "商机"},
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True,
                     "label": {"en": "Name", "zh-CN": "名称"}},
                    {"key": "number", "type": "auto_number", "pattern": "D-{0000}"},
                    {"key": "stage", "type": "select", "default": "new",
                     "label": {"en": "Stage", "zh-CN": "阶段"},
                     "options": [
                         {"key": "new", "label": {"en": "New", "zh-CN": "新建"}},
                         {"key": "qualified", "label": {"en": "Qualified", "zh-CN": "已确认"}},
                         {"key": "won", "label": {"en": "Won", "zh-CN": "赢单"}},
                         {"key": "lost", "label": {"en": "Lost", "zh-CN": "丢单"}}]},
                    {"key": "tags", "type": "multi_select",
                     "options": ["hot", "cold", "vip", "key_account"],
                     "label": {"en": "Tags", "zh-CN": "标签"}},
                    {"key": "company", "type": "link", "entity": "company",
                     "label": {"en": "Company", "zh-CN": "公司"}},
                    {"key": "partners", "type": "multi_link", "entity": "company"},
                    {"key": "amount", "type": "currency", "currency": "CNY",
                     "label": {"en": "Amount", "zh-CN": "金额"}},
                    {"key": "quantity", "type": "integer", "min": 0},
                    {"key": "weight", "type": "decimal", "scale": 1},
                    {"key": "discount", "type": "percent"},
                    {"key": "signed", "type": "boolean"},
                    {"key": "close_date", "type": "date",
                     "label": {"en": "Close date", "zh-CN": "成交日期"}},
                    {"key": "meeting_at", "type": "datetime"},
                    {"key": "call_time", "type": "time"},
                    {"key": "effort", "type": "duration"},
                    {"key": "contact_email", "type": "email"},
                    {"key": "phone", "type": "phone"},
                    {"key": "website", "type": "url"},
                    {"key": "score", "type": "rating", "max": 5},
                    {"key": "rep", "type": "user"},
                    {"key": "team", "type": "department"},
                    {"key": "notes", "type": "long_text"},
                    {"key": "summary", "type": "rich_text"},
                    {"key": "lines", "type": "child_table", "entity": "deal_line"},
                    {"key": "files", "type": "attachment"},
                    {"key": "photo", "type": "image"},
                    {"key": "site", "type": "location"},
                    {"key": "total", "type": "formula", "formula": "quantity * amount",
                     "result": "currency"},
                    {"key": "line_count", "type": "rollup", "source": "lines",
                     "aggregate": "count"},
                    {"key": "company_city", "type": "lookup", "link": "company", "field": "city"},
                    {"key": "extra", "type": "json"},
                ],
                "validations": [
                    {"key": "won_needs_amount", "field": "stage",
                     "error_if": "stage = \"won\" AND ISBLANK(amount)",
                     "message": {"en": "A won deal needs an amount",
                                 "zh-CN": "赢单的商机必须填写金额"}},
                ],
                "form": {
                    "tabs": [{"key": "main", "label": {"en": "Deal", "zh-CN": "商机"}},
                             {"key": "more", "label": {"en": "More", "zh-CN": "更多"}}],
                    "sections": [
                        {"label": {"en": "Basics", "zh-CN": "基本信息"}, "tab": "main",
                         "columns": 2,
                         "fields": ["name", "number", "stage", "tags", "company", "partners",
                                    "amount", "quantity",
                                    {"field": "discount", "read_only_if": "signed"},
                                    "signed",
                                    {"field": "close_date", "visible_if": "stage <> \"lost\""},
                                    "total", "lines"]},
                        {"label": {"en": "Details", "zh-CN": "详情"}, "tab": "more",
                         "columns": 2,
                         "fields": ["weight", "meeting_at", "call_time", "effort",
                                    "contact_email", "phone", "website", "score", "rep", "team",
                                    "notes", "summary", "files", "photo", "site", "line_count",
                                    "company_city", "extra"]},
                    ],
                },
                "views": [
                    {"key": "board", "type": "kanban", "group_by": "stage",
                     "columns": ["company", "amount"]},
                    {"key": "calendar", "type": "calendar", "date_field": "close_date"},
                    {"key": "open", "label": {"en": "Open deals", "zh-CN": "进行中"},
                     "type": "list", "columns": ["name", "stage", "amount", "company"],
                     "filters": [{"field": "stage", "op": "in", "value": ["new", "qualified"]}]},
                ],
            },
            {
                "key": "deal_line",
                "label": {"en": "Line", "zh-CN": "明细"},
                "child": True,
                "fields": [
                    {"key": "product", "type": "text", "required": True,
                     "label": {"en": "Product", "zh-CN": "产品"}},
                    {"key": "qty", "type": "integer", "min": 1,
                     "label": {"en": "Qty", "zh-CN": "数量"}},
                    {"key": "supplier", "type": "link", "entity": "company"},
                    {"key": "price", "type": "currency"},
                    {"key": "subtotal", "type": "formula", "formula": "qty * price",
                     "result": "currency"},
                ],
            },
        ],
        "navigation": [
            {"label": {"en": "Deals", "zh-CN": "商机"}, "entity": "deal"},
            {"label": {"en": "Pipeline", "zh-CN": "销售漏斗"}, "entity": "deal", "view": "board"},
            {"label": {"en": "Companies", "zh-CN": "公司"}, "entity": "company"},
        ],
        "roles": [], "processes": [], "rules": [], "reports": [], "dashboards": [],
        "templates": [], "public_forms": [],
    }  # fmt: skip


def install(platform: Platform) -> None:
    apps.install(platform.db.engine, every_field_app())


def create(
    platform: Platform, entity: str, values: dict[str, Any], user_id: int | None = None
) -> dict[str, Any]:
    """A record created through the records service, as any page would."""
    with records(platform, APP, Actor(user_id=user_id, via="system")) as service:
        return service.create(entity, values)


def get(platform: Platform, entity: str, record_id: int) -> dict[str, Any]:
    with records(platform, APP) as system:
        return system.get(entity, record_id)


CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
PAGE_CSRF = re.compile(r'data-csrf="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF.search(html) or PAGE_CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


Signer = Callable[..., Any]


def many(platform: Platform, count: int, **values: Any) -> list[int]:
    """``count`` deals named ``Deal 000``… created in one bulk call."""
    with records(platform, APP) as service:
        return service.bulk_create(
            "deal", [{"name": f"Deal {n:03d}", "stage": "new", **values} for n in range(count)]
        )
