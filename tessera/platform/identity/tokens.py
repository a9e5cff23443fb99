"""Personal API tokens: ``tsr_<public id>_<secret>``, shown once, stored as a SHA-256 hash.

The secret has 256 bits of entropy, so a fast hash is enough (a slow password hash defends
guessable secrets, and this one is not guessable); the public id finds the row without a scan
and lets people tell their tokens apart.  Every token has scopes and an expiry, and can be
revoked.  Using a token is audited at most once per token per minute, with a conditional
UPDATE so concurrent requests on several machines still write one row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tessera.platform import audit
from tessera.platform.identity.current import SCOPES, Identity, load_identity
from tessera.platform.models import ApiToken, utcnow

PREFIX = "tsr_"
EXPIRY_CHOICES = (7, 30, 90, 365)
USE_AUDIT_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    db: Session,
    *,
    user_id: int,
    name: str,
    scopes: Iterable[str],
    days: int,
    actor_id: int | None,
) -> tuple[ApiToken, str]:
    """A new token and its full text, which the caller shows once and never stores."""
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in SCOPES]
    if unknown or not scope_list:
        raise TokenError(f"unknown or missing scopes: {', '.join(unknown) or '(none)'}")
    if days not in EXPIRY_CHOICES:
        raise TokenError(f"expiry must be one of {EXPIRY_CHOICES} days")
    name = name.strip()[:100]
    if not name:
        raise TokenError("a token needs a name")
    secret = secrets.token_urlsafe(32)
    for _attempt in range(5):
        public = PREFIX + secrets.token_hex(5)
        token = ApiToken(
            user_id=user_id,
            name=name,
            prefix=public,
            secret_hash=_hash(secret),
            scopes=scope_list,
            expires_at=utcnow() + timedelta(days=days),
        )
        try:
            with db.begin_nested():
                db.add(token)
                db.flush()
        except IntegrityError:  # the 40-bit public id collided; draw again
            continue
        audit.record(
            db,
            "token.created",
            actor_id=actor_id,
            entity="api_token",
            record_id=token.id,
            changes={"user_id": user_id, "name": name, "scopes": scope_list, "days": days},
        )
        return token, f"{public}_{secret}"
    raise TokenError("could not draw a unique token id")  # pragma: no cover - 2^-200


def authenticate(db: Session, raw: str) -> Identity | None:
    """The identity a token acts as, or None if it is malformed, unknown, expired or revoked."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    public, sep, secret = raw[len(PREFIX) :].partition("_")
    if not sep or not public or not secret:
        return None
    token = db.scalar(sa.select(ApiToken).where(ApiToken.prefix == PREFIX + public))
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    now = utcnow()
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    identity = load_identity(
        db, token.user_id, via="api", token_id=token.id, scopes=frozenset(token.scopes)
    )
    if identity is None:
        return None
    _note_use(db, token, now)
    return identity


def _note_use(db: Session, token: ApiToken, now: object) -> None:
    noted = (
        db.connection()
        .execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == token.id,
                sa.or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= utcnow() - USE_AUDIT_EVERY,
                ),
            )
            .values(last_used_at=now, last_used_ip=audit.client_ip())
        )
        .rowcount
    )
    if noted == 1:
        audit.record(
            db,
            "token.used",
            actor_id=token.user_id,
            via="api",
            entity="api_token",
            record_id=token.id,
        )


def revoke(db: Session, token: ApiToken, *, actor_id: int | None) -> bool:
    """Revoke ``token``; False if it was revoked already."""
    done = (
        db.connection()
        .execute(
            sa.update(ApiToken)
            .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_by=actor_id)
        )
        .rowcount
    )
    if done == 1:
        audit.record(
            db,
            "token.revoked",
            actor_id=actor_id,
            entity="api_token",
            record_id=token.id,
            changes={"user_id": token.user_id, "name": token.name},
        )
        db.refresh(token)
    return bool(done == 1)


def status(token: ApiToken) -> str:
    """active, expired or revoked: for lists."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= utcnow():
        return "expired"
    return "active"
