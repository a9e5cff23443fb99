"""``/api/v1/apps/<app>/<entity>…``: list, get, create, update, delete, restore, bulk, history.

Each request is one transaction on one connection, and every call goes through the records
service with the caller's :class:`~tessera.engines.forms.Actor` and the permission scope the
platform's hook gives that actor (:func:`tessera.platform.records.scope_for`): the API adds no
read or write path of its own.  What the API adds is HTTP: Bearer tokens with scopes,
``ETag``/``If-Match`` for optimistic locking, query-string parsing, and problem+json errors
(:mod:`.problems`).

Two API-only rules:

* ``owner`` is refused in a body unless the permission scope names it among the writable
  fields explicitly (the default scope's "everything" does not count): handing records to
  someone else is a permission, not a field.
* the system fields ``id``, ``version``, ``created_*``, ``updated_*`` and ``deleted_at`` are
  refused by the service itself, each with its path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from flask_babel import gettext

from tessera.engines.forms import (
    FieldError,
    ListQuery,
    NotFound,
    RecordService,
    ValidationFailed,
    parse_sort,
)
from tessera.engines.forms.inserts import json_text
from tessera.engines.messages import _l
from tessera.platform.api.problems import ApiProblem, BadQuery, bad_body
from tessera.platform.audit import client_ip
from tessera.platform.identity import tokens
from tessera.platform.identity.current import Identity, current_identity
from tessera.platform.records import scope_for, service_for
from tessera.platform.runtime import current_platform

MAX_ID = 2**63 - 1
MAX_BULK = 1000
_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no", "")


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(
        json_text(data),
        status=status,
        mimetype="application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# -- who is asking ---------------------------------------------------------------------------


@contextmanager
def transaction() -> Iterator[sa.Connection]:
    """The request's one transaction: the token check, the records service's reads and writes
    and the token's use note commit together (a note a rollback undid is written again)."""
    platform = current_platform()
    try:
        with platform.db.engine.begin() as conn:
            yield conn
    except BaseException:
        tokens.renote(platform.db.engine)
        raise
    tokens.committed()


def require(scope: str, conn: sa.Connection | None = None) -> Identity:
    """The caller, who must be signed in (cookie) or hold a token with ``scope``; pass the
    request's transaction as ``conn`` so the token is checked in it (with the registry row of
    the app the URL names, which the records service reads next)."""
    identity = current_identity(conn, app=(request.view_args or {}).get("app"))
    if identity is None:
        raise ApiProblem(
            401,
            "unauthorized",
            gettext("Authentication required"),
            gettext("send a personal API token as 'Authorization: Bearer tsr_…'"),
            headers={"WWW-Authenticate": 'Bearer realm="tessera"'},
        )
    if not identity.has_scope(scope):
        raise ApiProblem(
            403,
            "insufficient-scope",
            gettext("Insufficient scope"),
            gettext("the token lacks %(scope)s", scope=scope),
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="tessera", error="insufficient_scope", scope="{scope}"'
                )
            },
        )
    return identity


def records(conn: sa.Connection, app_key: str, identity: Identity) -> RecordService:
    """A records service for ``identity`` in the request's transaction (see :func:`transaction`)."""
    actor = identity.actor("api")
    return service_for(
        conn,
        app_key,
        actor,
        scope=scope_for(conn, app_key, actor),
        ip=client_ip(),
        cursor_key=current_platform().settings.secret_key.encode(),
    )


def entity_of(service: RecordService, key: str) -> str:
    """``key`` if it is a top-level entity (child-table rows are reached through the parent)."""
    if service.entity(key).child:
        raise NotFound(_l("there is no entity “%(key)s”"), key=key[:40])
    return key


def record_id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound(_l("there is no record “%(id)s”"), id=text[:40])
    return int(text)


# -- reading the request ---------------------------------------------------------------------


