"""Admin: list, create and edit users; assign department and roles; deactivate; send reset links.

Guards beyond the form: emails stay unique, an administrator cannot deactivate or demote
themselves, and the last active system administrator cannot be removed, so the platform always
keeps someone who can administer it.  Every change is audited as a field-level diff, with role
and department changes spelled out as permission changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session

from tessera.platform import audit
from tessera.platform.i18n import localised
from tessera.platform.identity import departments, resets, sessions
from tessera.platform.identity.admin import blueprint
from tessera.platform.identity.current import require_identity
from tessera.platform.identity.forms import UserForm, options, profile_values
from tessera.platform.models import Department, Role, RoleMembership, User
from tessera.platform.runtime import current_platform

PAGE_SIZE = 50
#: the columns an edit may change, audited field by field (with the role ids beside them)
AUDITED = (
    "name",
    "email",
    "phone",
    "locale",
    "time_zone",
    "platform_role",
    "department_id",
    "is_active",
)


def _fill_choices(db: Session, form: UserForm) -> None:
    form.department_id.choices = options(
        [("", gettext("(none)"))]
        + [
            (str(node.department.id), "\u2003" * node.depth + node.department.name)
            for node in departments.flattened_tree(db)
        ]
    )
    form.roles.choices = options(
        [
            (str(role.id), f"{localised(role.label)} ({role.key})")
            for role in db.scalars(sa.select(Role).order_by(Role.key))
        ]
    )


def _role_ids(db: Session, user_id: int) -> list[str]:
    rows = db.scalars(sa.select(RoleMembership.role_id).where(RoleMembership.user_id == user_id))
    return [str(r) for r in rows]


def _other_active_admins(db: Session, user_id: int) -> int:
    return int(
        db.scalar(
            sa.select(sa.func.count(User.id)).where(
                User.platform_role == "system_admin", User.is_active.is_(True), User.id != user_id
            )
        )
        or 0
    )


@blueprint.get("/users")
def users() -> ResponseReturnValue:
    query = (request.args.get("q") or "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with current_platform().db.session() as db:
        select = sa.select(User).order_by(User.name, User.id)
        if query:
            pattern = (
                "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            select = select.where(
                sa.or_(
                    User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\")
                )
            )
        rows = db.scalars(select.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
        names = dict(db.execute(sa.select(Department.id, Department.name)).all())
        return render_template(
            "admin/users.html",
            users=rows[:PAGE_SIZE],
            more=len(rows) > PAGE_SIZE,
            page=page,
            q=query,
            department_names=names,
        )


@blueprint.route("/users/new", methods=["GET", "POST"])
def user_new() -> ResponseReturnValue:
    identity = require_identity()
    platform = current_platform()
    with platform.db.session() as db:
        form = UserForm()
        _fill_choices(db, form)
        if request.method == "GET":
            form.locale.data = identity.locale
            form.time_zone.data = identity.time_zone
        if not form.validate_on_submit():
            return render_template("admin/user_form.html", form=form, user=None)
        email = form.email.data.strip().lower()
        if db.scalar(sa.select(User.id).where(User.email == email)) is not None:
            form.email.errors.append(gettext("A user with this email exists already."))
            return render_template("admin/user_form.html", form=form, user=None)
        user = User(
            **profile_values(form),
            email=email,
            platform_role=form.platform_role.data,
            department_id=int(form.department_id.data) if form.department_id.data else None,
            is_active=bool(form.is_active.data),
            password_hash=None,
        )
        db.add(user)
        db.flush()
        role_ids = sorted(int(r) for r in form.roles.data)
        for role_id in role_ids:
            db.add(RoleMembership(user_id=user.id, role_id=role_id))
        audit.record(
            db,
            "user.created",
            actor_id=identity.user_id,
            entity="user",
            record_id=user.id,
            changes={
                "email": email,
                "platform_role": user.platform_role,
                "department_id": user.department_id,
                "role_ids": role_ids,
            },
        )
        if form.send_invite.data and user.is_active:
            resets.send_link(db, platform, user, purpose="invite", actor_id=identity.user_id)
        flash(gettext("User %(name)s has been created.", name=user.name), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        form = UserForm(obj=user)
        _fill_choices(db, form)
        if request.method == "GET":
            form.department_id.data = str(user.department_id or "")
            form.roles.data = _role_ids(db, user.id)
        if not form.validate_on_submit():
            return render_template("admin/user_form.html", form=form, user=user)
        email = form.email.data.strip().lower()
        clash = db.scalar(sa.select(User.id).where(User.email == email, User.id != user.id))
        if clash is not None:
            form.email.errors.append(gettext("A user with this email exists already."))
            return render_template("admin/user_form.html", form=form, user=user)
        role = form.platform_role.data
        active = bool(form.is_active.data)
        losing_admin = user.platform_role == "system_admin" and (
            role != "system_admin" or not active
        )
        if losing_admin and user.id == identity.user_id:
            flash(gettext("You cannot remove your own administrator access."), "error")
            return render_template("admin/user_form.html", form=form, user=user), 409
        if losing_admin and _other_active_admins(db, user.id) == 0:
            flash(gettext("The last active system administrator must stay."), "error")
            return render_template("admin/user_form.html", form=form, user=user), 409
        before = {
            **audit.fields_of(user, AUDITED),
            "role_ids": sorted(int(r) for r in _role_ids(db, user.id)),
        }
        for name, value in profile_values(form).items():
            setattr(user, name, value)
        user.email = email
        user.platform_role = role
        user.department_id = int(form.department_id.data) if form.department_id.data else None
        user.is_active = active
        new_roles = sorted(int(r) for r in form.roles.data)
        db.execute(sa.delete(RoleMembership).where(RoleMembership.user_id == user.id))
        for role_id in new_roles:
            db.add(RoleMembership(user_id=user.id, role_id=role_id))
        after = {**audit.fields_of(user, AUDITED), "role_ids": new_roles}
        changes = audit.diff(before, after)
        if changes:
            grants = {"platform_role", "department_id", "is_active", "role_ids"} & set(changes)
            audit.record(
                db,
                "user.permissions_changed" if grants else "user.updated",
                actor_id=identity.user_id,
                entity="user",
                record_id=user.id,
                changes=changes,
            )
        if not active:
            sessions.end_all(db, user.id)
        flash(gettext("The changes have been saved."), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))


@blueprint.post("/users/<int:user_id>/send-reset")
def user_send_reset(user_id: int) -> ResponseReturnValue:
    identity = require_identity()
    platform = current_platform()
    with platform.db.session() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        if not user.is_active:
            flash(gettext("This user is deactivated."), "error")
        else:
            purpose = "reset" if user.password_hash else "invite"
            resets.send_link(db, platform, user, purpose=purpose, actor_id=identity.user_id)
            flash(gettext("A link has been emailed to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))
