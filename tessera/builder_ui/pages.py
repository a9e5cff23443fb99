"""The builder's pages: app manager, designers, publishing and version history.

Pages are server-rendered; the designers are one template each plus ES modules that edit the
draft in the browser (see ``static/designer/``).  Publishing and rollback are plain forms, so
the plan a builder confirms is the plan the server computed a moment before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from tessera.builder_ui import STATIC_DIR, blueprint, catalogue
from tessera.builder_ui.strings import strings
from tessera.engines import definitions as defs
from tessera.platform import app_transfer, apps, audit, permissions
from tessera.platform.app_plans import PlanLine
from tessera.platform.config import SUPPORTED_LOCALES
from tessera.platform.i18n import current_locale, error_text, localised
from tessera.platform.identity.current import require_identity
from tessera.platform.models import App
from tessera.platform.runtime import current_platform
from tessera.platform.web.fingerprints import fingerprint

TEMPLATES = ("crm", "ma")


@blueprint.app_template_global()
def builder_static(filename: str) -> str:
    """A URL of the builder's own static files, fingerprinted like the shell's."""
    return url_for("builder.static", filename=filename, v=fingerprint(STATIC_DIR, filename))


@contextmanager
def _conn() -> Iterator[sa.Connection]:
    with current_platform().db.session() as db:
        yield db.connection()


def _actor_id() -> int | None:
    return require_identity().user_id


def error_json(error: defs.DefinitionError) -> dict[str, Any]:
    """An error of the draft for the designers, its message in the builder's language (every
    error the validator finds carries its words and values; one without, such as an unknown
    format, is shown as written)."""
    return {
        "path": list(error.path),
        "json_path": error.json_path,
        "code": error.code,
        "message": error_text(error),
    }


def _app_row() -> sa.Row[Any]:
    """The registry row of the URL's app, read once by the blueprint's ``before_request`` with
    the permission check (which answered 404 for an app that does not exist)."""
    row: sa.Row[Any] = g.builder_app
    return row


def _published_doc(conn: sa.Connection, row: sa.Row[Any]) -> dict[str, Any] | None:
    if row.published_version is None:
        return None
    return apps.version_definition(conn, row.key, int(row.published_version))


def _has_entity(doc: dict[str, Any], entity: str) -> bool:
    return any(isinstance(e, dict) and e.get("key") == entity for e in doc.get("entities", ()))


# -- the app manager --------------------------------------------------------------------


def _templates() -> list[dict[str, Any]]:
    found = []
    for name in TEMPLATES:
        path = apps.template_path(name)
        if path is None:
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        found.append(
            {
                "name": name,
                "label": localised(doc.get("label"), fallback=name),
                "description": localised(doc.get("description")),
                "entities": len(doc.get("entities", ())),
            }
        )
    return found


def _manager(status: int = 200, **extra: Any) -> ResponseReturnValue:
    identity = require_identity()
    with _conn() as conn:
        listed = apps.list_apps(conn)
        buildable = permissions.buildable_apps(conn, identity)
    installed = {a["key"] for a in listed}
    creator = identity.has_platform_role("app_builder")
    context: dict[str, Any] = {
        "apps": [a for a in listed if a["key"] in buildable],
        "may_create": creator,
        "templates": [t for t in _templates() if t["name"] not in installed] if creator else [],
        "form": {},
        "errors": {},
    } | extra
    return render_template("builder/manager.html", **context), status


@blueprint.get("/")
def manager() -> ResponseReturnValue:
    return _manager()


def starter_document(form: dict[str, str]) -> dict[str, Any]:
    """A new app: its name, and a first entity with one text field that names its records."""
    label = {tag: form.get(f"label_{tag}", "").strip() for tag in SUPPORTED_LOCALES}
    name_label = {"en": "Name", "zh-CN": "名称"}
    return {
        "format": defs.FORMAT,
        "key": form.get("key", "").strip(),
        "label": {k: v for k, v in label.items() if v} or form.get("key", "").strip() or "?",
        "entities": [
            {
                "key": form.get("entity_key", "").strip(),
                "label": entity_label_of(form),
                "title": "name",
                "fields": [{"key": "name", "type": "text", "label": name_label, "required": True}],
                "form": {
                    "sections": [
                        {
                            "label": {"en": "Details", "zh-CN": "详细信息"},
                            "columns": 2,
                            "fields": ["name"],
                        }
                    ]
                },
                "views": [
                    {
                        "key": "all",
                        "type": "list",
                        "label": {"en": "All", "zh-CN": "全部"},
                        "columns": ["name"],
                    }
                ],
            }
        ],
        "navigation": [
            {
                "label": entity_label_of(form),
                "entity": form.get("entity_key", "").strip(),
                "view": "all",
            }
        ],
    }


def entity_label_of(form: dict[str, str]) -> Any:
    label = {tag: form.get(f"entity_label_{tag}", "").strip() for tag in SUPPORTED_LOCALES}
    return {k: v for k, v in label.items() if v} or form.get("entity_key", "").strip() or "?"


#: where an error of the starter document belongs on the create form
CREATE_FIELDS = {
    "$.key": "key",
    "$.label": "label_en",
    "$.entities[0].key": "entity_key",
    "$.entities[0].label": "entity_label_en",
}


@blueprint.post("/new")
def create_app() -> ResponseReturnValue:
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    doc = starter_document(form)
    errors: dict[str, list[str]] = {}
    try:
        with _conn() as conn:
            if doc["key"] and conn.scalar(sa.select(App.id).where(App.key == doc["key"])):
                raise apps.AppError(gettext("An app with this key exists already."))
            key = apps.create(conn, doc, actor_id=_actor_id())
    except defs.InvalidDefinition as exc:
        for error in exc.errors:
            field = CREATE_FIELDS.get(error.json_path, "key")
            errors.setdefault(field, []).append(error_text(error))
    except apps.AppError as exc:
        errors.setdefault("key", []).append(error_text(exc))
    if errors:
        return _manager(400, form=form, errors=errors, open_create=True)
    flash(gettext("The app has been created. Drag fields onto its first form."), "success")
    entity = doc["entities"][0]["key"]
    return redirect(url_for("builder.form_designer", app=key, entity=entity))


@blueprint.post("/install")
def install_template() -> ResponseReturnValue:
    name = request.form.get("template", "")
    if name not in TEMPLATES or apps.template_path(name) is None:
        abort(400)
    doc, template = apps.read_definition(name)
    try:
        result = apps.install(
            current_platform().db.engine, doc, template=template, actor_id=_actor_id()
        )
    except (apps.AppError, defs.InvalidDefinition, defs.DestructiveChangeRefused) as exc:
        flash(gettext("The template could not be installed: %(why)s", why=error_text(exc)), "error")
        return redirect(url_for("builder.manager"))
    flash(gettext("The template has been installed and published."), "success")
    return redirect(url_for("builder.app_designer", app=result.app))


@blueprint.post("/import")
def import_app() -> ResponseReturnValue:
    upload = request.files.get("file")
    problem: str | None = None
    document: Any = None
    if upload is None or not upload.filename:
        problem = gettext("Choose an export file first.")
    else:
        try:
            document = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            problem = gettext("This file is not a Tessera export file.")
    if problem is None:
        try:
            result = app_transfer.import_app(
                current_platform().db.engine, document, actor_id=_actor_id()
            )
        except defs.InvalidDefinition as exc:
            problem = "; ".join(f"{e.json_path}: {error_text(e)}" for e in exc.errors[:5])
        except (apps.AppError, defs.DestructiveChangeRefused, ValueError, TypeError) as exc:
            problem = error_text(exc)
    if problem is not None:
        flash(gettext("The app could not be imported: %(why)s", why=problem), "error")
        return redirect(url_for("builder.manager"))
    flash(gettext("The app has been imported."), "success")
    return redirect(url_for("builder.app_designer", app=result.app))


@blueprint.get("/<app>/export")
def export_app(app: str) -> ResponseReturnValue:
    with_data = request.args.get("data") == "1"
    with _conn() as conn:
        row = _app_row()
        if row.published_version is None:
            flash(gettext("Publish the app before exporting it."), "error")
            return redirect(url_for("builder.manager"))
        document = app_transfer.export_app(conn, app, with_data=with_data)
    body = json.dumps(document, ensure_ascii=False, indent=1)
    suffix = "-data" if with_data else ""
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{app}{suffix}.tessera.json"'},
    )


# -- the designers ----------------------------------------------------------------------


def _designer(template: str, app: str, entity: str | None, page: str) -> ResponseReturnValue:
    with _conn() as conn:
        row = _app_row()
        doc = apps.draft(conn, app)
        published = _published_doc(conn, row)
    if entity is not None and not _has_entity(doc, entity):
        abort(404)
    errors = [error_json(e) for e in defs.validate(doc)] if isinstance(doc, dict) else []
    data = {
        "page": page,
        "app": app,
        "entity": entity,
        "doc": doc,
        "published": published,
        "publishedVersion": row.published_version,
        "errors": errors,
        "palette": catalogue.palette(),
        "operators": catalogue.operators(),
        "locales": list(SUPPORTED_LOCALES),
        "locale": current_locale(),
        "strings": strings(),
        "urls": {
            "draft": url_for("builder.api_draft", app=app),
            "check": url_for("builder.api_check", app=app),
            "conditions": url_for("builder.api_conditions", app=app),
            "app": url_for("builder.app_designer", app=app),
            "entity": url_for("builder.form_designer", app=app, entity="__entity__"),
            "views": url_for("builder.view_designer", app=app, entity="__entity__"),
            "publish": url_for("builder.publish", app=app),
            "runtime": f"/apps/{app}/",
        },
    }
    title = localised(doc.get("label"), fallback=app)
    return render_template(
        template,
        data=data,
        app=app,
        entity=entity,
        title=title,
        published_version=row.published_version,
    )


@blueprint.get("/<app>/")
def app_designer(app: str) -> ResponseReturnValue:
    return _designer("builder/app.html", app, None, "app")


@blueprint.get("/<app>/entities/<entity>")
def form_designer(app: str, entity: str) -> ResponseReturnValue:
    return _designer("builder/form.html", app, entity, "form")


@blueprint.get("/<app>/entities/<entity>/views")
def view_designer(app: str, entity: str) -> ResponseReturnValue:
    return _designer("builder/views.html", app, entity, "views")


# -- publishing and history -------------------------------------------------------------


def plan_steps(lines: list[PlanLine] | tuple[PlanLine, ...]) -> list[dict[str, Any]]:
    """The steps of a plan for a page: each in the reader's language (a version stored before
    plans kept their phrases shows its English), and whether it can lose data."""
    return [{"text": error_text(line.message), "destructive": line.destructive} for line in lines]


def change_texts(changes: list[defs.Change] | tuple[defs.Change, ...]) -> list[str]:
    """What changed in the app, each change in the reader's language."""
    return [error_text(change.phrase) for change in changes]


