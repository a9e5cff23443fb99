"""Background jobs: a database row is the truth, RQ carries only its id.

``submit`` inserts a :class:`~tessera.platform.models.Job` row in the caller's transaction and
hands the id to Redis after that transaction commits (a transactional outbox), so a job exists
exactly when the change that asked for it exists.  ``run_job`` is the only function RQ ever calls:
it claims the row with a conditional UPDATE (a duplicate message is harmless), runs the task,
and records the outcome; a failure is retried with exponential backoff and jitter by putting the
row back with a later ``run_after``.  The scheduler's sweeper re-sends ids that Redis lost and
takes back jobs whose worker died (an expired lease).
"""

from __future__ import annotations

import logging
import random
import socket
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tessera.platform.models import Job, utcnow

if TYPE_CHECKING:
    from tessera.platform.runtime import Platform

log = logging.getLogger(__name__)

QUEUE_NAME = "tessera"
RUN_JOB = "tessera.platform.jobs.run_job"
#: A queued id not picked up for this long is sent again (Redis restarted, message lost).
RESEND_AFTER = timedelta(minutes=2)
SCALAR_TYPES = (int, str, bool, float, type(None))


class TaskError(Exception):
    """Raised by a task for an expected failure; its message is shown to the user as is."""


class PermanentTaskError(TaskError):
    """A failure that retrying cannot fix (bad input): the job fails at once."""


@dataclass(frozen=True)
class Task:
    name: str
    function: Callable[..., dict[str, Any] | None]
    max_attempts: int = 3
    lease: timedelta = timedelta(minutes=10)


@dataclass
class JobContext:
    """What a running task may use: the platform, its job id, and a progress reporter."""

    platform: Platform
    job_id: int
    lease: timedelta
    _last_report: datetime = field(default_factory=utcnow)

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress in its own short transaction and extend the lease.

        Reports are written at most every half second so a tight loop does not turn into a
        stream of UPDATEs; the last call of a task should pass the final figures.
        """
        now = utcnow()
        unfinished = total is None or done < total
        if unfinished and (now - self._last_report).total_seconds() < 0.5:
            return
        self._last_report = now
        values: dict[str, Any] = {"progress_done": done, "lease_expires_at": now + self.lease}
        if total is not None:
            values["progress_total"] = total
        if message is not None:
            values["message"] = message[:500]
        with self.platform.db.engine.begin() as conn:
            conn.execute(sa.update(Job).where(Job.id == self.job_id).values(**values))


TASKS: dict[str, Task] = {}


def task(
    name: str, *, max_attempts: int = 3, lease: timedelta = timedelta(minutes=10)
) -> Callable[[Callable[..., dict[str, Any] | None]], Callable[..., dict[str, Any] | None]]:
    """Register a task function ``fn(ctx: JobContext, **ids)`` under a stable name."""

    def register(fn: Callable[..., dict[str, Any] | None]) -> Callable[..., dict[str, Any] | None]:
        if name in TASKS and TASKS[name].function is not fn:
            raise ValueError(f"task {name!r} is registered twice")
        TASKS[name] = Task(name, fn, max_attempts, lease)
        return fn

    return register


def backoff(attempt: int, base: float = 5.0, cap: float = 600.0) -> timedelta:
    """Exponential backoff with full jitter (AWS's recommendation): 0..min(cap, base*2^n)."""
    return timedelta(seconds=random.uniform(0, min(cap, base * 2 ** (attempt - 1))))  # noqa: S311


def _check_args(args: dict[str, Any]) -> None:
    for key, value in args.items():
        if not isinstance(value, SCALAR_TYPES):
            raise TypeError(
                f"job argument {key!r} is a {type(value).__name__}; jobs carry ids and "
                "small scalars only, the data stays in the database"
            )


def submit(
    session: Session,
    platform: Platform,
    task_name: str,
    *,
    created_by: int | None = None,
    run_after: datetime | None = None,
    **args: Any,
) -> Job:
    """Add a job to the caller's transaction; its id goes to Redis once that commits."""
    spec = TASKS.get(task_name)
    if spec is None:
        raise KeyError(f"no task named {task_name!r}")
    _check_args(args)
    job = Job(
        task=task_name,
        args=args,
        max_attempts=spec.max_attempts,
        created_by=created_by,
        run_after=run_after or utcnow(),
    )
    session.add(job)
    session.flush()
    if run_after is None:
        pending: list[int] = session.info.setdefault("tessera.jobs_to_push", [])
        if not pending:
            event.listen(session, "after_commit", _push_after_commit(platform), once=True)
            event.listen(session, "after_rollback", _forget_pending, once=True)
        pending.append(job.id)
    return job


def _forget_pending(session: Session) -> None:
    session.info.pop("tessera.jobs_to_push", None)


def _push_after_commit(platform: Platform) -> Callable[[Session], None]:
    def push(session: Session) -> None:
        ids = session.info.pop("tessera.jobs_to_push", [])
        if ids:
            push_ids(platform, ids)

    return push


def push_ids(platform: Platform, ids: Iterable[int]) -> int:
    """Hand job ids to RQ and note when; a Redis failure is logged, the sweeper retries."""
    ids = list(ids)
    try:
        queue = platform.queue()
        with queue.connection.pipeline() as pipe:
            for job_id in ids:
                queue.enqueue(RUN_JOB, job_id, pipeline=pipe, result_ttl=0, failure_ttl=86400)
            pipe.execute()
    except Exception:  # Redis down: the rows stay queued and the sweeper sends them later
        log.warning("could not hand jobs %s to Redis; the sweeper will retry", ids, exc_info=True)
        return 0
    with platform.db.engine.begin() as conn:
        conn.execute(sa.update(Job).where(Job.id.in_(ids)).values(pushed_at=utcnow()))
    return len(ids)


def _claim(platform: Platform, job_id: int, worker: str) -> Job | None:
    now = utcnow()
    with platform.db.session() as session:
        row = session.get(Job, job_id)
        if row is None or row.status != "queued" or row.run_after > now:
            return None
        spec = TASKS.get(row.task)
        lease = spec.lease if spec else timedelta(minutes=10)
        claimed = session.connection().execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(
                status="running",
                attempts=Job.attempts + 1,
                started_at=now,
                lease_expires_at=now + lease,
                worker=worker,
            )
        )
        if claimed.rowcount != 1:
            return None
        session.refresh(row)
        return row


