"""Durable timers: process waits, SLA deadlines, date-relative rules, journey delays.

A timer is a row with a due time.  The scheduler claims due rows and, in the same transaction,
submits one ``timers.fire`` job per row, so a claimed timer always has a job that will fire it.
The job marks the row fired with a conditional UPDATE in the same transaction as the handler's
effect: a timer fires once even if its job runs twice, survives restarts (it is a row), and a
clock that jumps backwards cannot fire it again (its status is no longer pending).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tessera.platform import jobs
from tessera.platform.models import Timer, utcnow

if TYPE_CHECKING:
    from tessera.platform.runtime import Platform

TimerHandler = Callable[[Session, Timer], None]
HANDLERS: dict[str, TimerHandler] = {}


def handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    """Register what happens when a timer of ``kind`` fires (runs inside the firing transaction)."""

    def register(fn: TimerHandler) -> TimerHandler:
        HANDLERS[kind] = fn
        return fn

    return register


def schedule(session: Session, kind: str, due_at: datetime, **ref: Any) -> Timer:
    """Add a timer in the caller's transaction."""
    if kind not in HANDLERS:
        raise KeyError(f"no timer handler for {kind!r}")
    timer = Timer(kind=kind, due_at=due_at, ref=ref)
    session.add(timer)
    session.flush()
    return timer


def cancel(session: Session, timer_id: int) -> bool:
    result = session.connection().execute(
        sa.update(Timer)
        .where(Timer.id == timer_id, Timer.status.in_(("pending", "claimed")))
        .values(status="cancelled")
    )
    return bool(result.rowcount == 1)


def claim_due(platform: Platform, now: datetime | None = None, limit: int = 200) -> int:
    """Claim due timers and submit a firing job for each, in one transaction."""
    now = now or utcnow()
    with platform.db.session() as session:
        due = session.scalars(
            sa.select(Timer)
            .where(Timer.status == "pending", Timer.due_at <= now)
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
        ).all()
        for timer in due:
            job = jobs.submit(session, platform, "timers.fire", timer_id=timer.id)
            timer.status = "claimed"
            timer.lock_owner = platform.instance_id
            timer.attempts += 1
            timer.job_id = job.id
        return len(due)


@jobs.task("timers.fire", max_attempts=5)
def fire(ctx: jobs.JobContext, timer_id: int) -> dict[str, Any] | None:
    with ctx.platform.db.session() as session:
        fired = (
            session.connection()
            .execute(
                sa.update(Timer)
                .where(Timer.id == timer_id, Timer.status == "claimed")
                .values(status="fired", fired_at=utcnow())
            )
            .rowcount
        )
        if fired != 1:
            return {"fired": False}
        timer = session.get(Timer, timer_id)
        assert timer is not None
        run = HANDLERS.get(timer.kind)
        if run is None:
            raise jobs.PermanentTaskError(f"no timer handler for {timer.kind!r}")
        run(session, timer)
    return {"fired": True}
