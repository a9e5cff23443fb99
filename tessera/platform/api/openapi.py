"""The OpenAPI 3.1 document of one published app, generated from its definition.

One schema per entity for what the API returns (``<Entity>``) and one for what it accepts
(``<Entity>Input``), from the field types; paths for list, create, get, update, delete,
restore, history and bulk of each top-level entity; problem+json for every error; Bearer
security.  JSON Schema 2020-12 is OpenAPI 3.1's schema language, so ``["string", "null"]`` and
``const`` are used as they are.  Documents are cached per (app, version, locale).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Response, request

from tessera.engines.definitions import AppModel, EntityModel, FieldModel
from tessera.engines.definitions.fields.base import option_keys
from tessera.platform import apps
from tessera.platform.api.problems import PROBLEM_JSON
from tessera.platform.api.records import MAX_BULK, MAX_ID, json_response, require
from tessera.platform.runtime import current_platform

Schema = dict[str, Any]
_TEXT = ("text", "long_text", "rich_text", "email", "phone", "url")
_DECIMAL_OUT: Schema = {"type": "string", "pattern": r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$"}
_ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_FILE: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "size": {"type": "integer"},
        "mime": {"type": "string"},
    },
    "required": ["id"],
}
SYSTEM_OUT: dict[str, Schema] = {
    "id": _ID,
    "version": {"type": "integer", "minimum": 1},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "created_by": {"type": ["integer", "null"]},
    "updated_by": {"type": ["integer", "null"]},
    "owner": {"type": ["integer", "null"]},
    "deleted_at": {"type": ["string", "null"], "format": "date-time"},
}


def _nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _scalar(kind: str, spec: Any, *, output: bool) -> Schema:
    """The JSON schema of one value of a scalar field type (None for "anything")."""
    if kind in _TEXT or kind == "auto_number":
        schema: Schema = {"type": "string"}
        if kind in _TEXT and spec.get("max_length"):
            schema["maxLength"] = int(spec["max_length"])
        if kind == "email":
            schema["format"] = "email"
        return schema
    if kind in ("integer", "duration"):
        return {"type": "integer"}
    if kind == "rating":
        return {"type": "integer", "minimum": 0, "maximum": int(spec.get("max", 5))}
    if kind in ("decimal", "currency", "percent"):
        return _DECIMAL_OUT if output else {"anyOf": [{"type": "number"}, _DECIMAL_OUT]}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    if kind == "time":
        return {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"}
    if kind == "select":
        return {"type": "string", "enum": list(option_keys(spec))}
    if kind == "multi_select":
        return {"type": "array", "items": {"type": "string", "enum": list(option_keys(spec))}}
    if kind in ("user", "department"):
        return {"type": "integer", "minimum": 1}
    if kind in ("attachment", "image"):
        return {"type": "array", "items": _FILE}
    if kind == "location":
        return {
            "type": "object",
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lng": {"type": "number", "minimum": -180, "maximum": 180},
            },
            "required": ["lat", "lng"],
            "additionalProperties": False,
        }
    return {}


def field_schema(app: AppModel, f: FieldModel, *, output: bool, locale: str) -> Schema:
    """What a field's value looks like in a record the API returns (or accepts)."""
    if f.type == "link":
        expanded = {"type": "object", "properties": {"id": _ID}, "required": ["id"]}
        one = [{"type": "integer", "minimum": 1}, expanded] if output else [_ID]
        schema: Schema = {"anyOf": [*one, {"type": "null"}]}
    elif f.type == "multi_link":
        item = {"anyOf": [{"type": "integer"}, {"type": "object"}]} if output else _ID
        schema = (
            {"type": "array", "items": item}
            if output
            else _nullable({"type": "array", "items": item})
        )
    elif f.type == "child_table":
        child = app.entity(str(f.target))
        row = _child_row(app, child, output=output, locale=locale)
        schema = (
            {"type": "array", "items": row}
            if output
            else _nullable({"type": "array", "items": row})
        )
    elif f.type in ("formula", "rollup", "lookup"):
        stored = dict(f.spec.get("_stored") or f.kind.stored_spec(f.spec))  # type: ignore[attr-defined]
        schema = _nullable(_scalar(stored["type"], stored, output=True))
    elif f.type == "json":
        schema = {}
    else:
        schema = _nullable(_scalar(f.type, f.spec, output=output))
    label = f.label(locale)
    if label and schema:
        schema = {**schema, "title": label}
    elif label:
        schema = {"title": label}
    return schema


def _child_row(app: AppModel, child: EntityModel, *, output: bool, locale: str) -> Schema:
    props: dict[str, Schema] = {"id": _ID}
    for f in child.fields:
        if output or _writable(f):
            props[f.key] = field_schema(app, f, output=output, locale=locale)
    row: Schema = {"type": "object", "properties": props, "additionalProperties": False}
    if output:
        row["required"] = ["id"]
    return row


def _writable(f: FieldModel) -> bool:
    """Fields the API may write: not computed, not read-only (which only automation writes)."""
    return not f.kind.computed and not f.spec.get("read_only")


