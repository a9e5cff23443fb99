"""Fixtures for the builder: a signed-in app builder and an app with a small draft."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera.platform import apps
from tessera.platform.runtime import Platform
from tests.conftest import Web


def small_app(key: str = "shop") -> dict[str, Any]:
    """A valid app: an order with a status, and its line items as a child table."""
    return {
        "format": "tessera.app/1",
        "key": key,
        "label": {"en": "Shop", "zh-CN": "商店"},
        "entities": [
            {
                "key": "order",
                "label": {"en": "Order", "zh-CN": "订单"},
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True},
                    {"key": "status", "type": "select", "options": ["open", "closed"]},
                    {"key": "due", "type": "date"},
                    {"key": "hours", "type": "decimal"},
                ],
                "form": {
                    "sections": [
                        {
                            "label": "Order",
                            "columns": 2,
                            "fields": [
                                "name",
                                "status",
                                {"field": "due", "visible_if": 'status = "open"'},
                            ],
                        },
                        {"label": "Work", "fields": ["hours"]},
                    ]
                },
                "views": [{"key": "all", "type": "list", "columns": ["name", "status"]}],
            }
        ],
        "navigation": [{"label": "Orders", "entity": "order", "view": "all"}],
    }


@pytest.fixture
def make_app(platform: Platform) -> Callable[..., str]:
    def make(doc: dict[str, Any] | None = None, *, publish: bool = False) -> str:
        document = doc or small_app()
        with platform.db.engine.begin() as conn:
            key = apps.create(conn, document)
        if publish:
            apps.publish(platform.db.engine, key)
        return key

    return make


@pytest.fixture
def builder(web: Web, user_factory: Callable[..., Any]) -> Web:
    """A browser signed in as an app builder."""
    user = user_factory(platform_role="app_builder")
    web.sign_in(user.email)
    return web


def token(web: Web) -> str:
    """The CSRF token a designer page would hold."""
    return web.csrf("/build/")
