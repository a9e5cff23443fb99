"""The mail outbox: written with the caller's transaction, sent by a job, at most once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tessera.platform import jobs, mail
from tessera.platform.models import Job, Mail, utcnow
from tessera.platform.runtime import Platform
from tests.conftest import SmtpSink, run_mail_jobs


def _queue(platform: Platform, to: str = "李雷 <li.lei@example.cn>", **kwargs: str) -> int:
    with platform.db.session() as db:
        row = mail.send(
            db,
            platform,
            to=to,
            subject=kwargs.get("subject", "周报已生成"),
            text="正文 body",
            html="<p>正文</p>",
        )
        return row.id


def _row(platform: Platform, mail_id: int) -> Mail:
    with platform.db.session() as db:
        row = db.get(Mail, mail_id)
        assert row is not None
        return row


def test_a_queued_mail_is_delivered(platform: Platform, smtp: SmtpSink) -> None:
    mail_id = _queue(platform)
    assert run_mail_jobs(platform) == ["done"]
    row = _row(platform, mail_id)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)
    [message] = smtp.messages
    assert message["Subject"] == "周报已生成" and message["Message-ID"] == row.message_id
    assert message["From"] == "Tessera <noreply@tessera.test>"
    assert smtp.envelopes[0].rcpt_tos == ["li.lei@example.cn"]
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>正文</p>"  # type: ignore[union-attr]
    assert run_mail_jobs(platform) == []  # nothing left: a second run sends nothing


def test_no_mail_without_the_change_that_caused_it(platform: Platform, smtp: SmtpSink) -> None:
    with pytest.raises(RuntimeError), platform.db.session() as db:
        mail.send(db, platform, to="a@example.com", subject="s", text="t")
        raise RuntimeError("the request failed after queuing the mail")
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Mail)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


@pytest.mark.parametrize("bad", ["a@example.com\r\nBcc: victim@example.com", "not-an-address"])
def test_header_injection_is_refused(platform: Platform, bad: str) -> None:
    with pytest.raises(ValueError), platform.db.session() as db:
        mail.send(db, platform, to=bad, subject="s", text="t")
    with pytest.raises(ValueError), platform.db.session() as db:
        mail.send(db, platform, to="a@example.com", subject="Hi\nBcc: x@example.com", text="t")


def test_a_rejected_recipient_fails_without_retry(platform: Platform, smtp: SmtpSink) -> None:
    smtp.reply = "550 No such user here"
    mail_id = _queue(platform)
    assert run_mail_jobs(platform) == ["failed"]
    row = _row(platform, mail_id)
    assert row.status == "failed" and "550" in (row.error or "")


def test_a_temporary_refusal_is_retried_then_sent(platform: Platform, smtp: SmtpSink) -> None:
    smtp.reply = "451 Try again later"
    mail_id = _queue(platform)
    assert run_mail_jobs(platform) == ["queued"]  # re-queued for later, with backoff
    assert _row(platform, mail_id).status == "queued"
    smtp.reply = "250 OK"
    with platform.db.session() as db:
        db.execute(sa.update(Job).values(run_after=utcnow()))
    assert run_mail_jobs(platform) == ["done"]
    row = _row(platform, mail_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.messages) == 2  # the server saw both attempts; it refused the first


def test_an_unreachable_server_is_retried_until_attempts_run_out(platform: Platform) -> None:
    from dataclasses import replace

    platform.settings = replace(
        platform.settings, smtp_host="127.0.0.1", smtp_port=1, smtp_tls="none"
    )
    mail_id = _queue(platform)
    for _ in range(mail.MAX_ATTEMPTS):
        with platform.db.session() as db:
            db.execute(sa.update(Job).values(run_after=utcnow()))
        run_mail_jobs(platform)
    row = _row(platform, mail_id)
    assert row.status == "failed" and "no attempts left" in (row.error or "")
    assert row.attempts == mail.MAX_ATTEMPTS


def test_unconfigured_mail_fails_visibly(platform: Platform) -> None:
    mail_id = _queue(platform)
    run_mail_jobs(platform)
    row = _row(platform, mail_id)
    assert row.status == "failed" and "TESSERA_SMTP_HOST" in (row.error or "")


def test_a_mail_left_in_sending_is_marked_unknown_not_resent(
    platform: Platform, smtp: SmtpSink
) -> None:
    mail_id = _queue(platform)
    with platform.db.session() as db:
        db.execute(sa.update(Mail).values(status="sending"))
    run_mail_jobs(platform)
    row = _row(platform, mail_id)
    assert row.status == "unknown" and smtp.messages == []


WORKER = """
import json, sys
from pathlib import Path
from tessera.platform.config import Settings
from tessera.platform.runtime import Platform
from tessera.platform import jobs, mail
spec = json.loads(sys.argv[1])
spec["instance_path"] = Path(spec["instance_path"])
jobs.execute(Platform(Settings(**spec)), int(sys.argv[2]))
"""


def test_worker_killed_after_the_server_took_the_message(
    platform: Platform, smtp: SmtpSink
) -> None:
    """kill -9 between the SMTP server accepting and the row being marked sent: the mail is
    delivered once and flagged unknown, never sent twice (the documented semantics)."""
    mail_id = _queue(platform)
    with platform.db.session() as db:
        job_id = db.scalar(sa.select(Job.id))
    spec = {k: v for k, v in asdict(platform.settings).items() if k != "extra"}
    spec["instance_path"] = str(spec["instance_path"])
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(spec), str(job_id)],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    smtp.on_data = lambda _envelope: os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=60) == -signal.SIGKILL
    assert len(smtp.messages) == 1
    assert _row(platform, mail_id).status == "sending"
    # The scheduler's sweeper takes the job back once its lease has expired, and it runs again.
    smtp.on_data = None
    swept = jobs.sweep(platform, now=utcnow() + timedelta(minutes=4))
    assert swept["requeued"] == 1
    with platform.db.session() as db:  # the sweep ran "4 minutes from now"; come back to now
        db.execute(sa.update(Job).values(run_after=utcnow()))
    assert run_mail_jobs(platform) == ["done"]
    row = _row(platform, mail_id)
    assert row.status == "unknown" and "may or may not" in (row.error or "")
    assert len(smtp.messages) == 1  # delivered exactly once


def test_admin_can_send_an_unknown_mail_again(platform: Platform, smtp: SmtpSink) -> None:
    mail_id = _queue(platform)
    with platform.db.session() as db:
        db.execute(sa.update(Mail).values(status="unknown"))
        db.execute(sa.update(Job).values(status="done"))
        assert mail.send_again(db, platform, db.get(Mail, mail_id), actor_id=None)  # type: ignore[arg-type]
    run_mail_jobs(platform)
    assert _row(platform, mail_id).status == "sent" and len(smtp.messages) == 1
