"""Pages and downloads of imports and exports, beside the runtime list page.

* ``/apps/<app>/<entity>/import``: upload → mapping and options → progress (the page polls
  ``…/import/<id>/status``) → result with the error report (``…/import/<id>/errors.csv``).
* ``/apps/<app>/<entity>/export?format=csv|xlsx&…``: the list as seen.  It takes the list
  page's own query string (``view``, ``q``, ``sort``, ``filter``, ``formula``, ``cols``), read
  by the list page's own planner, plus ``ids=1,2,3`` for selected rows.

An import belongs to the user who uploaded it: anyone else gets 404 for its pages and files.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import ValidationFailed
from tessera.platform import apps, audit, i18n
from tessera.platform.identity.current import Identity, login_required, require_identity
from tessera.platform.models import Import
from tessera.platform.pages.context import Runtime, actor_of
from tessera.platform.pages.lists import plan
from tessera.platform.records import scope_for, service_for
from tessera.platform.runtime import current_platform
from tessera.platform.transfer import exports, imports

blueprint = Blueprint(
    "transfer",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/transfer-static",
)
BASE = "/apps/<app_key>/<entity_key>"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024


@contextmanager
def open_runtime(app_key: str) -> Iterator[Runtime]:
    """The list page's :class:`Runtime`, with the caller's permission scope."""
    identity = require_identity()
    platform = current_platform()
    with platform.db.engine.begin() as conn:
        try:
            live = apps.published(conn, app_key)
        except apps.AppError:
            abort(404)
        actor = actor_of(identity)
        service = service_for(
            conn,
            app_key,
            actor,
            scope=scope_for(conn, app_key, actor),
            ip=audit.client_ip(),
            cursor_key=platform.settings.secret_key.encode(),
        )
        yield Runtime(conn, live, identity, service, i18n.current_locale())


def _entity(runtime: Runtime, key: str) -> EntityModel:
    return runtime.entity(key)  # 404 for unknown and child entities


# -- export ------------------------------------------------------------------------------------


def _ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > 10_000 or not all(p.isdigit() and 0 < int(p) < 2**63 for p in parts):
        abort(400)
    return [int(p) for p in parts]


@blueprint.get(f"{BASE}/export")
@login_required
def export(app_key: str, entity_key: str) -> ResponseReturnValue:
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        abort(400)
    with open_runtime(app_key) as runtime:
        entity = _entity(runtime, entity_key)
        try:
            list_plan = plan(runtime, entity, request.args)
        except ValidationFailed:
            abort(400)
        columns = [c for c in list_plan.columns if entity.has_field(c)]
        query = replace(list_plan.query, fields=columns, after=None)
        if request.args.get("ids"):
            chosen = {"field": "id", "op": "in", "value": _ids(request.args["ids"])}
            query = replace(
                query, filter={"and": [query.filter, chosen]} if query.filter else chosen
            )
        label = runtime.entity_label(entity, plural=True)
        locale = runtime.locale
        actor = runtime.service.actor
        try:  # check the query now, so a bad filter is a 400 and not a broken download
            runtime.service.list(entity.key, replace(query, limit=1))
        except ValidationFailed:
            abort(400)
    platform = current_platform()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    name = f"{label}-{stamp}.{kind}"

    def records() -> Iterator[dict[str, Any]]:
        with platform.db.engine.connect() as conn:
            service = service_for(conn, app_key, actor, scope=scope_for(conn, app_key, actor))
            yield from exports.records(service, entity.key, query)

    if kind == "csv":
        body = exports.csv_chunks(entity, columns, records(), locale)
        mimetype = "text/csv; charset=utf-8"
    else:
        handle = exports.write_xlsx(entity, columns, records(), locale, label)
        body = exports.file_chunks(handle)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = _attachment(name)
    return response


def _attachment(name: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


# -- import ------------------------------------------------------------------------------------


def _mine(runtime: Runtime, entity: EntityModel, import_id: int) -> Import:
    found = (
        runtime.conn.execute(Import.__table__.select().where(Import.id == import_id))
        .mappings()
        .first()
    )
    identity: Identity = runtime.identity
    if (
        found is None
        or found["app"] != runtime.key
        or found["entity"] != entity.key
        or (found["created_by"] != identity.user_id and not identity.is_system_admin)
    ):
        abort(404)
    return Import(**dict(found))


def _max_bytes() -> int:
    return int(current_app.config.get("TESSERA_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


@blueprint.route(f"{BASE}/import", methods=["GET", "POST"])
@login_required
def upload(app_key: str, entity_key: str) -> ResponseReturnValue:
    error = None
    if request.method == "POST":
        request.max_content_length = _max_bytes() + 64 * 1024
    with open_runtime(app_key) as runtime:  # a read: on SQLite a write here would hold the lock
        entity = _entity(runtime, entity_key)
        if not runtime.service.scope.can("create", entity, None):
            abort(403)
        context = {"runtime": runtime, "entity": entity, "max_mb": _max_bytes() // (1024 * 1024)}
        user_id = runtime.identity.user_id
    if request.method == "POST":
        given = request.files.get("file")
        if given is None or not given.filename:
            error = _("Choose a CSV or Excel file.")
        else:
            platform = current_platform()
            try:
                with platform.db.session() as session:
                    record = imports.store_upload(
                        platform,
                        session,
                        given.stream,
                        given.filename,
                        app=app_key,
                        entity=entity,
                        user_id=user_id,
                        max_bytes=_max_bytes(),
                    )
            except imports.UploadRefused as refused:
                error = _("This file cannot be imported: %(reason)s", reason=str(refused))
            else:
                return redirect(
                    url_for(
                        ".import_page", app_key=app_key, entity_key=entity_key, import_id=record.id
                    )
                )
    return render_template("transfer/upload.html", error=error, **context), (400 if error else 200)


@blueprint.route(f"{BASE}/import/<int:import_id>", methods=["GET", "POST"])
@login_required
def import_page(app_key: str, entity_key: str, import_id: int) -> ResponseReturnValue:
    problems: list[str] = []
    with open_runtime(app_key) as runtime:
        entity = _entity(runtime, entity_key)
        record = _mine(runtime, entity, import_id)
    if request.method == "POST" and record.status == "uploaded":
        form = request.form
        mapping = [form.get(f"map-{i}") or None for i in range(len(record.columns))]
        options = {
            "mode": form.get("mode", "create"),
            "unique_field": form.get("unique_field") or None,
            "on_error": form.get("on_error", "all_or_nothing"),
            "dry_run": form.get("dry_run") == "on",
        }
        problems = imports.check_plan(entity, record.columns, mapping, options)
        if not problems:
            platform = current_platform()
            with platform.db.session() as session:
                row = session.get(Import, record.id)
                if row is None or row.status != "uploaded":
                    abort(409)
                imports.submit(platform, session, row, mapping, options)
            return redirect(
                url_for(".import_page", app_key=app_key, entity_key=entity_key, import_id=record.id)
            )
        record.mapping, record.options = mapping, options
    template = "transfer/mapping.html" if record.status == "uploaded" else "transfer/progress.html"
    return render_template(
        template,
        runtime=runtime,
        entity=entity,
        record=record,
        problems=problems,
        fields=imports.importable(entity),
        unique_fields=imports.unique_fields(entity),
        sample=_sample(record) if record.status == "uploaded" else [],
    ), (400 if problems else 200)


def _sample(record: Import) -> list[list[str]]:
    path = imports.folder(current_platform()) / record.stored_name
    out: list[list[str]] = []
    for n, cells in enumerate(imports.rows(path, record.file_kind, record.encoding)):
        if n == 0:
            continue
        if n > 3:
            break
        out.append(["" if c is None else str(c)[:60] for c in cells])
    return out


@blueprint.get(f"{BASE}/import/<int:import_id>/status")
@login_required
def import_status(app_key: str, entity_key: str, import_id: int) -> ResponseReturnValue:
    with open_runtime(app_key) as runtime:
        entity = _entity(runtime, entity_key)
        record = _mine(runtime, entity, import_id)
    total = record.total_rows
    done = record.processed_rows if record.status == "done" else _job_done(record)
    return jsonify(
        status=record.status,
        total=total,
        processed=done,
        percent=100
        if record.status == "done"
        else (min(99, int(done * 100 / total)) if total else 0),
        created=record.created_count,
        updated=record.updated_count,
        error_rows=record.error_rows,
        message=record.message,
        dry_run=bool((record.options or {}).get("dry_run")),
        report_url=url_for(
            ".import_errors", app_key=app_key, entity_key=entity_key, import_id=import_id
        )
        if record.error_report
        else None,
    )


def _job_done(record: Import) -> int:
    if record.job_id is None:
        return 0
    from tessera.platform.models import Job

    with current_platform().db.session() as session:
        job = session.get(Job, record.job_id)
        return int(job.progress_done) if job is not None else 0


@blueprint.get(f"{BASE}/import/<int:import_id>/errors.csv")
@login_required
def import_errors(app_key: str, entity_key: str, import_id: int) -> ResponseReturnValue:
    with open_runtime(app_key) as runtime:
        entity = _entity(runtime, entity_key)
        record = _mine(runtime, entity, import_id)
    if not record.error_report:
        abort(404)
    path = imports.folder(current_platform()) / record.error_report
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"import-{import_id}-errors.csv",
        max_age=0,
    )
