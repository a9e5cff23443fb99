"""A test app with every field type, installed through the registry, and API tokens for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tessera.platform import apps
from tessera.platform.identity import tokens
from tessera.platform.models import User
from tessera.platform.runtime import Platform


def kit_app() -> dict[str, Any]:
    """``kit``: one entity (``item``) holding a field of every type, plus what links need."""
    return {
        "format": "tessera.app/1",
        "key": "kit",
        "label": {"en": "Kit", "zh-CN": "工具包"},
        "entities": [
            {
                "key": "company",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True, "unique": True},
                    {"key": "city", "type": "text", "label": {"en": "City", "zh-CN": "城市"}},
                ],
            },
            {
                "key": "item",
                "title": "name",
                "fields": [
                    {
                        "key": "name",
                        "type": "text",
                        "required": True,
                        "max_length": 80,
                        "label": {"en": "Name", "zh-CN": "名称"},
                    },
                    {
                        "key": "code",
                        "type": "text",
                        "unique": True,
                        "label": {"en": "Code", "zh-CN": "编码"},
                    },
                    {"key": "notes", "type": "long_text"},
                    {"key": "body", "type": "rich_text"},
                    {"key": "qty", "type": "integer", "min": 0, "max": 1000000},
                    {"key": "weight", "type": "decimal", "scale": 3},
                    {"key": "price", "type": "currency", "label": {"en": "Price", "zh-CN": "价格"}},
                    {"key": "discount", "type": "percent"},
                    {
                        "key": "active",
                        "type": "boolean",
                        "label": {"en": "Active", "zh-CN": "启用"},
                    },
                    {"key": "due", "type": "date", "label": {"en": "Due date", "zh-CN": "到期日"}},
                    {"key": "seen_at", "type": "datetime"},
                    {"key": "opens", "type": "time"},
                    {"key": "effort", "type": "duration"},
                    {
                        "key": "stage",
                        "type": "select",
                        "options": [
                            {"key": "new", "label": {"en": "New", "zh-CN": "新建"}},
                            {"key": "won", "label": {"en": "Won", "zh-CN": "赢单"}},
                            {"key": "on_hold"},  # no label: shown as “On hold”
                        ],
                    },
                    {"key": "tags", "type": "multi_select", "options": ["red", "green", "blue"]},
                    {"key": "email", "type": "email"},
                    {"key": "phone", "type": "phone"},
                    {"key": "site", "type": "url"},
                    {"key": "stars", "type": "rating", "max": 5},
                    {"key": "assignee", "type": "user"},
                    {"key": "team", "type": "department"},
                    {"key": "company", "type": "link", "entity": "company"},
                    {"key": "partners", "type": "multi_link", "entity": "company"},
                    {"key": "parts", "type": "child_table", "entity": "part"},
                    {"key": "files", "type": "attachment"},
                    {"key": "photo", "type": "image"},
                    {"key": "place", "type": "location"},
                    {"key": "number", "type": "auto_number", "pattern": "IT-{0000}"},
                    {
                        "key": "value",
                        "type": "formula",
                        "formula": "qty * price",
                        "result": "currency",
                    },
                    {
                        "key": "part_count",
                        "type": "rollup",
                        "source": "parts",
                        "aggregate": "count",
                    },
                    {"key": "company_city", "type": "lookup", "link": "company", "field": "city"},
                    {"key": "extra", "type": "json"},
                ],
            },
            {
                "key": "part",
                "child": True,
                "fields": [
                    {"key": "label", "type": "text", "required": True},
                    {"key": "count", "type": "integer"},
                ],
            },
        ],
    }


@pytest.fixture
def kit(platform: Platform) -> Platform:
    apps.install(platform.db.engine, kit_app())
    return platform


Token = Callable[..., str]


@pytest.fixture
def token_for(platform: Platform) -> Token:
    """``token_for(user, "records:write")``: a fresh Bearer token's full text."""

    def make(user: User, *scopes: str) -> str:
        with platform.db.session() as db:
            _, raw = tokens.create(
                db,
                user_id=user.id,
                name="test",
                scopes=scopes or ("records:write",),
                days=30,
                actor_id=user.id,
            )
        return raw

    return make


class Api:
    """A test client that sends a token and JSON: ``api.post("/item", {...})``."""

    def __init__(self, client: FlaskClient, token: str, app: str = "kit") -> None:
        self.client, self.token, self.base = client, token, f"/api/v1/apps/{app}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(
            self.base + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(
            self.base + path, json=body, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(
            self.base + path, json=body, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(
            self.base + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )


@pytest.fixture
def api(
    kit: Platform, app: Flask, user_factory: Callable[..., User], token_for: Token
) -> Iterator[Api]:
    user = user_factory(name="Ada")
    yield Api(app.test_client(), token_for(user, "records:write"))
