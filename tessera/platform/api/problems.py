"""Every refusal of the REST API as ``application/problem+json`` (RFC 9457).

One shape for every error, so a client needs one parser::

    {"type": "https://tessera.dev/problems/validation", "title": "Invalid values",
     "status": 422, "detail": "…", "errors": [{"path": "lines[2].qty", "message": "…",
     "code": "invalid"}]}

``errors`` paths use the record's own shape (``amount``, ``lines[2].qty``; in bulk calls the
operation and row first: ``create[5].email``); query-string problems name the parameter
(``sort[0]``, ``filter.and[1].field``, ``limit``).  Messages are the records service's, in the
caller's language (their templates translated, their values kept:
:func:`tessera.platform.i18n.error_text`; paths are never translated), and never contain
database error text; database errors that slip past validation are answered with
a fixed sentence and logged, never echoed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from tessera.engines.forms import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from tessera.engines.messages import _l
from tessera.platform.apps import AppNotFound
from tessera.platform.i18n import error_text, translated_errors
from tessera.platform.identity.current import current_identity

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://tessera.dev/problems/"


class ApiProblem(Exception):
    """A refusal the API raises itself (bad parameters, missing token, bad body …)."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        errors: Iterable[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadQuery(ApiProblem):
    """A query-string parameter (filter, sort, search, limit, cursor …) is not acceptable: 400."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        found = translated_errors(errors)
        super().__init__(
            400,
            "bad-query",
            gettext("Invalid query parameters"),
            "; ".join(f"{e.path}: {e.message}" for e in found),
            found,
        )


def bad_body(message: str, path: str = "") -> ApiProblem:
    return ApiProblem(
        400,
        "bad-body",
        gettext("Invalid request body"),
        message,
        [FieldError(path, message, "bad_body")],
    )


def problem_response(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    body["errors"] = [
        {"path": e.path, "message": e.message, "code": e.code} for e in problem.errors
    ]
    body.update(problem.extra)
    response = Response(
        json.dumps(body, ensure_ascii=False), status=problem.status, mimetype=PROBLEM_JSON
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _validation(error: ValidationFailed) -> Response:
    errors = translated_errors(error.errors)
    record = gettext("record")
    detail = "; ".join(f"{e.path or record}: {e.message}" for e in errors)
    return problem_response(
        ApiProblem(422, "validation", gettext("Invalid values"), detail, errors)
    )


def _conflict(error: Conflict) -> Response:
    return problem_response(
        ApiProblem(
            409,
            "conflict",
            gettext("Edit conflict"),
            gettext(
                "someone else saved this record (now version %(version)s) after you opened it; "
                "changed since: %(fields)s",
                version=error.current_version,
                fields=", ".join(error.changed_fields) or gettext("the record"),
            ),
            [
                FieldError(f, gettext("changed by someone else since your version"), "conflict")
                for f in error.changed_fields
            ],
            headers={"ETag": f'"{error.current_version}"'},
            extra={
                "current_version": error.current_version,
                "changed_fields": error.changed_fields,
            },
        )
    )


def _not_found(error: NotFound | AppNotFound) -> Response:
    return problem_response(ApiProblem(404, "not-found", gettext("Not found"), error_text(error)))


def _denied(error: PermissionDenied) -> Response:
    return problem_response(ApiProblem(403, "forbidden", gettext("Not allowed"), error_text(error)))


def _integrity(error: sa.exc.IntegrityError) -> Response:
    log.warning("integrity error answered as 409: %s", error)
    return problem_response(
        ApiProblem(
            409,
            "conflict",
            gettext("Edit conflict"),
            gettext("another write changed the same records at the same time; please try again"),
        )
    )


def _data(error: sa.exc.DataError) -> Response:
    log.warning("data error answered as 400: %s", error)
    return problem_response(
        ApiProblem(
            400,
            "bad-query",
            gettext("Invalid request"),
            gettext(
                "a value or condition could not be evaluated by the database "
                "(a number out of range, a division by zero …)"
            ),
        )
    )


def _csrf(error: CSRFError) -> Response:
    """A cookie-less, token-less write fails the CSRF check first: say what is really missing."""
    if current_identity() is None:
        return problem_response(
            ApiProblem(
                401,
                "unauthorized",
                gettext("Authentication required"),
                gettext("send a personal API token as 'Authorization: Bearer tsr_…'"),
                headers={"WWW-Authenticate": 'Bearer realm="tessera"'},
            )
        )
    return problem_response(
        ApiProblem(
            403,
            "csrf",
            gettext("Cross-site request refused"),
            gettext(
                "cookie-authenticated writes need the page's CSRF token; scripts use a Bearer token"
            ),
        )
    )


#: Titles and details of the HTTP errors the API answers itself (werkzeug's own text is
#: English only): status → (title, detail)
HTTP_TEXT = {
    400: (_l("Bad request"), _l("the request could not be understood")),
    401: (_l("Authentication required"),
          _l("send a personal API token as 'Authorization: Bearer tsr_…'")),
    403: (_l("Not allowed"), _l("you may not do this")),
    404: (_l("Not found"), _l("there is nothing at this address")),
    405: (_l("Method not allowed"), _l("this address does not accept this method")),
    413: (_l("Request too large"), _l("the request body is too large")),
    415: (_l("Unsupported media type"),
          _l("send JSON with the header Content-Type: application/json")),
    429: (_l("Too many requests"), _l("too many requests; wait a little and try again")),
    500: (_l("Server error"), _l("something went wrong on our side; it has been logged")),
}  # fmt: skip


def _http(error: HTTPException) -> Response:
    code = error.code or 500
    text = HTTP_TEXT.get(code)
    return problem_response(
        ApiProblem(
            code,
            HTTP_STATUS_CODES.get(code, "error").lower().replace(" ", "-"),
            gettext(text[0]) if text else HTTP_STATUS_CODES.get(code, "Error"),
            gettext(text[1]) if text else error.description,
        )
    )


def register(blueprint: Blueprint) -> None:
    """Install the handlers on ``blueprint`` (they answer for its views only)."""
    blueprint.register_error_handler(ApiProblem, problem_response)
    blueprint.register_error_handler(CSRFError, _csrf)
    blueprint.register_error_handler(HTTPException, _http)
    blueprint.register_error_handler(ValidationFailed, _validation)
    blueprint.register_error_handler(Conflict, _conflict)
    blueprint.register_error_handler(NotFound, _not_found)
    blueprint.register_error_handler(AppNotFound, _not_found)
    blueprint.register_error_handler(PermissionDenied, _denied)
    blueprint.register_error_handler(sa.exc.IntegrityError, _integrity)
    blueprint.register_error_handler(sa.exc.DataError, _data)
