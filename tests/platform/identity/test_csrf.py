"""Every cookie-authenticated write needs the CSRF token of its own session; Bearer API calls
carry no cookies and are exempt."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from tessera.platform.identity import tokens
from tessera.platform.models import AuditEntry, User
from tessera.platform.runtime import Platform
from tests.conftest import PASSWORD, Web

WRITES = [
    ("/sign-in", {"email": "a@example.com", "password": PASSWORD}),
    ("/sign-out", {}),
    ("/language", {"locale": "zh-CN"}),
    ("/profile", {"name": "Mallory"}),
    ("/profile/password", {"current": PASSWORD, "password": "x" * 12, "confirm": "x" * 12}),
    ("/profile/tokens", {"name": "t", "scopes": "records:read", "days": "30"}),
    (
        "/admin/users/new",
        {"name": "Evil", "email": "evil@example.com", "platform_role": "system_admin"},
    ),
    ("/admin/roles", {"key": "evil", "label_en": "Evil"}),
    ("/password/forgot", {"email": "a@example.com"}),
]


@pytest.mark.parametrize(("path", "data"), WRITES, ids=[w[0] for w in WRITES])
def test_cross_site_posts_are_refused(
    web: Web, platform: Platform, user_factory: Callable[..., User], path: str, data: dict[str, str]
) -> None:
    admin = user_factory(platform_role="system_admin")
    web.sign_in(admin.email)
    with platform.db.session() as db:
        audit_before = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    # A forged form from another site: the session cookie comes along, the token cannot.
    forged = web.client.post(path, data=data, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert "expired or was sent from another site" in forged.get_data(as_text=True)
    with_wrong_token = web.client.post(path, data={**data, "csrf_token": "IjAwMDAi.Z4.abc"})
    assert with_wrong_token.status_code == 403
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_before
    assert web.client.get("/profile").status_code == 200  # still signed in: sign-out was refused


def test_a_token_from_another_session_is_refused(
    web: Web, other_web: Web, user_factory: Callable[..., User]
) -> None:
    victim, attacker = user_factory(), user_factory()
    web.sign_in(victim.email)
    other_web.sign_in(attacker.email)
    attackers_token = other_web.csrf("/profile")
    response = web.client.post("/profile", data={"csrf_token": attackers_token, "name": "pwned"})
    assert response.status_code == 403


def test_bearer_api_requests_are_exempt_but_cookie_api_requests_are_not(
    web: Web, app: Flask, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    with platform.db.session() as db:
        _, raw = tokens.create(
            db, user_id=user.id, name="t", scopes=["records:read"], days=30, actor_id=user.id
        )
    api = app.test_client()
    # With a Bearer token the CSRF check does not run: the route answers for itself (405).
    assert api.post("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 405
    # With the session cookie instead, the same request is a CSRF failure.
    web.sign_in(user.email)
    assert web.client.post("/api/v1/me").status_code == 403
    # A Bearer header on a page (not /api/) does not switch CSRF off.
    assert (
        web.client.post("/profile", data={"name": "x"}, headers={"Authorization": f"Bearer {raw}"})
    ).status_code == 403


def test_csrf_error_answers_json_on_the_api(web: Web, user_factory: Callable[..., User]) -> None:
    user = user_factory()
    web.sign_in(user.email)
    response = web.client.post("/api/v1/me")
    assert response.status_code == 403 and response.is_json
