"""Outgoing email through an outbox: a ``mails`` row written with the change, sent by a job.

Delivery is **at most once**.  Status moves queued -> sending -> sent | failed | unknown:

- ``send`` adds the row and a ``mail.deliver`` job in the caller's transaction, so a mail
  exists exactly when the change that caused it commits (a rolled-back sign-up sends nothing).
- The job claims the row (queued -> sending) with a conditional UPDATE and commits *before*
  talking to the SMTP server.
- Errors before the message body is handed over (connect, TLS, login, MAIL FROM, RCPT TO) cannot
  have delivered anything: a 4xx reply or a network error puts the row back to ``queued`` and the
  job is retried with backoff; a 5xx reply fails it.
- Once DATA has started, an explicit reply from the server still decides (250 sent, 4xx retry,
  5xx failed), but a dropped connection or timeout is ambiguous: the row becomes ``unknown``.
- A job that finds its row still in ``sending`` was restarted after its worker died mid-send
  (the sweeper took the job back when its lease expired); the server may have the message, so
  the row becomes ``unknown`` instead of being sent twice.

An administrator can send an ``unknown`` or ``failed`` mail again from the outbox page; that is a
deliberate, visible choice.  We chose this over re-sending (Frappe's way) because a duplicate
password link or marketing email does more harm than one a person can ask for again.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tessera.platform import jobs
from tessera.platform.models import Job, Mail, utcnow

if TYPE_CHECKING:
    from tessera.platform.config import Settings
    from tessera.platform.runtime import Platform

TASK = "mail.deliver"
MAX_ATTEMPTS = 6
SMTP_TIMEOUT = 30


def _check_header(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"the {what} must not contain line breaks")
    return value


def send(
    db: Session,
    platform: Platform,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str = "message",
    created_by: int | None = None,
) -> Mail:
    """Queue one email in the caller's transaction; a job sends it after commit."""
    _check_header(to, "recipient")
    _check_header(subject, "subject")
    _, address = parseaddr(to)
    if "@" not in address:
        raise ValueError(f"{to!r} is not an email address")
    domain = parseaddr(platform.settings.mail_from)[1].rpartition("@")[2] or "localhost"
    row = Mail(
        to_address=to,
        subject=subject[:500],
        body_text=text,
        body_html=html,
        message_id=make_msgid(domain=domain),
        kind=kind[:40],
        status="queued",
        created_by=created_by,
    )
    db.add(row)
    db.flush()
    jobs.submit(db, platform, TASK, created_by=created_by, mail_id=row.id)
    return row


def send_again(db: Session, platform: Platform, mail: Mail, *, actor_id: int | None) -> bool:
    """Re-queue a ``failed`` or ``unknown`` mail (an administrator's explicit decision)."""
    done = (
        db.connection()
        .execute(
            sa.update(Mail)
            .where(Mail.id == mail.id, Mail.status.in_(("failed", "unknown")))
            .values(status="queued", error=None)
        )
        .rowcount
    )
    if done == 1:
        jobs.submit(db, platform, TASK, created_by=actor_id, mail_id=mail.id)
    return bool(done == 1)


def build_message(settings: Settings, row: Mail) -> EmailMessage:
    message = EmailMessage()
    name, address = parseaddr(settings.mail_from)
    message["From"] = formataddr((name, address))
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


class _Outcome(Exception):
    """How a delivery attempt ended: a status for the row and whether the job should retry."""

    def __init__(self, status: str, error: str | None = None, retry: bool = False) -> None:
        super().__init__(error or status)
        self.status = status
        self.error = error
        self.retry = retry


def _reply_outcome(exc: smtplib.SMTPResponseException) -> _Outcome:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    detail = f"the mail server answered {exc.smtp_code} {text}".strip()
    if 400 <= exc.smtp_code < 500:
        return _Outcome("queued", detail, retry=True)
    return _Outcome("failed", detail)


def _open(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    if settings.smtp_tls == "ssl":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    if settings.smtp_tls == "starttls":
        client.starttls(context=ssl.create_default_context())
    return client


def deliver(settings: Settings, row: Mail) -> None:
    """Talk to the SMTP server; raises :class:`_Outcome` unless the message was accepted."""
    if not settings.smtp_host:
        raise _Outcome("failed", "mail is not configured: TESSERA_SMTP_HOST is not set")
    message = build_message(settings, row)
    sender = parseaddr(settings.mail_from)[1]
    recipient = parseaddr(row.to_address)[1]
    try:
        client = _open(settings)
    except (OSError, smtplib.SMTPException) as exc:
        raise _Outcome("queued", f"cannot reach the mail server: {exc}", retry=True) from None
    try:
        client.ehlo_or_helo_if_needed()
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        code, reply = client.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _reply_outcome(smtplib.SMTPResponseException(code, reply)) from None
    except smtplib.SMTPResponseException as exc:
        raise _reply_outcome(exc) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise _Outcome("queued", f"the mail server dropped the connection: {exc}", True) from None
    # From here on the server may have the message: only an explicit reply is conclusive.
    try:
        # smtplib sends bytes as they are: the SMTP policy gives the CRLF line ends it needs.
        code, reply = client.data(message.as_bytes(policy=email.policy.SMTP))
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    except smtplib.SMTPResponseException as exc:
        raise _reply_outcome(exc) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise _Outcome(
            "unknown",
            f"the connection ended while the message was sent, so it may or may "
            f"not have been delivered: {exc}",
        ) from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _attempts_left(db: Session, job_id: int) -> bool:
    job = db.get(Job, job_id)
    return job is not None and job.attempts < job.max_attempts


@jobs.task(TASK, max_attempts=MAX_ATTEMPTS, lease=timedelta(minutes=3))
def deliver_task(ctx: jobs.JobContext, mail_id: int) -> dict[str, Any] | None:
    platform = ctx.platform
    now = utcnow()
    with platform.db.session() as db:
        claimed = (
            db.connection()
            .execute(
                sa.update(Mail)
                .where(Mail.id == mail_id, Mail.status == "queued")
                .values(status="sending", attempts=Mail.attempts + 1, sending_started_at=now)
            )
            .rowcount
        )
        if claimed != 1:
            row = db.get(Mail, mail_id)
            if row is None:
                raise jobs.PermanentTaskError(f"mail {mail_id} does not exist")
            if row.status == "sending":
                row.status = "unknown"
                row.error = (
                    "the worker stopped while sending this mail; it may or may not have been "
                    "delivered, so it is not sent again automatically"
                )
            return {"status": row.status}
        row = db.get(Mail, mail_id)
        assert row is not None
    try:
        deliver(platform.settings, row)
        outcome = _Outcome("sent")
    except _Outcome as exc:
        outcome = exc
    with platform.db.session() as db:
        if outcome.retry and not _attempts_left(db, ctx.job_id):
            outcome = _Outcome("failed", f"{outcome.error} (no attempts left)")
        db.connection().execute(
            sa.update(Mail)
            .where(Mail.id == mail_id, Mail.status == "sending")
            .values(
                status=outcome.status,
                error=outcome.error,
                sent_at=utcnow() if outcome.status == "sent" else None,
            )
        )
    if outcome.retry:
        raise jobs.TaskError(outcome.error or "retrying")
    if outcome.status == "failed":
        raise jobs.PermanentTaskError(outcome.error or "failed")
    return {"status": outcome.status}
