"""Personal API tokens: ``tsr_<public id>_<secret>``, shown once, stored as a SHA-256 hash.

The secret has 256 bits of entropy, so a fast hash is enough (a slow password hash defends
guessable secrets, and this one is not guessable); the public id finds the row without a scan
and lets people tell their tokens apart.  Every token has scopes and an expiry, and can be
revoked.  ``last_used_at`` is written at most once a minute per token, with a conditional
UPDATE so concurrent requests on several machines write it once; ``token.used`` is audited on
the first of those notes in each clock hour and whenever the client address changes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tessera.engines import driver
from tessera.platform import apps, audit
from tessera.platform.identity.current import (
    SCOPES,
    USERS,
    Identity,
    identity_columns,
    identity_from_row,
)
from tessera.platform.models import ApiToken, App, AuditEntry, utcnow

log = logging.getLogger(__name__)

PREFIX = "tsr_"
EXPIRY_CHOICES = (7, 30, 90, 365)
#: ``last_used_at`` is written at most this often per token.
USE_NOTE_EVERY = timedelta(minutes=1)


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


TOKENS: sa.Table = ApiToken.__table__  # type: ignore[assignment]

#: The token and everything its user's identity needs, in one statement per request.
_TOKEN_COLUMNS = (
    TOKENS.c.id.label("token_id"), TOKENS.c.secret_hash, TOKENS.c.scopes, TOKENS.c.expires_at,
    TOKENS.c.revoked_at, TOKENS.c.last_used_at, TOKENS.c.last_used_ip,
)  # fmt: skip
TOKEN_QUERY = (
    sa.select(*_TOKEN_COLUMNS, *identity_columns())
    .select_from(TOKENS.join(USERS, USERS.c.id == TOKENS.c.user_id))
    .where(TOKENS.c.prefix == sa.bindparam("prefix"))
)
#: the same, and the registry row of the app the request names (``:app``), which the request's
#: records service would otherwise read with a statement of its own
TOKEN_AND_APP_QUERY = (
    sa.select(*_TOKEN_COLUMNS, *identity_columns(), *apps.LIVE_COLUMNS)
    .select_from(
        TOKENS.join(USERS, USERS.c.id == TOKENS.c.user_id).outerjoin(
            App, App.key == sa.bindparam("app")
        )
    )
    .where(TOKENS.c.prefix == sa.bindparam("prefix"))
)


@dataclass(frozen=True)
class UseNote:
    """A token use written in a transaction that may still roll back (see :func:`renote`)."""

    token_id: int
    user_id: int
    previous: datetime | None
    previous_ip: str | None
    at: datetime
    ip: str | None


def authenticate(
    db: Session | sa.Connection,
    raw: str,
    *,
    now: datetime | None = None,
    rides: bool = True,
    app: str | None = None,
) -> Identity | None:
    """The identity a token acts as, or None if it is malformed, unknown, expired or revoked,
    or its user is deactivated.

    One query reads the token and its user's identity, so revocation, expiry and deactivation
    take effect on the next request in every process (nothing is cached between requests).
    At most once a minute per token the use is noted (``last_used_at``) in ``db``'s
    transaction; ``rides`` says that transaction is the request's own, which may still roll
    back, so :func:`renote` can write the note again after a failed request.  ``app``: the
    request names that app, whose registry row the same query reads for the transaction
    (:func:`~tessera.platform.apps.remember_live_row`).
    """
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    public, sep, secret = raw[len(PREFIX) :].partition("_")
    if not sep or not public or not secret:
        return None
    query, params = (
        (TOKEN_QUERY, {"prefix": PREFIX + public})
        if app is None
        else (TOKEN_AND_APP_QUERY, {"prefix": PREFIX + public, "app": app})
    )
    # once per API request: on SQLite through the driver (engines.driver), same answer
    row = (
        driver.first(db, query, params)
        if isinstance(db, sa.Connection)
        else db.execute(query, params).first()
    )
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    now = now or utcnow()
    if row.revoked_at is not None or row.expires_at <= now:
        return None
    identity = identity_from_row(
        row, via="api", token_id=row.token_id, scopes=frozenset(row.scopes)
    )
    if identity is None:
        return None
    if app is not None and isinstance(db, sa.Connection):
        apps.remember_live_row(db, app, row)
    if row.last_used_at is None or row.last_used_at < now - USE_NOTE_EVERY:
        note = UseNote(
            row.token_id, row.user_id, row.last_used_at, row.last_used_ip, now, audit.client_ip()
        )
        if note_use(db, note) and rides and has_request_context():
            g._tessera_token_note = note
    return identity


def _audited(note: UseNote) -> bool:
    """Whether a use note also writes ``token.used``: the first note of each clock hour (UTC),
    and any note from another client address than the last one."""
    if note.previous is None or note.previous_ip != note.ip:
        return True
    return note.previous.replace(minute=0, second=0, microsecond=0) != note.at.replace(
        minute=0, second=0, microsecond=0
    )


def note_use(db: Session | sa.Connection, note: UseNote) -> bool:
    """Write ``last_used_at`` with a conditional UPDATE, so however many processes see the
    token at once, one of them notes it per minute; True if this call did."""
    result: Any = db.execute(
        sa.update(TOKENS)
        .where(
            TOKENS.c.id == note.token_id,
            sa.or_(
                TOKENS.c.last_used_at.is_(None),
                TOKENS.c.last_used_at < note.at - USE_NOTE_EVERY,
            ),
        )
        .values(last_used_at=note.at, last_used_ip=note.ip)
    )
    if result.rowcount != 1:
        return False
    if _audited(note):
        db.execute(
            sa.insert(AuditEntry).values(
                at=note.at, actor_id=note.user_id, via="api", action="token.used",
                entity="api_token", record_id=note.token_id, changes={}, ip=note.ip,
            )
        )  # fmt: skip
    return True


def committed() -> None:
    """The request's transaction committed: its use note stands."""
    if has_request_context():
        g.pop("_tessera_token_note", None)


def renote(engine: sa.Engine) -> None:
    """The request's transaction rolled back: write its use note again in a transaction of its
    own, so a token whose every request fails still leaves its trace."""
    note: UseNote | None = g.pop("_tessera_token_note", None) if has_request_context() else None
    if note is not None:
        try:
            with engine.begin() as conn:
                note_use(conn, note)
        except sa.exc.SQLAlchemyError:  # the request's own error is the one to report
            log.warning("could not note the use of API token %s", note.token_id, exc_info=True)


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
