"""A user's own pages: profile, password, personal API tokens; and ``GET /api/v1/me``.

The profile form declares name, phone, language and time zone only: a member cannot change
their email, platform role, department, roles or active flag here, whatever the POST carries.
Tokens are looked up by id *and* owner, so one user cannot see or revoke another's.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from tessera.platform import audit, passwords
from tessera.platform.identity import sessions, tokens
from tessera.platform.identity.current import (
    identity_json,
    login_required,
    require_identity,
)
from tessera.platform.identity.forms import (
    ChangePasswordForm,
    ProfileForm,
    TokenForm,
    profile_values,
)
from tessera.platform.models import ApiToken, Department, User
from tessera.platform.runtime import current_platform

blueprint = Blueprint("profile", __name__)
api = Blueprint("api_identity", __name__, url_prefix="/api/v1")


@blueprint.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        user = db.get(User, identity.user_id)
        if user is None:
            abort(404)
        form = ProfileForm(obj=user)
        if form.validate_on_submit():
            audit.update(
                db, "user.updated", user, profile_values(form), actor_id=user.id, entity="user"
            )
            flash(gettext("Your profile has been saved."), "success")
            return redirect(url_for("profile.profile"))
        department = db.get(Department, user.department_id) if user.department_id else None
        return render_template(
            "profile/profile.html",
            form=form,
            user=user,
            department=department,
            password_form=ChangePasswordForm(),
        )


@blueprint.post("/profile/password")
@login_required
def change_password() -> ResponseReturnValue:
    identity = require_identity()
    form = ChangePasswordForm()
    with current_platform().db.session() as db:
        user = db.get(User, identity.user_id)
        if user is None:
            abort(404)
        if not form.validate_on_submit():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return redirect(url_for("profile.profile"))
        if not passwords.verify_password(user.password_hash, form.current.data):
            flash(gettext("The current password is not correct."), "error")
            return redirect(url_for("profile.profile"))
        user.password_hash = passwords.hash_password(form.password.data)
        ended = sessions.end_all(db, user.id, except_id=identity.auth_session_id)
        audit.record(
            db,
            "password.changed",
            actor_id=user.id,
            entity="user",
            record_id=user.id,
            changes={"other_sessions_ended": ended},
        )
    flash(gettext("Your password has been changed; other devices have been signed out."), "success")
    return redirect(url_for("profile.profile"))


@blueprint.route("/profile/tokens", methods=["GET", "POST"])
@login_required
def my_tokens() -> ResponseReturnValue:
    identity = require_identity()
    assert identity.user_id is not None
    form = TokenForm()
    new_secret: str | None = None
    with current_platform().db.session() as db:
        if form.validate_on_submit():
            scopes = list(form.scopes.data)
            if "admin" in scopes and not identity.is_system_admin:
                form.scopes.errors.append(gettext("Only system administrators can use admin."))
            else:
                _token, new_secret = tokens.create(
                    db,
                    user_id=identity.user_id,
                    name=form.name.data,
                    scopes=scopes,
                    days=int(form.days.data),
                    actor_id=identity.user_id,
                )
                form = TokenForm(formdata=None)
        rows = db.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == identity.user_id)
            .order_by(ApiToken.created_at.desc())
        ).all()
        page = make_response(
            render_template(
                "profile/tokens.html",
                form=form,
                tokens=rows,
                new_secret=new_secret,
                token_status=tokens.status,
            )
        )
    if new_secret:  # shown once: kept by no cache, and a reload does not post the form again
        page.headers["Cache-Control"] = "no-store"
    return page


@blueprint.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_my_token(token_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        token = db.scalar(
            sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == identity.user_id)
        )
        if token is None:
            abort(404)
        if tokens.revoke(db, token, actor_id=identity.user_id):
            flash(gettext("The token has been revoked."), "success")
    return redirect(url_for("profile.my_tokens"))


@api.get("/me")
@login_required
def me() -> ResponseReturnValue:
    """Who the token (or session) acts as: the smallest useful API call, for checking a token."""
    return jsonify(identity_json(require_identity()))
