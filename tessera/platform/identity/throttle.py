"""Per-account sign-in lockout, kept in the database.

After :data:`MAX_FAILURES` failed sign-ins for one email address within :data:`WINDOW`, the
address is locked for :data:`LOCKOUT`; while locked, sign-in is refused without even checking the
password, so guessing stops.  Unknown addresses are counted the same way, so a lockout message
says nothing about whether an account exists.  The per-IP limit (many addresses from one
address) is Flask-Limiter's, in :mod:`tessera.platform.web.ratelimit`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tessera.platform.models import SignInThrottle, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


def locked_until(db: Session, email: str, now: datetime | None = None) -> datetime | None:
    """When the lock on ``email`` ends, or None if it is not locked."""
    now = now or utcnow()
    row = db.get(SignInThrottle, email)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def _row_for_update(db: Session, email: str) -> SignInThrottle:
    query = sa.select(SignInThrottle).where(SignInThrottle.email == email).with_for_update()
    row = db.scalar(query)
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = SignInThrottle(email=email, failures=0, window_started_at=utcnow())
            db.add(row)
            db.flush()
        return row
    except IntegrityError:  # another request inserted it first
        row = db.scalar(query.execution_options(populate_existing=True))
        assert row is not None
        return row


def record_failure(db: Session, email: str, now: datetime | None = None) -> bool:
    """Count a failure; True if this failure locked the address."""
    now = now or utcnow()
    row = _row_for_update(db, email)
    if row.window_started_at + WINDOW <= now or (
        row.locked_until is not None and row.locked_until <= now
    ):
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    if row.failures >= MAX_FAILURES and row.locked_until is None:
        row.locked_until = now + LOCKOUT
        return True
    return False


def clear(db: Session, email: str) -> None:
    """A successful sign-in or password reset forgets earlier failures."""
    db.execute(sa.delete(SignInThrottle).where(SignInThrottle.email == email))
