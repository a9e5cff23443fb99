"""Sign-in, sign-out, the first-run page and password reset by emailed one-time link.

A failed sign-in answers 401 and a locked one 429, so the per-IP limiter can count failures
only.  The same message is shown for an unknown email and a wrong password, and unknown emails
are throttled like real ones, so the page reveals nothing about who has an account.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta, gettext

from tessera.platform import audit, passwords
from tessera.platform.identity import resets, sessions, throttle
from tessera.platform.identity.current import current_identity, safe_next
from tessera.platform.identity.forms import ForgotForm, NewPasswordForm, SetupForm, SignInForm
from tessera.platform.models import User, utcnow
from tessera.platform.runtime import current_platform
from tessera.platform.web.ratelimit import limiter, reset_ip_limit, sign_in_ip_limit

blueprint = Blueprint("auth", __name__)

#: Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = passwords.hash_password("tessera-timing-equaliser")


def _no_users(db: sa.orm.Session) -> bool:
    return db.scalar(sa.select(User.id).limit(1)) is None


def _locked_message(until_seconds: float) -> str:
    wait = format_timedelta(max(until_seconds, 60), threshold=1.0)
    return str(
        gettext(
            "Too many failed sign-ins for this account. Try again in %(wait)s, "
            "or reset your password.",
            wait=wait,
        )
    )


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(sign_in_ip_limit, methods=["POST"], deduct_when=lambda r: r.status_code == 401)
def sign_in() -> ResponseReturnValue:
    platform = current_platform()
    next_url = safe_next(request.values.get("next"))
    if current_identity() is not None:
        return redirect(next_url or url_for("web.home"))
    form = SignInForm()
    with platform.db.session() as db:
        if _no_users(db):
            return redirect(url_for("auth.setup"))
        if not form.validate_on_submit():
            return render_template("auth/sign_in.html", form=form, next=next_url)
        email = form.email.data.strip().lower()
        until = throttle.locked_until(db, email)
        if until is not None:
            error = _locked_message((until - utcnow()).total_seconds())
            return render_template("auth/sign_in.html", form=form, next=next_url, error=error), 429
        user = db.scalar(sa.select(User).where(User.email == email))
        ok = passwords.verify_password(
            user.password_hash if user else _DUMMY_HASH, form.password.data
        )
        if not ok or user is None:
            locked = throttle.record_failure(db, email)
            audit.record(
                db,
                "sign_in.failed",
                actor_id=user.id if user else None,
                entity="user",
                record_id=user.id if user else None,
                changes={"email": email, "reason": "password" if user else "unknown_email"},
            )
            if locked:
                audit.record(
                    db,
                    "sign_in.locked",
                    actor_id=user.id if user else None,
                    entity="user",
                    record_id=user.id if user else None,
                    changes={"email": email, "minutes": throttle.LOCKOUT.seconds // 60},
                )
                error = _locked_message(throttle.LOCKOUT.total_seconds())
                return (
                    render_template("auth/sign_in.html", form=form, next=next_url, error=error),
                    429,
                )
            error = gettext("The email or password is not correct.")
            return render_template("auth/sign_in.html", form=form, next=next_url, error=error), 401
        if not user.is_active:
            audit.record(
                db,
                "sign_in.failed",
                actor_id=user.id,
                entity="user",
                record_id=user.id,
                changes={"email": email, "reason": "inactive"},
            )
            error = gettext("This account has been deactivated. Ask your administrator.")
            return render_template("auth/sign_in.html", form=form, next=next_url, error=error), 403
        if user.password_hash and passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(form.password.data)
        throttle.clear(db, email)
        sessions.start(db, user)
        user.last_sign_in_at = utcnow()
        audit.record(db, "sign_in", actor_id=user.id, entity="user", record_id=user.id)
    return redirect(next_url or url_for("web.home"))


@blueprint.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    identity = current_identity()
    with current_platform().db.session() as db:
        sessions.end(db)
        if identity is not None:
            audit.record(
                db, "sign_out", actor_id=identity.user_id, entity="user", record_id=identity.user_id
            )
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(gettext("You have signed out."), "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/setup", methods=["GET", "POST"])
def setup() -> ResponseReturnValue:
    """First run: create the first system administrator.  Gone once any user exists."""
    platform = current_platform()
    form = SetupForm()
    if request.method == "GET" and not form.locale.data:
        form.locale.data = "zh-CN" if request.accept_languages.best_match(["zh"]) else "en"
    with platform.db.session() as db:
        if not _no_users(db):
            abort(404)
        if not form.validate_on_submit():
            return render_template("auth/setup.html", form=form)
        if db.get_bind().dialect.name == "postgresql":
            # Two browsers submitting at once must not both become the first admin.
            db.execute(sa.text("LOCK TABLE users IN EXCLUSIVE MODE"))
            if not _no_users(db):
                abort(404)
        user = User(
            name=form.name.data.strip(),
            email=form.email.data.strip().lower(),
            password_hash=passwords.hash_password(form.password.data),
            locale=form.locale.data,
            time_zone=form.time_zone.data,
            platform_role="system_admin",
            is_active=True,
        )
        db.add(user)
        db.flush()
        audit.record(
            db,
            "user.created",
            actor_id=user.id,
            entity="user",
            record_id=user.id,
            changes={"email": user.email, "platform_role": "system_admin", "via": "first_run"},
        )
        sessions.start(db, user)
        user.last_sign_in_at = utcnow()
        audit.record(db, "sign_in", actor_id=user.id, entity="user", record_id=user.id)
    flash(gettext("Welcome to Tessera. Your administrator account is ready."), "success")
    return redirect(url_for("web.home"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(reset_ip_limit, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    platform = current_platform()
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form)
    email = form.email.data.strip().lower()
    with platform.db.session() as db:
        user = db.scalar(sa.select(User).where(User.email == email))
        if user is not None and user.is_active:
            resets.send_link(db, platform, user, purpose="reset", actor_id=None)
        else:
            audit.record(db, "password.link_refused", actor_id=None, changes={"email": email})
    # The same answer either way: the page must not tell who has an account.
    return render_template("auth/forgot_sent.html", email=email)


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    platform = current_platform()
    form = NewPasswordForm()
    with platform.db.session() as db:
        row = resets.find_valid(db, token)
        if row is None:
            return render_template("auth/reset_invalid.html"), 410
        if not form.validate_on_submit():
            return render_template("auth/reset.html", form=form, purpose=row.purpose)
        user = resets.use(db, token, form.password.data)
        if user is None:
            return render_template("auth/reset_invalid.html"), 410
    flash(gettext("Your password has been set. Please sign in."), "success")
    return redirect(url_for("auth.sign_in"))