def _name(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_"))


def entity_schemas(app: AppModel, entity: EntityModel, locale: str) -> dict[str, Schema]:
    props: dict[str, Schema] = {k: dict(v) for k, v in SYSTEM_OUT.items()}
    inputs: dict[str, Schema] = {
        "owner": {
            "type": ["integer", "null"],
            "minimum": 1,
            "description": "only when your permissions allow",
        }
    }
    required_in: list[str] = []
    for f in entity.fields:
        props[f.key] = field_schema(app, f, output=True, locale=locale)
        if _writable(f):
            inputs[f.key] = field_schema(app, f, output=False, locale=locale)
            if f.required:
                required_in.append(f.key)
    name = _name(entity.key)
    return {
        name: {
            "type": "object",
            "title": entity.label(locale),
            "properties": props,
            "required": list(SYSTEM_OUT),
            "additionalProperties": False,
        },
        f"{name}Input": {
            "type": "object",
            "title": entity.label(locale),
            "properties": inputs,
            "additionalProperties": False,
        },
        f"{name}New": {
            "allOf": [{"$ref": f"#/components/schemas/{name}Input"}],
            "required": required_in,
        },
    }


def _problem(description: str) -> Schema:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(description: str, schema: Schema, headers: Schema | None = None) -> Schema:
    out: Schema = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


_ETAG = {
    "ETag": {"description": "the record's version, for If-Match", "schema": {"type": "string"}}
}
_ERRORS = {"401": _problem("no or an invalid token"), "403": _problem("not allowed")}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "the ETag of the version you edited: a stale write is refused with 409",
    "schema": {"type": "string", "pattern": r'^(W/)?"?\d{1,18}"?$'},
}
_RECORD_PARAM = {"name": "record", "in": "path", "required": True, "schema": _ID}


def _list_params() -> list[Schema]:
    def q(name: str, schema: Schema, description: str) -> Schema:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }

    return [
        q(
            "filter",
            {"type": "string", "maxLength": 10000},
            'a formula (amount > 100 AND stage = "won") or a JSON filter '
            '({"field": "amount", "op": "gt", "value": 100})',
        ),
        q("sort", {"type": "string"}, "fields, comma separated; a leading - sorts descending"),
        q("search", {"type": "string", "maxLength": 200}, "text to find in the text fields"),
        q("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"),
        q("after", {"type": "string"}, "the next_cursor of the previous page"),
        q("fields", {"type": "string"}, "fields to return, comma separated"),
        q("expand", {"type": "string"}, "link fields to replace by the linked records"),
        q("total", {"type": "boolean"}, "also count every matching record"),
        q("trashed", {"type": "boolean"}, "list the trash instead"),
    ]