def body_object() -> dict[str, Any]:
    data = request.get_json(silent=True, force=False)
    if not request.is_json:
        raise bad_body(gettext("send a JSON object with the header Content-Type: application/json"))
    if not isinstance(data, dict):
        raise bad_body(gettext("the body must be a JSON object"))
    return data


def check_owner(
    service: RecordService, entity: str, values: Mapping[str, Any], path: str = ""
) -> list[FieldError]:
    """``owner`` in a body is refused unless the scope grants it by name (see the module doc)."""
    if "owner" not in values:
        return []
    writable = service.scope.writable_fields(service.entity(entity))
    if writable is not None and "owner" in writable:
        return []
    where = f"{path}.owner" if path else "owner"
    return [
        FieldError(
            where, gettext("you may not set the owner of records through the API"), "not_writable"
        )
    ]


def expected_version() -> int | None:
    """The version from ``If-Match: "3"`` (or ``W/"3"``); None when absent or ``*``."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    match = re.fullmatch(r'(?:W/)?"?(\d{1,18})"?', header)
    if not match:
        raise ApiProblem(
            400,
            "bad-query",
            gettext("Invalid If-Match header"),
            gettext('If-Match carries the record\'s ETag, e.g. "3"'),
            [
                FieldError(
                    "If-Match",
                    gettext('give the ETag of the version you edited, e.g. "3"'),
                    "bad_header",
                )
            ],
        )
    return int(match.group(1))


def _flag(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadQuery([FieldError(name, gettext("give true or false"), "bad_flag")])


def _names(name: str) -> list[str] | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def list_query(*, limit_default: int = 50) -> ListQuery:
    """The list parameters shared by the API and exports: filter, sort, search, fields …"""
    errors: list[FieldError] = []
    args = request.args
    raw_filter = args.get("filter")
    filter_value: str | dict[str, Any] | None = None
    if raw_filter is not None and raw_filter.strip():
        if len(raw_filter) > 10_000:
            errors.append(
                FieldError("filter", gettext("a filter is at most 10,000 characters"), "bad_filter")
            )
        elif raw_filter.lstrip().startswith("{"):
            try:
                parsed = json.loads(raw_filter)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                errors.append(
                    FieldError(
                        "filter",
                        gettext("this JSON filter is not a valid JSON object"),
                        "bad_filter",
                    )
                )
            else:
                filter_value = parsed
        else:
            filter_value = raw_filter
    sort: list[tuple[str, str]] = []
    if args.get("sort"):
        try:
            sort = parse_sort(args["sort"])
        except ValidationFailed as failed:
            errors += failed.errors
    limit = limit_default
    if "limit" in args:
        text = args["limit"].strip()
        if not text.isdigit() or not 1 <= int(text) <= 500:
            errors.append(FieldError("limit", gettext("the page size is 1 to 500"), "bad_limit"))
        else:
            limit = int(text)
    flags: dict[str, bool] = {}
    for name in ("total", "trashed"):
        try:
            flags[name] = _flag(name)
        except BadQuery as bad:
            errors += bad.errors
    if errors:
        raise BadQuery(errors)
    return ListQuery(
        filter=filter_value,
        sort=sort,
        after=args.get("after") or None,
        limit=limit,
        fields=_names("fields"),
        expand=_names("expand") or (),
        search=args.get("search") or None,
        with_total=flags["total"],
        trashed=flags["trashed"],
    )


@contextmanager
def query_errors() -> Iterator[None]:
    """Validation errors of a read are the query's fault: 400, not 422."""
    try:
        yield
    except ValidationFailed as failed:
        raise BadQuery(failed.errors) from None