def _plan_page(
    app: str, doc: dict[str, Any] | None, template: str, status: int = 200, **extra: Any
) -> ResponseReturnValue:
    """The publish (or rollback) page: errors, or the plan and the changes in words."""
    with _conn() as conn:
        row = _app_row()
        document = doc if doc is not None else apps.draft(conn, app)
        errors = defs.validate(document)
        result = None
        if not errors:
            try:
                result = apps.preview(conn, app, document)
            except (apps.AppError, defs.PlanError) as exc:
                extra.setdefault("problem", error_text(exc))
            renamed = defs.key_change_phrases(_published_doc(conn, row) or document, document)
        else:
            renamed = []
    plan = plan_steps(result.steps if result else ())
    context = {
        "app": app,
        "title": localised(document.get("label"), fallback=app),
        "errors": [error_json(e) for e in errors],
        "result": result,
        "plan": plan,
        "changes": change_texts(result.changed if result else ()),
        "destructive": any(step["destructive"] for step in plan) or bool(renamed),
        "renamed": [error_text(message) for message in renamed],
        "published_version": row.published_version,
    } | extra
    return render_template(template, **context), status


@blueprint.get("/<app>/publish")
def publish(app: str) -> ResponseReturnValue:
    return _plan_page(app, None, "builder/publish.html")


