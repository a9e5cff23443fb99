"""Admin: departments (a tree with managers) and roles.

A department cannot become its own ancestor, and one with sub-departments cannot be deleted
(its people simply lose their department).  A role's key is fixed once created, because app
definitions and rules refer to roles by key; its names may change freely.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session

from tessera.platform import audit
from tessera.platform.identity import departments
from tessera.platform.identity.admin import blueprint
from tessera.platform.identity.current import require_identity
from tessera.platform.identity.forms import DepartmentForm, RoleForm, options, role_values
from tessera.platform.models import Department, Role, RoleMembership, User
from tessera.platform.runtime import current_platform


def _department_choices(db: Session, form: DepartmentForm, editing: int | None) -> None:
    parents = departments.parent_map(db)
    below = set(departments.descendants(parents, editing)) if editing else set()
    form.parent_id.choices = options(
        [("", gettext("(top level)"))]
        + [
            (str(node.department.id), "\u2003" * node.depth + node.department.name)
            for node in departments.flattened_tree(db)
            if node.department.id not in below
        ]
    )
    form.manager_id.choices = options(
        [("", gettext("(none)"))]
        + [
            (str(u.id), f"{u.name} <{u.email}>")
            for u in db.scalars(sa.select(User).where(User.is_active.is_(True)).order_by(User.name))
        ]
    )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


@blueprint.route("/departments", methods=["GET", "POST"])
def departments_page() -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        form = DepartmentForm()
        _department_choices(db, form, None)
        if form.validate_on_submit():
            department = Department(
                name=form.name.data.strip(),
                parent_id=_int_or_none(form.parent_id.data),
                manager_id=_int_or_none(form.manager_id.data),
            )
            db.add(department)
            db.flush()
            audit.record(
                db,
                "department.created",
                actor_id=identity.user_id,
                entity="department",
                record_id=department.id,
                changes={
                    "name": department.name,
                    "parent_id": department.parent_id,
                    "manager_id": department.manager_id,
                },
            )
            flash(gettext("Department %(name)s has been created.", name=department.name), "success")
            return redirect(url_for("admin.departments_page"))
        counts = dict(
            db.execute(
                sa.select(User.department_id, sa.func.count(User.id)).group_by(User.department_id)
            ).all()
        )
        managers = dict(db.execute(sa.select(User.id, User.name)).all())
        return render_template(
            "admin/departments.html",
            form=form,
            tree=departments.flattened_tree(db),
            counts=counts,
            managers=managers,
        )


@blueprint.route("/departments/<int:department_id>", methods=["GET", "POST"])
def department_edit(department_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        department = db.get(Department, department_id)
        if department is None:
            abort(404)
        form = DepartmentForm(obj=department)
        _department_choices(db, form, department.id)
        if request.method == "GET":
            form.parent_id.data = str(department.parent_id or "")
            form.manager_id.data = str(department.manager_id or "")
        if form.validate_on_submit():
            parent = _int_or_none(form.parent_id.data)
            if departments.would_cycle(departments.parent_map(db), department.id, parent):
                form.parent_id.errors.append(gettext("A department cannot be placed under itself."))
            else:
                values = {
                    "name": form.name.data.strip(),
                    "parent_id": parent,
                    "manager_id": _int_or_none(form.manager_id.data),
                }
                audit.update(
                    db,
                    "department.updated",
                    department,
                    values,
                    actor_id=identity.user_id,
                    entity="department",
                )
                flash(gettext("The changes have been saved."), "success")
                return redirect(url_for("admin.departments_page"))
        members = db.scalars(
            sa.select(User).where(User.department_id == department.id).order_by(User.name)
        ).all()
        return render_template(
            "admin/department_form.html", form=form, department=department, members=members
        )


@blueprint.post("/departments/<int:department_id>/delete")
def department_delete(department_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        department = db.get(Department, department_id)
        if department is None:
            abort(404)
        if db.scalar(sa.select(Department.id).where(Department.parent_id == department.id)):
            flash(gettext("Move or delete its sub-departments first."), "error")
            return redirect(url_for("admin.department_edit", department_id=department_id))
        audit.record(
            db,
            "department.deleted",
            actor_id=identity.user_id,
            entity="department",
            record_id=department.id,
            changes={"name": department.name},
        )
        db.execute(
            sa.update(User).where(User.department_id == department.id).values(department_id=None)
        )
        db.delete(department)
        flash(gettext("Department %(name)s has been deleted.", name=department.name), "success")
    return redirect(url_for("admin.departments_page"))


@blueprint.route("/roles", methods=["GET", "POST"])
def roles() -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        form = RoleForm()
        if form.validate_on_submit():
            key = form.key.data
            if db.scalar(sa.select(Role.id).where(Role.key == key)) is not None:
                form.key.errors.append(gettext("A role with this key exists already."))
            else:
                values = role_values(form)
                role = Role(key=key, **values)
                db.add(role)
                db.flush()
                audit.record(
                    db,
                    "role.created",
                    actor_id=identity.user_id,
                    entity="role",
                    record_id=role.id,
                    changes={"key": key, "label": values["label"]},
                )
                flash(gettext("The role has been created."), "success")
                return redirect(url_for("admin.roles"))
        counts = dict(
            db.execute(
                sa.select(RoleMembership.role_id, sa.func.count()).group_by(RoleMembership.role_id)
            ).all()
        )
        rows = db.scalars(sa.select(Role).order_by(Role.key)).all()
        return render_template("admin/roles.html", form=form, roles=rows, counts=counts)


@blueprint.route("/roles/<int:role_id>", methods=["GET", "POST"])
def role_edit(role_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        role = db.get(Role, role_id)
        if role is None:
            abort(404)
        form = RoleForm(
            key=role.key,
            label_en=role.label.get("en", ""),
            label_zh=role.label.get("zh-CN", ""),
            description=role.description,
        )
        # The key is fixed: whatever the POST says, the stored key is validated and kept.
        form.key.data = role.key
        if form.validate_on_submit():
            audit.update(
                db,
                "role.updated",
                role,
                role_values(form),
                actor_id=identity.user_id,
                entity="role",
            )
            flash(gettext("The changes have been saved."), "success")
            return redirect(url_for("admin.roles"))
        members = db.scalars(
            sa.select(User)
            .join(RoleMembership, RoleMembership.user_id == User.id)
            .where(RoleMembership.role_id == role.id)
            .order_by(User.name)
        ).all()
        return render_template("admin/role_form.html", form=form, role=role, members=members)


@blueprint.post("/roles/<int:role_id>/delete")
def role_delete(role_id: int) -> ResponseReturnValue:
    identity = require_identity()
    with current_platform().db.session() as db:
        role = db.get(Role, role_id)
        if role is None:
            abort(404)
        members = db.scalars(
            sa.select(RoleMembership.user_id).where(RoleMembership.role_id == role.id)
        ).all()
        audit.record(
            db,
            "role.deleted",
            actor_id=identity.user_id,
            entity="role",
            record_id=role.id,
            changes={"key": role.key, "members": list(members)},
        )
        db.delete(role)
        flash(gettext("The role has been deleted."), "success")
    return redirect(url_for("admin.roles"))
