"""The every-field test app installed, and a browser-like client signed in as a member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.conftest import Web

from . import factories


@pytest.fixture
def fieldtest(platform: Platform) -> Platform:
    factories.install(platform)
    return platform


@pytest.fixture
def member(fieldtest: Platform, user_factory: Callable[..., User]) -> User:
    return user_factory(name="Ada Member")


@pytest.fixture
def signed_in(web: Web, member: User) -> Web:
    web.sign_in(member.email)
    return web


@pytest.fixture
def page(signed_in: Web) -> Callable[..., Any]:
    """``page("/apps/fieldtest/deal/")`` → (status, html)."""
    client: FlaskClient = signed_in.client

    def get(path: str, **kwargs: Any) -> tuple[int, str]:
        response = client.get(path, **kwargs)
        return response.status_code, response.get_data(as_text=True)

    return get


@pytest.fixture
def token(fieldtest: Platform, signed_in: Web) -> str:
    """The signed-in member's CSRF token, for posts the page scripts make."""
    return factories.csrf_from(
        signed_in.client.get("/apps/fieldtest/deal/calendar").get_data(as_text=True)
    )