def run_job(job_id: int) -> None:
    """The RQ entry point: claim the row, run its task, record the outcome."""
    from tessera.platform.runtime import current_platform

    execute(current_platform(), job_id)


def execute(platform: Platform, job_id: int, worker: str | None = None) -> str | None:
    """Run one job if it is due and unclaimed; return its new status (None if not run)."""
    worker = worker or f"{socket.gethostname()}:{platform.instance_id}"
    job = _claim(platform, job_id, worker)
    if job is None:
        return None
    spec = TASKS.get(job.task)
    outcome: dict[str, Any]
    try:
        if spec is None:
            raise PermanentTaskError(f"no task named {job.task!r} in this version of Tessera")
        result = spec.function(JobContext(platform, job.id, spec.lease), **job.args)
        outcome = {"status": "done", "result": result, "error": None}
    except Exception as exc:
        permanent = isinstance(exc, PermanentTaskError) or job.attempts >= job.max_attempts
        detail = str(exc) if isinstance(exc, TaskError) else traceback.format_exc(limit=20)
        log.warning("job %s (%s) attempt %s failed: %s", job.id, job.task, job.attempts, exc)
        outcome = {"status": "failed", "error": detail[-20000:]}
        if not permanent:
            outcome = {
                "status": "queued",
                "error": detail[-20000:],
                "run_after": utcnow() + backoff(job.attempts),
                "pushed_at": None,
            }
    now = utcnow()
    with platform.db.engine.begin() as conn:
        conn.execute(
            sa.update(Job)
            .where(Job.id == job.id)
            .values(
                lease_expires_at=None,
                finished_at=now if outcome["status"] != "queued" else None,
                **outcome,
            )
        )
    return str(outcome["status"])


def sweep(platform: Platform, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Take back jobs of dead workers and re-send ids that are due but not in Redis."""
    now = now or utcnow()
    with platform.db.engine.begin() as conn:
        expired = sa.and_(Job.status == "running", Job.lease_expires_at < now)
        lost_retry = conn.execute(
            sa.update(Job)
            .where(expired, Job.attempts < Job.max_attempts)
            .values(
                status="queued",
                pushed_at=None,
                run_after=now,
                lease_expires_at=None,
                error="the worker running this job stopped before it finished",
            )
        ).rowcount
        lost_failed = conn.execute(
            sa.update(Job)
            .where(expired)
            .values(
                status="failed",
                finished_at=now,
                lease_expires_at=None,
                error="the worker running this job stopped before it finished, "
                "and it has no attempts left",
            )
        ).rowcount
        due = conn.scalars(
            sa.select(Job.id)
            .where(
                Job.status == "queued",
                Job.run_after <= now,
                sa.or_(Job.pushed_at.is_(None), Job.pushed_at < now - RESEND_AFTER),
            )
            .order_by(Job.id)
            .limit(limit)
        ).all()
    pushed = push_ids(platform, due) if due else 0
    return {"requeued": lost_retry, "failed": lost_failed, "pushed": pushed}
