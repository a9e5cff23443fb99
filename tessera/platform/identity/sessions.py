"""Signed-in browsers: server-side session rows behind a signed cookie.

Flask's cookie holds only a random session id (and the CSRF secret).  The row holds the user,
the expiry and the revocation, so sign-out, deactivation and a password reset end a session
on every device at once, which a purely client-side cookie cannot do.  Signing in always starts
a new id and a new cookie (no session fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy.orm import Session

from tessera.platform.audit import client_ip
from tessera.platform.identity.current import Identity, act_as, load_identity
from tessera.platform.models import AuthSession, User, utcnow

COOKIE_KEY = "sid"
#: A session ends after this long without a request...
IDLE_TIMEOUT = timedelta(hours=12)
#: ...and in any case this long after sign-in.
ABSOLUTE_TIMEOUT = timedelta(days=14)
#: ``last_seen_at`` is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start(db: Session, user: User) -> AuthSession:
    """Sign ``user`` in on this browser: a fresh cookie and a fresh session row."""
    old = session.get(COOKIE_KEY)
    if isinstance(old, str):
        end(db, old)
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        token_hash=_hash(raw),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
        ip=client_ip(),
        user_agent=(request.user_agent.string or "")[:300] or None,
    )
    db.add(row)
    db.flush()
    # Clearing drops everything the anonymous session held, the CSRF secret included, so a
    # token planted before sign-in is worthless after it.
    locale = session.get("locale")
    session.clear()
    session[COOKIE_KEY] = raw
    if locale:
        session["locale"] = locale
    session.permanent = True
    act_as(load_identity(db, user.id, via="web", auth_session_id=row.id))
    return row


def end(db: Session, raw: str | None = None) -> None:
    """Revoke the current (or the given) session row."""
    raw = raw if raw is not None else session.get(COOKIE_KEY)
    if isinstance(raw, str):
        db.connection().execute(
            sa.update(AuthSession)
            .where(AuthSession.token_hash == _hash(raw), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all(db: Session, user_id: int, except_id: int | None = None) -> int:
    """Revoke every session of a user (deactivation, password reset)."""
    query = sa.update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if except_id is not None:
        query = query.where(AuthSession.id != except_id)
    return int(db.connection().execute(query.values(revoked_at=utcnow())).rowcount)


def authenticate(db: Session) -> Identity | None:
    """The identity behind the session cookie, or None (and a cleared cookie) if it is over."""
    raw = session.get(COOKIE_KEY)
    if not isinstance(raw, str):
        return None
    row = db.scalar(sa.select(AuthSession).where(AuthSession.token_hash == _hash(raw)))
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + IDLE_TIMEOUT <= now
    ):
        session.pop(COOKIE_KEY, None)
        return None
    identity = load_identity(db, row.user_id, via="web", auth_session_id=row.id)
    if identity is None:  # deactivated or deleted
        session.pop(COOKIE_KEY, None)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return identity


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building the cookie signer for a request that
    carries no session cookie (every script's API call), which Flask does on every request."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
