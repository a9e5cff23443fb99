"""Sign-in, sign-out, sessions, lockout and the first-run page, driven through the web client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from tessera.platform.identity import throttle
from tessera.platform.models import AuditEntry, AuthSession, SignInThrottle, User, utcnow
from tessera.platform.runtime import Platform
from tests.conftest import PASSWORD, Web


def _actions(platform: Platform) -> list[str]:
    with platform.db.session() as db:
        return list(db.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_sign_in_sets_a_hardened_cookie_and_audits(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    response = web.sign_in(user.email)
    assert response.location == "/"
    cookie = response.headers["Set-Cookie"]
    assert "tessera_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see test_https_marks_cookies_secure
    assert web.client.get("/").status_code == 200
    assert _actions(platform) == ["sign_in"]
    with platform.db.session() as db:
        assert db.get(User, user.id).last_sign_in_at is not None  # type: ignore[union-attr]


def test_https_marks_cookies_secure(platform: Platform, user_factory: Callable[..., User]) -> None:
    from dataclasses import replace

    from tessera.platform.app import create_app

    platform.settings = replace(platform.settings, base_url="https://tessera.example.cn")
    app = create_app(platform.settings, platform=platform)
    user = user_factory()
    web = Web(app.test_client())
    response = web.post(
        "/sign-in",
        {"email": user.email, "password": PASSWORD},
        base_url="https://tessera.example.cn",
        headers={"Referer": "https://tessera.example.cn/sign-in"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_wrong_password_and_unknown_email_look_the_same(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    wrong = web.post("/sign-in", {"email": user.email, "password": "not the password"})
    unknown = web.post("/sign-in", {"email": "nobody@example.com", "password": "whatever1234"})
    assert wrong.status_code == unknown.status_code == 401
    message = "The email or password is not correct."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    with platform.db.session() as db:
        rows = db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(r.action, r.actor_id, r.changes["reason"]) for r in rows] == [
            ("sign_in.failed", user.id, "password"),
            ("sign_in.failed", None, "unknown_email"),
        ]
        assert "not the password" not in str([r.changes for r in rows])


def test_sign_in_rotates_the_session(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    planted = web.csrf("/sign-in")  # a token from before sign-in (session fixation attempt)
    web.sign_in(user.email)
    # The anonymous session's CSRF secret is gone: its token no longer works.
    response = web.client.post("/profile", data={"csrf_token": planted, "name": "x"})
    assert response.status_code == 403
    with platform.db.session() as db:
        first = db.scalars(sa.select(AuthSession.token_hash)).all()
    web.sign_out()
    web.sign_in(user.email)
    with platform.db.session() as db:
        rows = db.scalars(sa.select(AuthSession).order_by(AuthSession.id)).all()
    assert len(rows) == 2 and rows[0].token_hash == first[0] and rows[0].revoked_at is not None
    assert rows[1].token_hash != rows[0].token_hash and rows[1].revoked_at is None


def test_sign_out_ends_the_session_everywhere_the_cookie_went(
    web: Web, app: Flask, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    web.sign_in(user.email)
    stolen = web.client.get_cookie("tessera_session")
    assert stolen is not None
    assert web.sign_out().status_code == 302
    thief = app.test_client()
    thief.set_cookie("tessera_session", stolen.value)
    assert thief.get("/profile").status_code == 302  # replaying the old cookie: signed out


def test_deactivating_a_user_ends_their_sessions(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    web.sign_in(user.email)
    with platform.db.session() as db:
        db.execute(sa.update(User).where(User.id == user.id).values(is_active=False))
    assert web.client.get("/profile").location.startswith("/sign-in")
    refused = web.post("/sign-in", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "deactivated" in refused.get_data(as_text=True)


def test_idle_session_expires(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    web.sign_in(user.email)
    with platform.db.session() as db:
        db.execute(sa.update(AuthSession).values(last_seen_at=utcnow() - timedelta(hours=13)))
    assert web.client.get("/profile").status_code == 302


def test_lockout_after_repeated_failures(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    codes = [
        web.post("/sign-in", {"email": user.email, "password": f"wrong-{i}-password"}).status_code
        for i in range(throttle.MAX_FAILURES)
    ]
    assert codes == [401] * (throttle.MAX_FAILURES - 1) + [429]
    # Locked: even the right password is refused, without being checked.
    locked = web.post("/sign-in", {"email": user.email.upper(), "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert _actions(platform).count("sign_in.locked") == 1
    # When the lock runs out, the right password works and the count starts again.
    with platform.db.session() as db:
        db.execute(sa.update(SignInThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    web.sign_in(user.email)
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(SignInThrottle)) == 0


def test_unknown_addresses_lock_like_real_ones(web: Web, user_factory: Callable[..., User]) -> None:
    user_factory()
    for i in range(throttle.MAX_FAILURES):
        response = web.post("/sign-in", {"email": "ghost@example.com", "password": f"guess-{i}xx"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_failures_from_one_address_are_limited_across_accounts(
    web: Web, app: Flask, user_factory: Callable[..., User]
) -> None:
    app.config["TESSERA_SIGN_IN_IP_LIMIT"] = "3 per 15 minutes"
    user = user_factory()
    codes = [
        web.post(
            "/sign-in", {"email": f"spray{i}@example.com", "password": "Summer2026!"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 401]
    blocked = web.post("/sign-in", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many requests" in blocked.get_data(as_text=True)
    # Another address is not affected.
    other = web.post(
        "/sign-in",
        {"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other.status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_address_limit(
    web: Web, app: Flask, user_factory: Callable[..., User]
) -> None:
    app.config["TESSERA_SIGN_IN_IP_LIMIT"] = "2 per 15 minutes"
    user = user_factory()
    for _ in range(4):
        web.sign_in(user.email)
        web.sign_out()


def test_next_parameter_cannot_redirect_off_site(
    web: Web, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        response = web.post(
            f"/sign-in?next={evil}", {"email": user.email, "password": PASSWORD, "next": evil}
        )
        assert response.location == "/", evil
        web.sign_out()
    response = web.post("/sign-in", {"email": user.email, "password": PASSWORD, "next": "/admin/"})
    assert response.location == "/admin/"


def test_pages_redirect_to_sign_in_with_next(web: Web, user_factory: Callable[..., User]) -> None:
    user_factory()
    response = web.client.get("/profile/tokens")
    assert response.status_code == 302
    assert response.location == "/sign-in?next=/profile/tokens"


def test_first_run_creates_the_first_admin_once(web: Web, platform: Platform) -> None:
    assert web.client.get("/").location == "/setup"
    assert web.client.get("/sign-in").location == "/setup"
    form = {
        "name": "张伟",
        "email": "Zhang.Wei@Example.CN",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "platform_role": "member",  # ignored: the first user is always the administrator
    }
    weak = web.post("/setup", {**form, "password": "short", "confirm": "short"})
    assert weak.status_code == 200 and "10" in weak.get_data(as_text=True)
    created = web.post("/setup", form)
    assert created.location == "/"
    with platform.db.session() as db:
        admin = db.scalars(sa.select(User)).one()
    assert (admin.email, admin.platform_role, admin.locale, admin.time_zone) == (
        "zhang.wei@example.cn",
        "system_admin",
        "zh-CN",
        "Asia/Shanghai",
    )
    assert web.client.get("/").status_code == 200  # signed in straight away
    # Once a user exists the page is gone, for everyone.
    assert web.client.get("/setup").status_code == 404
    stranger = Web(web.client.application.test_client())
    assert stranger.client.get("/setup").status_code == 404
    assert stranger.client.post("/setup", data=form).status_code in (403, 404)
    assert _actions(platform) == ["user.created", "sign_in"]


def test_first_run_refuses_a_bad_time_zone(web: Web, platform: Platform) -> None:
    response = web.post(
        "/setup",
        {
            "name": "A",
            "email": "a@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "locale": "en",
            "time_zone": "Mars/Olympus_Mons",
        },
    )
    assert response.status_code == 200
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 0
