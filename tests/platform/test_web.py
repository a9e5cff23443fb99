"""The UI shell: security headers, designed error pages, home empty state, static files."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tessera.platform.models import User
from tests.conftest import Web


def test_security_headers_on_every_page(web: Web, user_factory: Callable[..., User]) -> None:
    user_factory()
    response = web.client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self' 'nonce-" in csp
        and "unsafe-inline" not in csp
        and "unsafe-eval" not in csp
    )
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    html = response.get_data(as_text=True)
    assert f'nonce="{nonce}"' in html
    assert "<script>" not in html and " onclick=" not in html and 'style="' not in html
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain http
    assert web.client.get("/sign-in").headers["Content-Security-Policy"] != csp  # fresh nonce


def test_error_pages_are_designed_and_api_errors_are_json(web: Web, app: Flask) -> None:
    page = web.client.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    assert "tessera.css" in page.get_data(as_text=True)
    zh = web.client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert "页面不存在" in zh.get_data(as_text=True)
    api = web.client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.is_json


def test_responses_that_are_not_pages_allow_nothing_to_load(web: Web) -> None:
    """JSON (and any other non-HTML answer) gets a policy with no sources and no nonce."""
    csp = web.client.get("/api/v1/nothing").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "nonce" not in csp and "'self'" not in csp


def test_server_errors_show_the_designed_page(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Something went wrong" in text and "RuntimeError" not in text


def test_home_shows_the_empty_state(web: Web, user_factory: Callable[..., User]) -> None:
    admin, member = user_factory(platform_role="system_admin"), user_factory()
    web.sign_in(member.email)
    html = web.client.get("/").get_data(as_text=True)
    assert "No apps are installed yet" in html and "/admin/users/new" not in html
    web.sign_out()
    web.sign_in(admin.email)
    html = web.client.get("/").get_data(as_text=True)
    assert "Invite a colleague" in html and "/admin/users/new" in html


def test_static_files_are_served_with_fingerprints(
    web: Web, user_factory: Callable[..., User]
) -> None:
    user_factory()
    html = web.client.get("/sign-in").get_data(as_text=True)
    assert "/static/css/tessera.css?v=" in html and "/static/js/main.js?v=" in html
    with web.client.get("/static/css/tessera.css") as css:
        assert css.status_code == 200 and "--color-primary" in css.get_data(as_text=True)
    with web.client.get("/static/js/main.js") as js:
        assert js.status_code == 200
        assert js.mimetype in ("text/javascript", "application/javascript")
