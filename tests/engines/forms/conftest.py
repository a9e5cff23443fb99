"""A small quoting app installed through the registry, and services over it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.forms import Actor, RecordService
from tessera.platform import apps
from tessera.platform.models import User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform

NOW = dt.datetime(2025, 3, 5, 9, 30, tzinfo=dt.UTC)


def quotes_app() -> dict[str, Any]:
    return {
        "format": "tessera.app/1",
        "key": "sales",
        "label": {"en": "Sales", "zh-CN": "销售"},
        "entities": [
            {
                "key": "customer",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True, "unique": True},
                    {"key": "email", "type": "email"},
                    {"key": "tier", "type": "select", "options": ["a", "b"], "default": "b"},
                    {"key": "head_office", "type": "link", "entity": "customer"},
                    {
                        "key": "quotes",
                        "type": "rollup",
                        "source": "quote.customer",
                        "aggregate": "count",
                    },
                    {
                        "key": "quoted",
                        "type": "rollup",
                        "source": "quote.customer",
                        "aggregate": "sum",
                        "field": "total",
                    },
                    {"key": "api_key", "type": "text", "secret": True},
                ],
            },
            {
                "key": "product",
                "title": "name",
                "fields": [
                    {"key": "name", "type": "text", "required": True},
                    {"key": "price", "type": "currency"},
                    {"key": "tags", "type": "multi_select", "options": ["new", "hot", "eol"]},
                ],
            },
            {
                "key": "quote",
                "title": "number",
                "fields": [
                    {"key": "number", "type": "auto_number", "pattern": "Q-{YYYY}-{0000}"},
                    {"key": "customer", "type": "link", "entity": "customer", "required": True},
                    {"key": "lines", "type": "child_table", "entity": "quote_line"},
                    {
                        "key": "total",
                        "type": "rollup",
                        "source": "lines",
                        "aggregate": "sum",
                        "field": "subtotal",
                    },
                    {
                        "key": "tax",
                        "type": "formula",
                        "formula": "total * 0.1",
                        "result": "currency",
                    },
                    {"key": "discount", "type": "percent"},
                    {
                        "key": "customer_email",
                        "type": "lookup",
                        "link": "customer",
                        "field": "email",
                    },
                    {"key": "note", "type": "text"},
                    {"key": "amount", "type": "decimal"},
                    {"key": "valid_until", "type": "date", "default": {"formula": "TODAY() + 30"}},
                    {
                        "key": "label",
                        "type": "formula",
                        "result": "text",
                        "formula": 'CONCAT(note, " / ", TEXT(amount))',
                    },
                    {"key": "related", "type": "multi_link", "entity": "product"},
                ],
                "validations": [
                    {
                        "key": "discount_cap",
                        "error_if": "discount > 50",
                        "field": "discount",
                        "message": {
                            "en": "A discount above 50% needs approval",
                            "zh-CN": "折扣超过50%需要审批",
                        },
                    },
                    {
                        "key": "big_total",
                        "error_if": "total > 1000000",
                        "message": "The total is too large",
                    },
                ],
            },
            {
                "key": "quote_line",
                "child": True,
                "fields": [
                    {"key": "product", "type": "link", "entity": "product", "required": True},
                    {"key": "qty", "type": "integer", "required": True, "min": 1},
                    {"key": "price", "type": "currency"},
                    {
                        "key": "subtotal",
                        "type": "formula",
                        "formula": "qty * price",
                        "result": "currency",
                    },
                ],
            },
        ],
    }


@pytest.fixture
def sales(platform: Platform) -> Platform:
    """The platform with the sales app installed and two users."""
    with platform.db.engine.begin() as conn:
        conn.execute(
            sa.insert(User),
            [
                {"id": 1, "email": "ada@example.com", "name": "Ada"},
                {"id": 2, "email": "lin@example.com", "name": "Lin Wei"},
            ],
        )
    apps.install(platform.db.engine, quotes_app())
    return platform


Service = Callable[..., RecordService]


@pytest.fixture
def open_service(sales: Platform) -> Iterator[Callable[..., Any]]:
    """``with open_service() as svc:`` — a service in its own committed transaction."""
    import contextlib

    @contextlib.contextmanager
    def opener(user_id: int | None = 1, via: str = "api", **kwargs: Any) -> Iterator[RecordService]:
        with sales.db.engine.begin() as conn:
            yield service_for(
                conn,
                "sales",
                Actor(user_id=user_id, via=via, name="Ada"),  # type: ignore[arg-type]
                clock=kwargs.pop("clock", lambda: NOW),
                **kwargs,
            )

    yield opener
