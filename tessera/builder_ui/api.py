"""The designers' JSON endpoints under ``/build/<app>/_/``.

Cookie-authenticated and CSRF-protected like every other write (the token travels in the
``X-CSRFToken`` header).  Bodies are JSON objects of at most :data:`MAX_BODY` bytes; anything
else is answered with 400 or 413 and a message, never a stack trace.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from tessera.builder_ui import blueprint, checks
from tessera.builder_ui.pages import _app_row, _conn, change_texts, error_json, plan_steps
from tessera.engines import definitions as defs
from tessera.platform import app_plans, apps
from tessera.platform.i18n import error_text
from tessera.platform.identity.current import require_identity

#: the largest draft a designer may send (the CRM template is about 60 kB)
MAX_BODY = 2 * 1024 * 1024
MAX_SOURCE = 4000


def _problem(status: int, message: str) -> ResponseReturnValue:
    return jsonify(
        {"error": "bad_request" if status == 400 else "too_large", "message": message}
    ), status


def _body() -> dict[str, Any] | ResponseReturnValue:
    """The request's JSON object, or the response that refuses it."""
    request.max_content_length = MAX_BODY
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return _problem(413, f"the request is larger than {MAX_BODY // 1024} kB")
    if len(raw) > MAX_BODY:
        return _problem(413, f"the request is larger than {MAX_BODY // 1024} kB")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _problem(400, "the request must be a JSON object")
    return body


@dataclass(frozen=True)
class DesignerInput:
    """A designer's request: its JSON body and the app definition it carries as ``doc``."""

    body: dict[str, Any]
    doc: dict[str, Any]


def _designer_input(app: str) -> DesignerInput | ResponseReturnValue:
    """The body and the definition of a designer's request, or the response refusing them."""
    body = _body()
    if not isinstance(body, dict):
        return body
    doc = _doc_of(body, app)
    if not isinstance(doc, dict):
        return doc
    return DesignerInput(body, doc)


def _doc_of(body: dict[str, Any], app: str) -> dict[str, Any] | ResponseReturnValue:
    doc = body.get("doc")
    if not isinstance(doc, dict):
        return _problem(400, "“doc” must be the app definition as a JSON object")
    if doc.get("key") != app:
        return _problem(400, gettext(apps.KEY_CHANGED, old=app, new=str(doc.get("key"))))
    return doc


@blueprint.get("/<app>/_/draft")
def api_draft(app: str) -> ResponseReturnValue:
    with _conn() as conn:
        row = _app_row()
        doc = apps.draft(conn, app)
    return jsonify(
        {
            "doc": doc,
            "errors": [error_json(e) for e in defs.validate(doc)],
            "published_version": row.published_version,
        }
    )


@blueprint.post("/<app>/_/draft")
def api_save_draft(app: str) -> ResponseReturnValue:
    given = _designer_input(app)
    if not isinstance(given, DesignerInput):
        return given
    with _conn() as conn:
        try:
            errors = apps.save_draft(conn, app, given.doc)
        except apps.AppError as exc:
            return _problem(400, error_text(exc))
    return jsonify({"saved": True, "errors": [error_json(e) for e in errors]})


@blueprint.post("/<app>/_/check")
def api_check(app: str) -> ResponseReturnValue:
    """Check one formula or condition against the document the designer holds."""
    given = _designer_input(app)
    if not isinstance(given, DesignerInput):
        return given
    body, doc = given.body, given.doc
    source, entity = body.get("source"), body.get("entity")
    kind, result = body.get("kind", "formula"), body.get("result", "number")
    if not isinstance(source, str) or not isinstance(entity, str):
        return _problem(400, "“source” and “entity” must be text")
    if kind not in ("formula", "condition") or not isinstance(result, str):
        return _problem(400, "“kind” must be formula or condition")
    if len(source) > MAX_SOURCE:
        return jsonify(
            {
                "ok": False,
                "type": None,
                "checked": False,
                "errors": [
                    {
                        "message": gettext(
                            "a formula has at most %(limit)s characters", limit=MAX_SOURCE
                        ),
                        "start": 0,
                        "end": len(source),
                        "code": "too_long",
                    }
                ],
            }
        )
    return jsonify(checks.check_expression(doc, entity, source, kind=kind, result=result))


@blueprint.post("/<app>/_/conditions")
def api_conditions(app: str) -> ResponseReturnValue:
    """Which parts of a form the live preview shows for the values typed into it."""
    given = _designer_input(app)
    if not isinstance(given, DesignerInput):
        return given
    body, doc = given.body, given.doc
    entity, values = body.get("entity"), body.get("values", {})
    if not isinstance(entity, str) or not isinstance(values, dict):
        return _problem(400, "“entity” must be text and “values” an object")
    identity = require_identity()
    now = dt.datetime.now(dt.UTC)
    return jsonify(
        checks.evaluate_conditions(doc, entity, values, now=now, user_id=identity.user_id)
    )


@blueprint.post("/<app>/_/preview")
def api_preview(app: str) -> ResponseReturnValue:
    """What publishing the saved draft would do: the plan and the changes, or the errors."""
    with _conn() as conn:
        doc = apps.draft(conn, app)
        errors = defs.validate(doc)
        if errors:
            return jsonify({"errors": [error_json(e) for e in errors], "plan": [], "changes": []})
        try:
            result = apps.preview(conn, app)
        except (apps.AppError, defs.PlanError) as exc:
            return _problem(400, error_text(exc))
    plan = [app_plans.flagged(s["text"], s["destructive"]) for s in plan_steps(result.steps)]
    return jsonify(
        {
            "errors": [],
            "version": result.version,
            "plan": plan,
            "changes": change_texts(result.changed),
        }
    )
