"""Admin: every user's API tokens, the audit log and the mail outbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from tessera.platform import mail
from tessera.platform.identity import tokens
from tessera.platform.identity.admin import blueprint
from tessera.platform.identity.current import require_identity
from tessera.platform.models import ApiToken, AuditEntry, Mail, User
from tessera.platform.runtime import current_platform

PAGE_SIZE = 100


@blueprint.get("/tokens")
def tokens_page() -> ResponseReturnValue:
    with current_platform().db.session() as db:
        rows = db.execute(
            sa.select(ApiToken, User.name, User.email)
            .join(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.created_at.desc())
            .limit(500)
        ).all()
        return render_template("admin/tokens.html", rows=rows, token_status=tokens.status)


@blueprint.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        token = db.get(ApiToken, token_id)
        if token is None:
            abort(404)
        if tokens.revoke(db, token, actor_id=identity.user_id):
            flash(gettext("The token has been revoked."), "success")
    return redirect(url_for("admin.tokens_page"))


@blueprint.get("/audit")
def audit_page() -> ResponseReturnValue:
    before = request.args.get("before", type=int)
    action = (request.args.get("action") or "").strip()[:40]
    with current_platform().db.session() as db:
        query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)
        if before:
            query = query.where(AuditEntry.id < before)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = db.scalars(query).all()
        actors = {e.actor_id for e in rows if e.actor_id is not None}
        names = (
            dict(db.execute(sa.select(User.id, User.name).where(User.id.in_(actors))).all())
            if actors
            else {}
        )
        return render_template(
            "admin/audit.html",
            entries=rows[:PAGE_SIZE],
            more=len(rows) > PAGE_SIZE,
            names=names,
            action=action,
        )


@blueprint.get("/mail")
def mail_page() -> ResponseReturnValue:
    with current_platform().db.session() as db:
        rows = db.scalars(sa.select(Mail).order_by(Mail.id.desc()).limit(PAGE_SIZE)).all()
        return render_template(
            "admin/mail.html", mails=rows, configured=bool(current_platform().settings.smtp_host)
        )


@blueprint.post("/mail/<int:mail_id>/send-again")
def mail_send_again(mail_id: int) -> ResponseReturnValue:
    identity = require_identity()
    platform = current_platform()
    with platform.db.session() as db:
        row = db.get(Mail, mail_id)
        if row is None:
            abort(404)
        if mail.send_again(db, platform, row, actor_id=identity.user_id):
            flash(gettext("The mail has been queued again."), "success")
    return redirect(url_for("admin.mail_page"))