@blueprint.post("/<app>/publish")
def publish_now(app: str) -> ResponseReturnValue:
    confirmed = request.form.get("confirm_destructive") == "yes"
    note = (request.form.get("note") or "").strip()[:500] or None
    platform = current_platform()
    try:
        result = apps.publish(
            platform.db.engine, app, confirm_destructive=confirmed, actor_id=_actor_id(), note=note
        )
    except apps.AppNotFound:
        abort(404)
    except defs.DestructiveChangeRefused:
        message = gettext("Some steps can lose data. Tick the confirmation to publish them.")
        return _plan_page(app, None, "builder/publish.html", 409, problem=message)
    except defs.InvalidDefinition:
        return _plan_page(app, None, "builder/publish.html", 400)
    except (apps.AppError, defs.PlanError) as exc:
        return _plan_page(app, None, "builder/publish.html", 409, problem=error_text(exc))
    with platform.db.session() as db:
        audit.record(
            db,
            "app.published",
            actor_id=_actor_id(),
            app=app,
            changes={"version": [None, result.version]},
        )
    flash(gettext("Version %(v)d is live.", v=result.version), "success")
    return redirect(url_for("builder.history", app=app))


@blueprint.get("/<app>/history")
def history(app: str) -> ResponseReturnValue:
    with _conn() as conn:
        row = _app_row()
        versions = apps.history(conn, app)
        numbers = [v["version"] for v in versions]
        for v in versions:
            n = v["version"]
            changes = apps.diff_versions(conn, app, n - 1, n) if n - 1 in numbers else []
            v["changes"] = change_texts(changes)
            v["steps"] = plan_steps(v["plan"])
            note = apps.note_message(v["note"])
            v["note"] = error_text(note) if note is not None else None
        compare: dict[str, Any] | None = None
        old, new = request.args.get("old", type=int), request.args.get("new", type=int)
        if old in numbers and new in numbers and old is not None and new is not None:
            changes = apps.diff_versions(conn, app, old, new)
            compare = {"old": old, "new": new, "changes": change_texts(changes)}
        doc = apps.draft(conn, app)
    return render_template(
        "builder/history.html",
        app=app,
        title=localised(doc.get("label"), fallback=app),
        versions=list(reversed(versions)),
        published_version=row.published_version,
        compare=compare,
    )


