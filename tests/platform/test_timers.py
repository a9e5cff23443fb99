"""Timers fire once: across restarts, duplicate jobs, and clocks that jump backwards."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tessera.platform import jobs, timers
from tessera.platform.models import Job, Timer, utcnow
from tessera.platform.runtime import Platform

FIRED: list[int] = []


@timers.handler("test.remind")
def remind(session: Session, timer: Timer) -> None:
    FIRED.append(timer.ref["record_id"])


def job_ids(platform: Platform) -> list[int]:
    with platform.db.engine.connect() as conn:
        return list(conn.scalars(sa.select(Job.id).where(Job.task == "timers.fire")))


def test_due_timer_fires_once(platform: Platform) -> None:
    FIRED.clear()
    now = utcnow()
    with platform.db.session() as session:
        timers.schedule(session, "test.remind", now + timedelta(minutes=5), record_id=42)
    assert timers.claim_due(platform, now=now) == 0
    assert timers.claim_due(platform, now=now + timedelta(minutes=6)) == 1
    assert timers.claim_due(platform, now=now + timedelta(minutes=7)) == 0  # claimed already
    (job_id,) = job_ids(platform)
    assert jobs.execute(platform, job_id) == "done"
    assert FIRED == [42]
    # A second delivery of the same job and a clock moved backwards change nothing.
    with platform.db.engine.begin() as conn:
        conn.execute(sa.update(Job).values(status="queued"))
    assert jobs.execute(platform, job_id) == "done"
    assert timers.claim_due(platform, now=now + timedelta(minutes=5)) == 0
    assert FIRED == [42]


def test_cancelled_timer_never_fires(platform: Platform) -> None:
    FIRED.clear()
    with platform.db.session() as session:
        timer = timers.schedule(session, "test.remind", utcnow(), record_id=1)
    with platform.db.session() as session:
        assert timers.cancel(session, timer.id)
    assert timers.claim_due(platform, now=utcnow() + timedelta(seconds=1)) == 0
    assert FIRED == []
