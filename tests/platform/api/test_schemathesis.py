"""Schemathesis against the generated OpenAPI of the every-field-type app, over WSGI.

Hypothesis generates valid and invalid requests for every operation; each response must not be
a server error and must match the document (status code, content type, headers, body schema).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.platform.api.conftest import Api, Token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def bearer(kit: Platform, app: Flask, user_factory: Callable[..., User], token_for: Token) -> str:
    user = user_factory(name="Fuzz")
    raw = token_for(user, "records:write")
    api = Api(app.test_client(), raw)
    company = api.post("/company", {"name": "ACME", "city": "上海"}).get_json()
    for n in range(3):  # a few records so ids 1..3 exist and reads return real data
        created = api.post(
            "/item",
            {
                "name": f"Item {n}",
                "code": f"C{n}",
                "qty": n,
                "price": "9.90",
                "stage": "won",
                "tags": ["red"],
                "company": company["id"],
                "partners": [company["id"]],
                "parts": [{"label": "bolt", "count": 2}],
                "place": {"lat": 31.2, "lng": 121.5},
                "due": "2025-03-05",
                "seen_at": "2025-03-05T09:30:00Z",
                "opens": "09:00",
                "extra": {"k": [1, 2]},
                "files": [{"id": "f1", "name": "a.pdf"}],
                "active": True,
            },
        )
        assert created.status_code == 201, created.get_data(as_text=True)
    api.delete("/item/3")
    return raw


@pytest.fixture
def kit_schema(app: Flask, bearer: str) -> Any:
    return schemathesis.openapi.from_wsgi(
        "/api/v1/apps/kit/openapi.json", app, headers={"Authorization": f"Bearer {bearer}"}
    )


# schemathesis' pytest plugin (``from_fixture``/``parametrize``) reads a private attribute that
# pytest 9 no longer has, so each operation's strategy is driven by Hypothesis directly.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_every_request_within_its_schema(
    kit: Platform, kit_schema: Any, bearer: str, mode: GenerationMode
) -> None:
    # PostgreSQL answers each request more slowly here; fewer examples keep it near a minute.
    examples = 12 if kit.db.engine.dialect.name == "sqlite" else 4
    headers = {"Authorization": f"Bearer {bearer}"}
    operations = [result.ok() for result in kit_schema.get_all_operations()]
    assert len(operations) == 2 * 8  # company and item, eight operations each

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # report as found: shrinking takes minutes
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
