"""Password reset by emailed one-time link, end to end through a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from tessera.platform.identity import throttle
from tessera.platform.models import AuditEntry, Mail, PasswordResetToken, User, utcnow
from tessera.platform.runtime import Platform
from tests.conftest import SmtpSink, Web, run_mail_jobs

NEW_PASSWORD = "a brand new passphrase"


def _link(sink: SmtpSink) -> str:
    body = sink.messages[-1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"https?://\S+/password/reset/\S+", body)
    assert found, body
    return found.group(0)


def _path(link: str) -> str:
    return "/password/reset/" + link.rsplit("/password/reset/", 1)[1]


def test_reset_link_is_emailed_and_works_once(
    web: Web, platform: Platform, user_factory: Callable[..., User], smtp: SmtpSink
) -> None:
    user = user_factory()
    page = web.post("/password/forgot", {"email": user.email.upper()})
    assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    assert run_mail_jobs(platform) == ["done"]
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == user.email
    link = _link(smtp)
    # Built from the configured base URL, never from the request's Host header.
    assert link.startswith(platform.settings.public_url + "/password/reset/")
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert web.post(_path(link), form).location == "/sign-in"
    assert web.post(_path(link), form, token_from="/sign-in").status_code == 410  # used
    assert web.client.get(_path(link)).status_code == 410
    web.sign_in(user.email, NEW_PASSWORD)
    with platform.db.session() as db:
        actions = db.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert db.scalar(sa.select(PasswordResetToken.token_hash)) not in link  # stored hashed
    assert actions == ["password.link_sent", "password.reset", "sign_in"]


def test_host_header_cannot_poison_the_link(
    web: Web, platform: Platform, user_factory: Callable[..., User], smtp: SmtpSink
) -> None:
    user = user_factory()
    web.post("/password/forgot", {"email": user.email}, headers={"Host": "evil.example"})
    run_mail_jobs(platform)
    assert "evil.example" not in _link(smtp)


def test_unknown_and_inactive_addresses_get_the_same_page_and_no_mail(
    web: Web, platform: Platform, user_factory: Callable[..., User], smtp: SmtpSink
) -> None:
    inactive = user_factory(is_active=False)
    for email in ("nobody@example.com", inactive.email):
        page = web.post("/password/forgot", {"email": email})
        assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Mail)) == 0


def test_expired_and_superseded_links_do_not_work(
    web: Web, platform: Platform, user_factory: Callable[..., User], smtp: SmtpSink
) -> None:
    user = user_factory()
    web.post("/password/forgot", {"email": user.email})
    web.post("/password/forgot", {"email": user.email})
    run_mail_jobs(platform)
    first, second = (_link_of(m) for m in smtp.messages)
    assert web.client.get(_path(first)).status_code == 410  # voided by the newer link
    assert web.client.get(_path(second)).status_code == 200
    with platform.db.session() as db:
        db.execute(sa.update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert web.client.get(_path(second)).status_code == 410
    assert web.client.get("/password/reset/" + "A" * 43).status_code == 410


def _link_of(message: object) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    return re.search(r"https?://\S+/password/reset/\S+", body).group(0)  # type: ignore[union-attr]


def test_reset_ends_sessions_and_lifts_the_lockout(
    web: Web, other_web: Web, platform: Platform, user_factory: Callable[..., User], smtp: SmtpSink
) -> None:
    user = user_factory()
    other_web.sign_in(user.email)  # e.g. a stolen session on another machine
    for i in range(throttle.MAX_FAILURES):
        web.post("/sign-in", {"email": user.email, "password": f"wrong-{i}-password"})
    web.post("/password/forgot", {"email": user.email})
    run_mail_jobs(platform)
    web.post(_path(_link(smtp)), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert other_web.client.get("/profile").status_code == 302
    web.sign_in(user.email, NEW_PASSWORD)


def test_reset_requests_are_rate_limited_per_address(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    web.client.application.config["TESSERA_RESET_IP_LIMIT"] = "2 per hour"
    user = user_factory()
    codes = [web.post("/password/forgot", {"email": user.email}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