def etag(record: Mapping[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{record["version"]}"'}


# -- the views -------------------------------------------------------------------------------


def list_records(app: str, entity: str) -> Response:
    with transaction() as conn:
        identity = require("records:read", conn)
        query = list_query()
        service = records(conn, app, identity)
        with query_errors():
            page = service.list(entity_of(service, entity), query)
    return json_response(
        {"records": page.records, "next_cursor": page.next_cursor, "total": page.total}
    )


def create_record(app: str, entity: str) -> Response:
    with transaction() as conn:
        identity = require("records:write", conn)
        values = body_object()
        service = records(conn, app, identity)
        entity_of(service, entity)
        refused = check_owner(service, entity, values)
        if refused:
            raise ValidationFailed(refused)
        record = service.create(entity, values)
    # the record's URL is its collection's and its id (the routes in api/__init__.py), so it is
    # put together here rather than by url_for's route lookup, a few percent of a create
    location = f"{request.script_root}{request.path}/{record['id']}"
    return json_response(record, 201, {**etag(record), "Location": location})


def get_record(app: str, entity: str, record: str) -> Response:
    with transaction() as conn:
        identity = require("records:read", conn)
        fields, expand = _names("fields"), _names("expand") or ()
        service = records(conn, app, identity)
        found_id = record_id(record)
        with query_errors():
            found = service.get(entity_of(service, entity), found_id, fields=fields, expand=expand)
    return json_response(found, headers=etag(found))


def update_record(app: str, entity: str, record: str) -> Response:
    with transaction() as conn:
        identity = require("records:write", conn)
        values = body_object()
        expected = expected_version()
        service = records(conn, app, identity)
        found_id = record_id(record)
        entity_of(service, entity)
        refused = check_owner(service, entity, values)
        if refused:
            raise ValidationFailed(refused)
        updated = service.update(entity, found_id, values, expected_version=expected)
    return json_response(updated, headers=etag(updated))


def delete_record(app: str, entity: str, record: str) -> Response:
    with transaction() as conn:
        identity = require("records:write", conn)
        expected = expected_version()
        service = records(conn, app, identity)
        service.delete(entity_of(service, entity), record_id(record), expected_version=expected)
    return Response(status=204)


def restore_record(app: str, entity: str, record: str) -> Response:
    with transaction() as conn:
        identity = require("records:write", conn)
        service = records(conn, app, identity)
        restored = service.restore(entity_of(service, entity), record_id(record))
    return json_response(restored, headers=etag(restored))


def record_history(app: str, entity: str, record: str) -> Response:
    with transaction() as conn:
        identity = require("records:read", conn)
        service = records(conn, app, identity)
        entries = service.history(
            entity_of(service, entity), record_id(record), locale=identity.locale
        )
    return json_response(
        {
            "entries": [
                {
                    "at": e.at,
                    "action": e.action,
                    "actor_id": e.actor_id,
                    "actor_name": e.actor_name,
                    "actor_key": e.actor_key,
                    "via": e.via,
                    "changes": [
                        {"field": c.field, "label": c.label, "old": c.old, "new": c.new}
                        for c in e.changes
                    ],
                }
                for e in entries
            ]
        }
    )


# -- bulk --------------------------------------------------------------------------------------

BULK_KEYS = ("create", "update", "delete", "restore")


def _renamed(errors: Sequence[FieldError], operation: str, inner: str = "") -> list[FieldError]:
    """``[3].email`` from the service as ``create[3].email`` (or ``update[3].values.email``)."""
    out = []
    for e in errors:
        match = re.match(r"^\[(\d+)\]\.?(.*)$", e.path)
        if match is None:
            out.append(e.at(f"{operation}.{e.path}" if e.path else operation))
            continue
        rest = match.group(2)
        middle = f".{inner}" if inner and rest else ""
        tail = f".{rest}" if rest and not rest.startswith("[") else rest
        out.append(e.at(f"{operation}[{match.group(1)}]{middle}{tail}"))
    return out


def _ids(items: Any, operation: str) -> tuple[list[int], dict[int, int | None], list[FieldError]]:
    """``[1, 2]`` or ``[{"id": 1, "version": 3}]`` as ids, expected versions and problems."""
    ids: list[int] = []
    versions: dict[int, int | None] = {}
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        given = item.get("id") if isinstance(item, dict) else item
        version = item.get("version") if isinstance(item, dict) else None
        if isinstance(item, dict) and set(item) - {"id", "version"}:
            errors.append(
                FieldError(f"{operation}[{i}]", gettext("give only id and version"), "bad_body")
            )
        if not isinstance(given, int) or isinstance(given, bool) or not 0 < given <= MAX_ID:
            errors.append(
                FieldError(f"{operation}[{i}].id", gettext("give a record id"), "bad_body")
            )
            continue
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            errors.append(
                FieldError(
                    f"{operation}[{i}].version", gettext("a version is a whole number"), "bad_body"
                )
            )
            continue
        ids.append(given)
        versions[given] = version
    return ids, versions, errors


def bulk(app: str, entity: str) -> Response:
    """Several writes in one transaction: everything is written, or nothing is."""
    with transaction() as conn:
        return _bulk(conn, app, entity)


def _bulk(conn: sa.Connection, app: str, entity: str) -> Response:
    identity = require("records:write", conn)
    body = body_object()
    errors: list[FieldError] = []
    unknown = sorted(set(body) - set(BULK_KEYS))
    errors += [
        FieldError(
            k[:60], gettext("unknown operation; use create, update, delete or restore"), "bad_body"
        )
        for k in unknown
    ]
    lists: dict[str, list[Any]] = {}
    for key in BULK_KEYS:
        value = body.get(key, [])
        if not isinstance(value, list):
            errors.append(FieldError(key, gettext("give a list"), "bad_body"))
            continue
        lists[key] = value
    if sum(len(v) for v in lists.values()) > MAX_BULK:
        errors.append(
            FieldError(
                "", gettext("at most %(count)s items per request", count=MAX_BULK), "too_many"
            )
        )
    if not errors and not any(lists.values()):
        errors.append(
            FieldError(
                "", gettext("give at least one of create, update, delete or restore"), "bad_body"
            )
        )
    if errors:
        raise ValidationFailed(errors)
    result: dict[str, Any] = {"created": [], "updated": 0, "deleted": 0, "restored": 0}
    service = records(conn, app, identity)
    entity_of(service, entity)
    for i, values in enumerate(lists["create"]):
        if isinstance(values, dict):
            errors += check_owner(service, entity, values, f"create[{i}]")
    updates: list[tuple[int, Mapping[str, Any], int | None]] = []
    for i, item in enumerate(lists["update"]):
        if (
            not isinstance(item, dict)
            or set(item) - {"id", "version", "values"}
            or not isinstance(item.get("values"), dict)
        ):
            errors.append(
                FieldError(
                    f"update[{i}]", gettext('give {"id", "version", "values": {…}}'), "bad_body"
                )
            )
            continue
        ids, versions, problems = _ids([{k: v for k, v in item.items() if k != "values"}], "update")
        errors += [p.at(p.path.replace("update[0]", f"update[{i}]", 1)) for p in problems]
        errors += check_owner(service, entity, item["values"], f"update[{i}].values")
        if ids:
            updates.append((ids[0], item["values"], versions[ids[0]]))
    delete_ids, delete_versions, problems = _ids(lists["delete"], "delete")
    errors += problems
    restore_ids, _, problems = _ids(lists["restore"], "restore")
    errors += problems
    if errors:
        raise ValidationFailed(errors)
    try:
        if lists["create"]:
            result["created"] = service.bulk_create(entity, lists["create"])
    except ValidationFailed as failed:
        raise ValidationFailed(_renamed(failed.errors, "create")) from None
    try:
        if updates:
            service.bulk_update(entity, updates)
            result["updated"] = len(updates)
    except ValidationFailed as failed:
        raise ValidationFailed(_renamed(failed.errors, "update", "values")) from None
    if delete_ids:
        service.bulk_delete(entity, delete_ids, expected_versions=delete_versions)
        result["deleted"] = len(delete_ids)
    if restore_ids:
        service.bulk_restore(entity, restore_ids)
        result["restored"] = len(restore_ids)
    return json_response(result)
