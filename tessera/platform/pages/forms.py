"""Create and edit forms rendered from the entity's layout, and what happens on save.

On save the server does again what the page did live: it evaluates ``visible_if`` and
``read_only_if`` for the submitted values and drops fields that are hidden or read-only, so a
crafted POST cannot write a field the form did not offer.  Files arrive with the form
(multipart); a kept file must be one the user uploaded or one the record already holds.
Everything else — types, required fields, links, uniqueness, validation rules, permissions,
optimistic locking — is the records service's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from tessera.platform import files
from tessera.platform.i18n import error_text
from tessera.platform.identity.current import login_required
from tessera.platform.models import Department, User
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import Runtime, open_app, record_or_404
from tessera.platform.pages.layout import Conditions, Layout, layout_of
from tessera.platform.pages.nav import entity_url, frame
from tessera.platform.pages.titles import collect
from tessera.platform.pages.widgets import (
    COMPUTED,
    label_of,
    problem_text,
    read_form,
    read_value,
)
from tessera.platform.runtime import current_platform

FILE_TYPES = ("attachment", "image")


def children_of(runtime: Runtime, entity: EntityModel) -> dict[str, EntityModel]:
    return {
        f.key: runtime.model.entity(str(f.target)) for f in entity.fields if f.type == "child_table"
    }


def typed(entity: EntityModel, values: Mapping[str, Any]) -> dict[str, Any]:
    """Form values in their field types where they are valid (for conditions and re-display)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if not entity.has_field(key):
            out[key] = value
            continue
        f = entity.field(key)
        if f.type == "child_table":
            out[key] = value
            continue
        checked, problem = f.kind.check(f.spec, value)
        out[key] = value if problem else checked
    return out


def editable_keys(
    entity: EntityModel, layout: Layout, locked: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    return [
        p.key for p in layout.placed()
        if p.field.type not in COMPUTED and not p.field.spec.get("read_only")
        and p.key not in locked
    ]  # fmt: skip


def locked_fields(runtime: Runtime, entity: EntityModel) -> set[str]:
    """Fields the user's roles make read-only: drawn disabled, never read from a post (the
    records service refuses them too)."""
    writable = runtime.service.scope.writable_fields(entity)
    if writable is None:
        return set()
    return {f.key for f in entity.fields if f.key not in writable}


def errors_by_path(errors: list[FieldError]) -> dict[str, list[str]]:
    """The messages to show next to each field, in the user's language."""
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e.path, []).append(error_text(e))
    return out


def starting_values(runtime: Runtime, entity: EntityModel) -> dict[str, Any]:
    """A new record's form: static defaults, then values passed in the query string (quick
    add from a related list passes the link: ``?account=12``)."""
    now = dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {}
    for f in entity.fields:
        if (
            f.type in COMPUTED
            or f.type == "child_table"
            or isinstance(f.spec.get("default"), Mapping)
        ):
            continue
        try:
            values[f.key] = f.kind.default(f.spec, now)
        except ValueError:
            values[f.key] = None
    for key, raw in request.args.items():
        if entity.has_field(key) and entity.field(key).type in ("link", "select", "user", "text"):
            checked, problem = entity.field(key).kind.check(entity.field(key).spec, raw)
            if not problem:
                values[key] = checked
    return values


def choices(runtime: Runtime, entity: EntityModel) -> dict[str, list[Any]]:
    """Active users and departments, for entities that have user or department fields."""
    types = {f.type for e in [entity, *children_of(runtime, entity).values()] for f in e.fields}
    out: dict[str, list[Any]] = {"people": [], "departments": []}
    if "user" in types:
        users = User.__table__
        out["people"] = list(runtime.conn.execute(
            sa.select(users.c.id, users.c.name).where(users.c.is_active.is_(True))
            .order_by(users.c.name).limit(2000)
        ))  # fmt: skip
    if "department" in types:
        table = Department.__table__
        out["departments"] = list(runtime.conn.execute(
            sa.select(table.c.id, table.c.name).order_by(table.c.name).limit(2000)
        ))  # fmt: skip
    return out


