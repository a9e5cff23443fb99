"""One-time password links: reset (asked for by the user or an admin) and invite (first password).

The link carries a 256-bit random token; the database keeps its SHA-256 only.  A link works once
(``used_at`` is set with a conditional UPDATE, so two tabs submitting together cannot both
succeed), expires, and is voided by any newer link and by a successful reset.  Using it ends
every session of the user and clears the sign-in lockout.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import render_template, url_for
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from tessera.platform import audit, mail, passwords
from tessera.platform.identity import sessions, throttle
from tessera.platform.models import PasswordResetToken, User, utcnow
from tessera.platform.runtime import Platform

LIFETIME = {"reset": timedelta(hours=1), "invite": timedelta(days=3)}


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(db: Session, user: User, purpose: str = "reset") -> str:
    """A new link token for ``user`` (older unused ones stop working); returns the raw token."""
    now = utcnow()
    db.connection().execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_hash(raw),
            purpose=purpose,
            created_at=now,
            expires_at=now + LIFETIME[purpose],
            requested_ip=audit.client_ip(),
        )
    )
    db.flush()
    return raw


def send_link(
    db: Session, platform: Platform, user: User, *, purpose: str, actor_id: int | None
) -> None:
    """Issue a link and queue the email, in the user's own language, in the caller's transaction."""
    raw = issue(db, user, purpose)
    link = platform.settings.public_url + url_for("auth.reset_password", token=raw)
    hours = int(LIFETIME[purpose].total_seconds() // 3600)
    with force_locale(user.locale.replace("-", "_")):
        subject = (
            gettext("Set your Tessera password")
            if purpose == "invite"
            else gettext("Reset your Tessera password")
        )
        context = {"user": user, "link": link, "hours": hours, "purpose": purpose}
        text = render_template("mail/password_link.txt", **context)
        html = render_template("mail/password_link.html", **context)
    mail.send(
        db,
        platform,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        kind=f"password_{purpose}",
        created_by=actor_id,
    )
    audit.record(
        db,
        "password.link_sent",
        actor_id=actor_id,
        entity="user",
        record_id=user.id,
        changes={"purpose": purpose},
    )


def find_valid(db: Session, raw: str) -> PasswordResetToken | None:
    if not raw or len(raw) > 100:
        return None
    row = db.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == _hash(raw))
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def use(db: Session, raw: str, new_password: str) -> User | None:
    """Set the password with a link; None if the link is invalid, used or expired."""
    row = find_valid(db, raw)
    if row is None:
        return None
    claimed = (
        db.connection()
        .execute(
            sa.update(PasswordResetToken)
            .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        .rowcount
    )
    user = db.get(User, row.user_id)
    if claimed != 1 or user is None or not user.is_active:
        return None
    user.password_hash = passwords.hash_password(new_password)
    sessions.end_all(db, user.id)
    throttle.clear(db, user.email)
    audit.record(
        db,
        "password.reset",
        actor_id=user.id,
        entity="user",
        record_id=user.id,
        changes={"purpose": row.purpose},
    )
    return user