@blueprint.get("/<app>/history/<int:version>/rollback")
def rollback(app: str, version: int) -> ResponseReturnValue:
    with _conn() as conn:
        try:
            doc = apps.version_definition(conn, app, version)
        except apps.AppError:
            abort(404)
    return _plan_page(app, doc, "builder/rollback.html", version=version)


@blueprint.post("/<app>/history/<int:version>/rollback")
def rollback_now(app: str, version: int) -> ResponseReturnValue:
    confirmed = request.form.get("confirm_destructive") == "yes"
    platform = current_platform()
    with _conn() as conn:
        try:
            doc = apps.version_definition(conn, app, version)
        except apps.AppError:
            abort(404)
    try:
        result = apps.rollback(
            platform.db.engine, app, version, confirm_destructive=confirmed, actor_id=_actor_id()
        )
    except defs.DestructiveChangeRefused:
        message = gettext("Some steps can lose data. Tick the confirmation to roll back.")
        return _plan_page(app, doc, "builder/rollback.html", 409, problem=message, version=version)
    except (apps.AppError, defs.PlanError, defs.InvalidDefinition) as exc:
        problem = error_text(exc)
        return _plan_page(app, doc, "builder/rollback.html", 409, problem=problem, version=version)
    with platform.db.session() as db:
        audit.record(
            db,
            "app.rolled_back",
            actor_id=_actor_id(),
            app=app,
            changes={"version": [version, result.version]},
        )
    flash(
        gettext(
            "Version %(old)d is live again as version %(new)d.", old=version, new=result.version
        ),
        "success",
    )
    return redirect(url_for("builder.history", app=app))