def render_form(
    runtime: Runtime,
    entity: EntityModel,
    record: Mapping[str, Any],
    *,
    record_id: int | None,
    errors: list[FieldError] = (),  # type: ignore[assignment]
    banner: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    layout = layout_of(runtime, entity)
    conditions = Conditions(runtime, entity, layout)
    results = conditions.evaluate({**record, "id": record_id})
    titles = collect(runtime, entity, [record], [p.key for p in layout.placed()])
    by_path = errors_by_path(list(errors))
    if not banner and by_path.get(""):
        banner = " ".join(by_path[""])
    context = {
        **frame(runtime, entity),
        "runtime": runtime, "layout": layout, "record": record, "record_id": record_id,
        "hidden": conditions.hidden(results), "read_only": conditions.read_only(results),
        "locked": locked_fields(runtime, entity),
        "hidden_sections": {
            s.index for s in layout.sections
            if s.visible_if is not None and not results.get(f"section:{s.index}")
        },
        **choices(runtime, entity),
        "has_conditions": bool(layout.conditions), "titles": titles, "errors": by_path,
        "banner": banner, "children": children_of(runtime, entity),
        "cancel_url": entity_url(runtime.key, entity.key, str(record_id)) if record_id
        else entity_url(runtime.key, entity.key),
        "action": entity_url(runtime.key, entity.key, f"{record_id}/edit" if record_id else "new"),
    }  # fmt: skip
    return render_template("pages/form.html", **context), status


def submitted(
    runtime: Runtime, entity: EntityModel, stored: Mapping[str, Any], record_id: int | None
) -> tuple[dict[str, Any], list[FieldError], dict[str, Any]]:
    """``(values to write, problems, record to show again)`` from the posted form."""
    layout = layout_of(runtime, entity)
    tz = runtime.identity.time_zone
    values, problems = read_form(
        entity, children_of(runtime, entity), request.form,
        editable_keys(entity, layout, locked_fields(runtime, entity)), tz,
    )  # fmt: skip
    for p in layout.placed():
        if p.field.type in FILE_TYPES and f"{p.key}.present" in request.form:
            refs, file_problems = _files_for(runtime, p.key, stored.get(p.key) or [])
            values[p.key] = refs
            problems += file_problems
    merged = {**stored, **typed(entity, values)}
    conditions = Conditions(runtime, entity, layout)
    results = conditions.evaluate({**merged, "id": record_id})
    for key in conditions.hidden(results) | conditions.read_only(results):
        values.pop(key, None)
    if record_id is not None:  # an unticked box over a yes/no never set: nothing was said
        for key in [k for k, v in values.items() if v is False and stored.get(k) is None]:
            del values[key]
    if record_id is None:  # blank fields with a default get the default, as the API does
        for key in [k for k, v in values.items() if v in (None, []) and _has_default(entity, k)]:
            del values[key]
    return values, problems, merged


def _has_default(entity: EntityModel, key: str) -> bool:
    return entity.field(key).spec.get("default") is not None


def _files_for(
    runtime: Runtime, key: str, already: list[Any]
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The field's files after this save: the kept ones (checked) and the new uploads."""
    held = [str(ref.get("id")) for ref in already if isinstance(ref, Mapping)]
    kept, refused = files.usable(
        runtime.conn, request.form.getlist(key), runtime.identity.user_id, held
    )
    problems = [FieldError(key, _("A file could not be attached."), "file")] if refused else []
    refs = [ref.as_value() for ref in kept]
    platform = current_platform()
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 16 * 1024 * 1024)
    for upload in request.files.getlist(f"{key}.upload"):
        if not upload or not upload.filename:
            continue
        try:
            ref = files.store(
                runtime.conn, platform.settings.instance_path, upload.stream, upload.filename,
                runtime.identity.user_id, max_size=limit,
            )  # fmt: skip
        except files.UploadRefused as refusal:
            problems.append(FieldError.of(key, refusal.template, "file", **refusal.params))
            continue
        refs.append(ref.as_value())
    return refs, problems


@blueprint.route("/<app_key>/<entity_key>/new", methods=["GET", "POST"])
@login_required
def new_record(app_key: str, entity_key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        if request.method == "GET":
            return render_form(runtime, entity, starting_values(runtime, entity), record_id=None)
        values, problems, merged = submitted(runtime, entity, {}, None)
        if not problems:
            try:
                created = runtime.service.create(entity.key, values)
            except ValidationFailed as failed:
                problems = failed.errors
            except PermissionDenied as denied:
                return render_form(runtime, entity, merged, record_id=None,
                                   banner=error_text(denied), status=403)  # fmt: skip
            else:
                flash(_("%(entity)s created.", entity=entity.label(runtime.locale)), "success")
                if request.form.get("then") == "new":
                    return redirect(entity_url(app_key, entity.key, "new"))
                return redirect(entity_url(app_key, entity.key, str(created["id"])))
        return render_form(runtime, entity, merged, record_id=None, errors=problems, status=422)


@blueprint.route("/<app_key>/<entity_key>/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit_record(app_key: str, entity_key: str, record_id: int) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        stored = record_or_404(runtime, entity.key, record_id)
        if request.method == "GET":
            return render_form(runtime, entity, stored, record_id=record_id)
        values, problems, merged = submitted(runtime, entity, stored, record_id)
        merged["version"] = stored["version"]
        if not problems:
            try:
                expected = int(request.form.get("version", ""))
            except ValueError:
                abort(400)
            try:
                runtime.service.update(entity.key, record_id, values, expected_version=expected)
            except ValidationFailed as failed:
                problems = failed.errors
            except Conflict as conflict:
                fields = ", ".join(
                    label_of(entity.field(k), runtime.locale) for k in conflict.changed_fields
                    if entity.has_field(k)
                )  # fmt: skip
                banner = _("Someone else saved this record after you opened it. Reload to see "
                           "their changes; yours are still in the form.")  # fmt: skip
                if fields:
                    banner += " " + _("Changed since: %(fields)s.", fields=fields)
                return render_form(runtime, entity, merged, record_id=record_id, banner=banner,
                                   status=409)  # fmt: skip
            except (PermissionDenied, NotFound) as refused:
                return render_form(runtime, entity, merged, record_id=record_id,
                                   banner=error_text(refused), status=403)  # fmt: skip
            else:
                flash(_("Changes saved."), "success")
                return redirect(entity_url(app_key, entity.key, str(record_id)))
        return render_form(runtime, entity, merged, record_id=record_id, errors=problems,
                           status=422)  # fmt: skip


@blueprint.post("/<app_key>/<entity_key>/<int:record_id>/delete")
@login_required
def delete_record(app_key: str, entity_key: str, record_id: int) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        try:
            runtime.service.delete(entity.key, record_id)
        except NotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
    flash(_("Moved to the trash."), "success")
    return redirect(entity_url(app_key, entity_key))


@blueprint.post("/<app_key>/<entity_key>/_/bulk")
@login_required
def bulk(app_key: str, entity_key: str) -> ResponseReturnValue:
    """Bulk edit or delete of the rows selected on a list (all or nothing)."""
    from werkzeug.datastructures import MultiDict

    back = request.form.get("next", "")
    target = (
        back
        if back.startswith(f"/apps/{app_key}/{entity_key}/")
        else entity_url(app_key, entity_key)
    )
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:1000]
    if not ids:
        flash(_("Select some records first."), "error")
        return redirect(target)
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        action = request.form.get("action")
        try:
            if action == "delete":
                runtime.service.bulk_delete(entity.key, ids)
                flash(_("%(n)d records moved to the trash.", n=len(ids)), "success")
            elif action == "edit":
                key = request.form.get("field", "")
                if not entity.has_field(key) or entity.field(key).type in COMPUTED:
                    abort(400)
                f = entity.field(key)
                form = MultiDict([(key, v) for v in request.form.getlist("value")])
                form.add(f"{key}.present", "1")
                _present, value, problem = read_value(f, form, key, runtime.identity.time_zone)
                if problem:
                    raise ValidationFailed.one(key, problem_text(problem))
                if value is not None:  # the field type reads it, so a bad value is named once
                    value, refused = f.kind.try_validate(f.spec, value)
                    if refused:
                        raise ValidationFailed.one(
                            key, f"{label_of(f, runtime.locale)}: {error_text(refused)}"
                        )
                runtime.service.bulk_update(entity.key, [(i, {key: value}, None) for i in ids])
                flash(_("%(n)d records updated.", n=len(ids)), "success")
            else:
                abort(400)
        except ValidationFailed as failed:
            reason = error_text(failed.errors[0])
            flash(_("Nothing was changed: %(reason)s", reason=reason), "error")
        except (NotFound, PermissionDenied) as denied:
            flash(_("Nothing was changed: %(reason)s", reason=error_text(denied)), "error")
    return redirect(target)
