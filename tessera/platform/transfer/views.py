"""Pages and downloads of imports and exports, beside the runtime list page.

* ``/apps/<app>/<entity>/import``: upload → mapping and options → progress (the page polls
  ``…/import/<id>/status``) → result with the error report (``…/import/<id>/errors.csv``).
* ``/apps/<app>/<entity>/export?format=csv|xlsx&…``: the list as seen.  It takes the list
  page's own query string (``view``, ``q``, ``sort``, ``filter``, ``formula``, ``cols``), read
  by the list page's own planner, plus ``ids=1,2,3`` (or ``ids=1&ids=2``) for selected rows.

An import belongs to the user who uploaded it: anyone else gets 404 for its pages and files.
Exporting needs the ``export`` and ``read`` rights, importing ``import`` and ``create`` (403
otherwise; :mod:`.rights`); an export holds at most ``TESSERA_EXPORT_MAX_ROWS`` rows (413 with
a message beyond that, counted before anything is written).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import islice
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
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
from tessera.platform.db import READ_ONLY
from tessera.platform.identity.current import (
    Identity,
    current_identity,
    login_required,
    require_identity,
)
from tessera.platform.models import Import
from tessera.platform.pages.context import Runtime
from tessera.platform.pages.lists import plan
from tessera.platform.records import scope_for, service_for
from tessera.platform.runtime import current_platform
from tessera.platform.transfer import exports, imports, progress, rights

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
def open_runtime(app_key: str, *, read_only: bool = False) -> Iterator[Runtime]:
    """The list page's :class:`Runtime`, with the caller's permission scope.

    ``read_only``: the request only reads, in a transaction that on SQLite does not queue for
    the write lock (an all-or-nothing import may hold it for minutes while its status page
    polls); the caller is authenticated inside it."""
    platform = current_platform()
    if read_only:
        opened = platform.db.engine.connect().execution_options(**{READ_ONLY: True})
    else:
        require_identity()
        opened = platform.db.engine.connect()
    with opened as conn, conn.begin():
        identity = current_identity(conn) if read_only else require_identity()
        if identity is None:
            abort(401)
        try:
            live = apps.published(conn, app_key)
        except apps.AppError:
            abort(404)
        actor = identity.actor("page", locale=i18n.current_locale())
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


def _ids(texts: list[str]) -> list[int]:
    """Chosen record ids, as ``ids=1,2,3`` or as ``ids=1&ids=2`` (the list page's selection
    sends the second); 400 for anything that is not a record id."""
    parts = [p.strip() for text in texts for p in text.split(",") if p.strip()]
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
        if not rights.may_export(runtime.service.scope, entity):
            abort(403)
        try:
            list_plan = plan(runtime, entity, request.args)
        except ValidationFailed:
            abort(400)
        hidden = runtime.service.hidden(entity)
        columns = [c for c in list_plan.columns if entity.has_field(c) and c not in hidden]
        query = replace(list_plan.query, fields=columns, after=None)
        if any(request.args.getlist("ids")):
            chosen = {"field": "id", "op": "in", "value": _ids(request.args.getlist("ids"))}
            query = replace(
                query, filter={"and": [query.filter, chosen]} if query.filter else chosen
            )
        label = runtime.entity_label(entity, plural=True)
        locale = runtime.locale
        actor = runtime.service.actor
        try:  # check the query now, so a bad filter is a 400 and not a broken download
            first = runtime.service.list(entity.key, replace(query, limit=1, with_total=True))
            found = first.total or 0
        except ValidationFailed:
            abort(400)
        limit = _max_rows()
        if found > limit:
            return _too_many(runtime, entity, found, limit)
    platform = current_platform()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    name = f"{label}-{stamp}.{kind}"

    def records() -> Iterator[dict[str, Any]]:
        with platform.db.engine.connect() as conn:
            service = service_for(conn, app_key, actor, scope=scope_for(conn, app_key, actor))
            yield from islice(exports.records(service, entity.key, query, locale=locale), limit)

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


def _max_rows() -> int:
    default = current_platform().settings.export_max_rows
    return int(current_app.config.get("TESSERA_EXPORT_MAX_ROWS", default))


def _too_many(runtime: Runtime, entity: EntityModel, found: int, limit: int) -> ResponseReturnValue:
    """A page saying the list is too big to export (413: the answer would be too large)."""
    message = _(
        "This list has %(found)s records; an export holds at most %(limit)s. Narrow the list "
        "with a filter or a search, or select rows, and export again.",
        found=f"{found:,}",
        limit=f"{limit:,}",
    )
    back = url_for("pages.list_page", app_key=runtime.key, entity_key=entity.key)
    return render_template(
        "transfer/too_many.html", runtime=runtime, entity=entity, message=message, back=back
    ), 413


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
        if not rights.may_import(runtime.service.scope, entity):
            abort(403)
        writable = rights.writable(runtime.service.scope, entity)
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
                        writable=writable,
                    )
            except imports.UploadRefused as refused:
                error = _(
                    "This file cannot be imported: %(reason)s", reason=i18n.error_text(refused)
                )
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
        scope = runtime.service.scope
        if not rights.may_import(scope, entity):
            abort(403)
        writable = rights.writable(scope, entity)
        may_update = rights.may_import(scope, entity, updates=True)
    if request.method == "POST" and record.status == "uploaded":
        form = request.form
        mapping = [form.get(f"map-{i}") or None for i in range(len(record.columns))]
        options = {
            "mode": form.get("mode", "create"),
            "unique_field": form.get("unique_field") or None,
            "on_error": form.get("on_error", "all_or_nothing"),
            "dry_run": form.get("dry_run") == "on",
        }
        problems = imports.check_plan(entity, record.columns, mapping, options, writable)
        if options["mode"] == "upsert" and not may_update:
            problems.append(_("You may not change existing records, so an import can only add."))
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
        fields=imports.importable(entity, writable),
        unique_fields=imports.unique_fields(entity, writable) if may_update else [],
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
def import_status(app_key: str, entity_key: str, import_id: int) -> ResponseReturnValue:
    """Polled while the import runs: read-only (see :func:`open_runtime`), the progress from
    Redis first (:mod:`.progress`), the database row as the truth once the import is over."""
    with open_runtime(app_key, read_only=True) as runtime:
        entity = _entity(runtime, entity_key)
        record = _mine(runtime, entity, import_id)
        if not rights.may_import(runtime.service.scope, entity):
            abort(403)
        total = record.total_rows
        if record.status == "done":
            done = record.processed_rows
        else:
            published = progress.read(current_platform(), import_id)
            if published is not None:
                done, total = published[0], published[1] if published[1] is not None else total
            else:
                done = _job_done(runtime.conn, record)
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
        message=imports.shown_message(record),
        dry_run=bool((record.options or {}).get("dry_run")),
        report_url=url_for(
            ".import_errors", app_key=app_key, entity_key=entity_key, import_id=import_id
        )
        if record.error_report
        else None,
    )


def _job_done(conn: Any, record: Import) -> int:
    if record.job_id is None:
        return 0
    from tessera.platform.models import Job

    done = conn.scalar(sa.select(Job.progress_done).where(Job.id == record.job_id))
    return int(done or 0)


@blueprint.get(f"{BASE}/import/<int:import_id>/errors.csv")
@login_required
def import_errors(app_key: str, entity_key: str, import_id: int) -> ResponseReturnValue:
    with open_runtime(app_key) as runtime:
        entity = _entity(runtime, entity_key)
        record = _mine(runtime, entity, import_id)
        if not rights.may_import(runtime.service.scope, entity):
            abort(403)
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