def _paths(app: AppModel, entity: EntityModel, locale: str) -> dict[str, Schema]:
    name = _name(entity.key)
    ref = {"$ref": f"#/components/schemas/{name}"}
    label = entity.label(locale)
    base = f"/api/v1/apps/{app.key}/{entity.key}"
    tag = [label]
    record_errors = {**_ERRORS, "404": _problem("no such record, or one you may not see")}
    bulk_item = {"$ref": f"#/components/schemas/{name}New"}
    id_or_version = {
        "anyOf": [
            _ID,
            {
                "type": "object",
                "properties": {"id": _ID, "version": {"type": "integer"}},
                "required": ["id"],
                "additionalProperties": False,
            },
        ]
    }
    return {
        base: {
            "get": {
                "operationId": f"list_{entity.key}",
                "summary": f"List {label}",
                "tags": tag,
                "parameters": _list_params(),
                "responses": {
                    "200": _json(
                        "a page of records",
                        {
                            "type": "object",
                            "required": ["records", "next_cursor", "total"],
                            "properties": {
                                "records": {"type": "array", "items": ref},
                                "next_cursor": {"type": ["string", "null"]},
                                "total": {"type": ["integer", "null"]},
                            },
                        },
                    ),
                    "400": _problem("a bad filter, sort, search, page size or cursor"),
                    **record_errors,
                },
            },
            "post": {
                "operationId": f"create_{entity.key}",
                "summary": f"Create {label}",
                "tags": tag,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": bulk_item}},
                },
                "responses": {
                    "201": _json(
                        "the new record", ref, {**_ETAG, "Location": {"schema": {"type": "string"}}}
                    ),
                    "400": _problem("the body is not a JSON object"),
                    "409": _problem("a concurrent write got in the way; try again"),
                    "422": _problem("invalid values, each with its path"),
                    **record_errors,
                },
            },
        },
        f"{base}/bulk": {
            "post": {
                "operationId": f"bulk_{entity.key}",
                "summary": f"Bulk write {label}",
                "tags": tag,
                "description": "one transaction: every operation is written, or none",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "create": {
                                        "type": "array",
                                        "items": bulk_item,
                                        "maxItems": MAX_BULK,
                                    },
                                    "update": {
                                        "type": "array",
                                        "maxItems": MAX_BULK,
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "values"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "id": _ID,
                                                "version": {"type": "integer"},
                                                "values": {
                                                    "$ref": f"#/components/schemas/{name}Input"
                                                },
                                            },
                                        },
                                    },
                                    "delete": {
                                        "type": "array",
                                        "items": id_or_version,
                                        "maxItems": MAX_BULK,
                                    },
                                    "restore": {
                                        "type": "array",
                                        "items": id_or_version,
                                        "maxItems": MAX_BULK,
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "what was written",
                        {
                            "type": "object",
                            "required": ["created", "updated", "deleted", "restored"],
                            "properties": {
                                "created": {"type": "array", "items": {"type": "integer"}},
                                "updated": {"type": "integer"},
                                "deleted": {"type": "integer"},
                                "restored": {"type": "integer"},
                            },
                        },
                    ),
                    "400": _problem("the body is not a JSON object"),
                    "409": _problem("a stale version"),
                    "422": _problem("invalid operations or values, each with its path"),
                    **record_errors,
                },
            },
        },
        f"{base}/{{record}}": {
            "parameters": [_RECORD_PARAM],
            "get": {
                "operationId": f"get_{entity.key}",
                "summary": f"Get {label}",
                "tags": tag,
                "parameters": [p for p in _list_params() if p["name"] in ("fields", "expand")],
                "responses": {
                    "200": _json("the record", ref, _ETAG),
                    "400": _problem("bad fields or expand"),
                    **record_errors,
                },
            },
            "patch": {
                "operationId": f"update_{entity.key}",
                "summary": f"Update {label}",
                "tags": tag,
                "parameters": [_IF_MATCH],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{name}Input"}
                        }
                    },
                },
                "responses": {
                    "200": _json("the record as saved", ref, _ETAG),
                    "400": _problem("a bad body or If-Match"),
                    "409": _problem("changed by someone else since your version"),
                    "422": _problem("invalid values, each with its path"),
                    **record_errors,
                },
            },
            "delete": {
                "operationId": f"delete_{entity.key}",
                "summary": f"Move {label} to the trash",
                "tags": tag,
                "parameters": [_IF_MATCH],
                "responses": {
                    "204": {"description": "in the trash"},
                    "400": _problem("a bad If-Match"),
                    "409": _problem("changed by someone else since your version"),
                    **record_errors,
                },
            },
        },
        f"{base}/{{record}}/restore": {
            "parameters": [_RECORD_PARAM],
            "post": {
                "operationId": f"restore_{entity.key}",
                "summary": f"Restore {label} from the trash",
                "tags": tag,
                "responses": {
                    "200": _json("the restored record", ref, _ETAG),
                    "409": _problem("a concurrent write got in the way"),
                    **record_errors,
                },
            },
        },
        f"{base}/{{record}}/history": {
            "parameters": [_RECORD_PARAM],
            "get": {
                "operationId": f"history_{entity.key}",
                "summary": f"History of {label}",
                "tags": tag,
                "responses": {
                    "200": _json(
                        "the audit trail, oldest first", {"$ref": "#/components/schemas/History"}
                    ),
                    **record_errors,
                },
            },
        },
    }


PROBLEM_SCHEMA: Schema = {
    "type": "object",
    "required": ["type", "title", "status", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message", "code"],
                "properties": {
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
        "current_version": {"type": "integer"},
        "changed_fields": {"type": "array", "items": {"type": "string"}},
    },
}
HISTORY_SCHEMA: Schema = {
    "type": "object",
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["at", "action", "via", "changes"],
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "action": {"type": "string"},
                    "actor_id": {"type": ["integer", "null"]},
                    "actor_name": {"type": ["string", "null"]},
                    "actor_key": {"type": ["string", "null"]},
                    "via": {"type": "string"},
                    "changes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "label"],
                            "properties": {
                                "field": {"type": "string"},
                                "label": {"type": "string"},
                                "old": {},
                                "new": {},
                            },
                        },
                    },
                },
            },
        }
    },
}


def document(app: AppModel, version: int, locale: str = "en") -> Schema:
    """The OpenAPI 3.1 document of ``app`` as published in ``version``."""
    schemas: dict[str, Schema] = {"Problem": PROBLEM_SCHEMA, "History": HISTORY_SCHEMA}
    paths: dict[str, Schema] = {}
    for entity in app.entities:
        schemas.update(entity_schemas(app, entity, locale))
        if not entity.child:
            paths.update(_paths(app, entity, locale))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{app.label(locale)} API",
            "version": str(version),
            "description": "Records of the app, generated from its published definition. "
            "Errors are application/problem+json with a path per problem.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a personal API token: tsr_…",
                }
            },
        },
        "security": [{"bearer": []}],
    }


_cache: dict[tuple[str, int, str], Schema] = {}
_lock = threading.Lock()


def openapi_view(app: str) -> Response:
    identity = require("records:read")
    locale = request.args.get("locale") or identity.locale or "en"
    locale = locale if locale in ("en", "zh-CN") else "en"
    with current_platform().db.engine.connect() as conn:
        live = apps.published(conn, app)
    key = (app, live.version, locale)
    with _lock:
        doc = _cache.get(key)
    if doc is None:
        doc = document(live.model, live.version, locale)
        with _lock:
            _cache[key] = doc
    return json_response(doc)
