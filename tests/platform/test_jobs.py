"""Jobs: the row is the truth, Redis carries ids after commit, retries and lost workers."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue

from tessera.platform import jobs
from tessera.platform.models import Job, utcnow
from tessera.platform.runtime import Platform

CALLS: list[dict[str, Any]] = []


@jobs.task("test.record_call", max_attempts=3)
def record_call(ctx: jobs.JobContext, **args: Any) -> dict[str, Any]:
    CALLS.append(args)
    ctx.progress(1, 1, "done")
    return {"seen": args}


@jobs.task("test.always_fails", max_attempts=2)
def always_fails(ctx: jobs.JobContext, **args: Any) -> None:
    raise jobs.TaskError("the remote system said no")


@jobs.task("test.bad_input", max_attempts=5)
def bad_input(ctx: jobs.JobContext, **args: Any) -> None:
    raise jobs.PermanentTaskError("row 3 has no email")


@pytest.fixture(autouse=True)
def _reset_calls() -> Iterator[None]:
    CALLS.clear()
    yield


def queued_ids(platform: Platform) -> list[int]:
    queue: Queue = platform.queue()
    return [job.args[0] for job in queue.get_jobs()]


def get(platform: Platform, job_id: int) -> Job:
    with platform.db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_job_is_sent_after_commit_and_runs(platform: Platform) -> None:
    with platform.db.session() as session:
        job = jobs.submit(session, platform, "test.record_call", record_id=7)
        assert queued_ids(platform) == []  # nothing leaves before the commit
    assert queued_ids(platform) == [job.id]
    assert get(platform, job.id).pushed_at is not None
    assert jobs.execute(platform, job.id) == "done"
    done = get(platform, job.id)
    assert (done.status, done.attempts, done.result) == ("done", 1, {"seen": {"record_id": 7}})
    assert (done.progress_done, done.progress_total, done.message) == (1, 1, "done")
    assert CALLS == [{"record_id": 7}]


def test_rolled_back_transaction_sends_nothing(platform: Platform) -> None:
    with pytest.raises(RuntimeError), platform.db.session() as session:
        jobs.submit(session, platform, "test.record_call", record_id=1)
        raise RuntimeError("the write failed after the job was asked for")
    assert queued_ids(platform) == []
    with platform.db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_a_second_message_for_the_same_job_does_not_run_it_twice(platform: Platform) -> None:
    with platform.db.session() as session:
        job_id = jobs.submit(session, platform, "test.record_call", record_id=1).id
    assert jobs.execute(platform, job_id) == "done"
    assert jobs.execute(platform, job_id) is None
    assert len(CALLS) == 1


def test_only_ids_and_scalars_travel(platform: Platform) -> None:
    with pytest.raises(TypeError, match="jobs carry ids"), platform.db.session() as session:
        jobs.submit(session, platform, "test.record_call", rows=[{"name": "x"}])


def test_failures_are_retried_with_backoff_then_fail(platform: Platform) -> None:
    with platform.db.session() as session:
        job_id = jobs.submit(session, platform, "test.always_fails").id
    assert jobs.execute(platform, job_id) == "queued"
    retry = get(platform, job_id)
    assert retry.attempts == 1 and retry.pushed_at is None
    assert retry.error == "the remote system said no"
    assert jobs.execute(platform, job_id) is None  # not due yet
    later = retry.run_after + timedelta(seconds=1)
    assert jobs.sweep(platform, now=later)["pushed"] == 1
    with platform.db.engine.begin() as conn:  # let it be due now
        conn.execute(sa.update(Job).values(run_after=utcnow() - timedelta(seconds=1)))
    assert jobs.execute(platform, job_id) == "failed"
    assert get(platform, job_id).attempts == 2


def test_permanent_errors_are_not_retried(platform: Platform) -> None:
    with platform.db.session() as session:
        job_id = jobs.submit(session, platform, "test.bad_input").id
    assert jobs.execute(platform, job_id) == "failed"
    assert get(platform, job_id).error == "row 3 has no email"


def test_sweeper_resends_ids_redis_lost(platform: Platform, redis_client: redis.Redis) -> None:
    with platform.db.session() as session:
        job_id = jobs.submit(session, platform, "test.record_call").id
    redis_client.flushdb()  # Redis restarted without persistence
    assert jobs.sweep(platform)["pushed"] == 0  # recently sent: give the worker time
    assert (
        jobs.sweep(platform, now=utcnow() + jobs.RESEND_AFTER + timedelta(seconds=1))["pushed"] == 1
    )
    assert queued_ids(platform) == [job_id]


def test_sweeper_takes_back_jobs_of_dead_workers(platform: Platform) -> None:
    with platform.db.session() as session:
        job_id = jobs.submit(session, platform, "test.record_call").id
    with platform.db.engine.begin() as conn:  # a worker claimed it, then was killed
        conn.execute(
            sa.update(Job).values(
                status="running", attempts=1, lease_expires_at=utcnow() - timedelta(seconds=1)
            )
        )
    assert jobs.sweep(platform)["requeued"] == 1
    assert jobs.execute(platform, job_id) == "done"
    assert get(platform, job_id).attempts == 2


def test_worker_runs_queued_jobs(platform: Platform) -> None:
    from tessera.platform.app import create_app
    from tessera.platform.worker import run_worker

    with platform.db.session() as session:
        ids = [jobs.submit(session, platform, "test.record_call", n=n).id for n in range(3)]
    run_worker(create_app(platform=platform), burst=True)
    assert sorted(c["n"] for c in CALLS) == [0, 1, 2]
    assert {get(platform, i).status for i in ids} == {"done"}
