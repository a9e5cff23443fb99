"""Record values in and out: checking what callers send, shaping what they get back.

A record, as every caller sees it, is a dict by field key: scalars as their field type gives
them, a link as the target's id, a multi link as a list of ids, a child table as a list of row
dicts (each with its ``id``), a location as ``{"lat", "lng"}``, attachments as a list of file
references; plus the system fields ``id``, ``version``, ``created_at``, ``updated_at``,
``created_by``, ``updated_by``, ``owner`` and ``deleted_at``.  Only ``owner`` of those can be
written (when the scope lets the actor), computed fields never.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from tessera.engines.definitions import AppModel, EntityModel, FieldModel
from tessera.engines.forms.errors import FieldError

#: system fields as records show them, and the columns they live in
SYSTEM_FIELDS: dict[str, str] = {
    "id": "id",
    "version": "version",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "created_by": "created_by",
    "updated_by": "updated_by",
    "owner": "owner_id",
    "deleted_at": "deleted_at",
}
#: ``read_only`` fields may still be set by automation
AUTOMATION = ("rule", "process", "system")
SECRET = "[redacted]"  # noqa: S105 - the placeholder, not a password


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it (the audit trail, events and cursors store JSON)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def check_values(
    app: AppModel,
    entity: EntityModel,
    values: Mapping[str, Any],
    *,
    via: str,
    writable: set[str] | None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """``values`` checked and in canonical form, and every problem found (not just the first).

    Child-table rows are checked against the child entity, with paths such as
    ``line_items[2].quantity``; a row may carry the ``id`` of an existing row to update it.
    """
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    if not isinstance(values, Mapping):
        return clean, [FieldError("", "the record must be an object of field values", "type")]
    for key, value in values.items():
        if not isinstance(key, str):
            errors.append(FieldError(str(key)[:60], "field names are text", "unknown_field"))
            continue
        if key == "owner":
            if writable is not None and "owner" not in writable:
                errors.append(FieldError(key, "you may not change the owner", "not_writable"))
                continue
            clean[key], problem = _user_id(value)
            if problem:
                errors.append(FieldError(key, problem, "invalid"))
            continue
        if key in SYSTEM_FIELDS:
            errors.append(FieldError(key, f"“{key}” is set by the system", "read_only"))
            continue
        if not entity.has_field(key):
            errors.append(
                FieldError(
                    key[:60], f"“{entity.label()}” has no field “{key[:60]}”", "unknown_field"
                )
            )
            continue
        f = entity.field(key)
        if f.kind.computed:
            errors.append(
                FieldError(key, f"“{f.label()}” is computed and cannot be written", "read_only")
            )
            continue
        if f.spec.get("read_only") and via not in AUTOMATION:
            errors.append(FieldError(key, f"“{f.label()}” is read-only", "read_only"))
            continue
        if writable is not None and key not in writable:
            errors.append(FieldError(key, f"you may not change “{f.label()}”", "not_writable"))
            continue
        if f.type == "child_table":
            rows, row_errors = _child_rows(app, f, value, via=via, writable=writable)
            clean[key] = rows
            errors += row_errors
            continue
        checked, message = f.kind.check(f.spec, value)
        if message is not None:
            errors.append(FieldError(key, message, "invalid"))
        else:
            clean[key] = checked
    return clean, errors


def _user_id(value: Any) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, None
    if isinstance(value, str) and value.isdigit():
        return int(value), None
    return None, f"“{str(value)[:40]}” is not a user"


def _child_rows(
    app: AppModel, f: FieldModel, value: Any, *, via: str, writable: set[str] | None
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    if value is None:
        return [], []
    if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
        return [], [FieldError(f.key, "the rows of a child table must be a list of records")]
    child = app.entity(str(f.target))
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for i, row in enumerate(value):
        given = dict(row)
        row_id = given.pop("id", None)
        clean, problems = check_values(app, child, given, via=via, writable=None)
        if row_id is not None:
            if isinstance(row_id, int) and not isinstance(row_id, bool) and row_id > 0:
                clean["id"] = row_id
            else:
                problems.append(FieldError("id", f"“{str(row_id)[:40]}” is not a row id"))
        rows.append(clean)
        errors += [e.under(f"{f.key}[{i}]") for e in problems]
    return rows, errors


def required_errors(entity: EntityModel, record: Mapping[str, Any]) -> list[FieldError]:
    """Required fields that are blank in ``record`` (the values as they will be stored)."""
    return [
        FieldError(f.key, f"“{f.label()}” is required", "required")
        for f in entity.fields
        if f.required and not f.kind.computed and is_blank(record.get(f.key))
    ]


def to_columns(entity: EntityModel, values: Mapping[str, Any]) -> dict[str, Any]:
    """Checked values (column fields and ``owner``) as column values of the entity's table."""
    row: dict[str, Any] = {}
    for key, value in values.items():
        if key == "owner":
            row["owner_id"] = value
            continue
        if key in SYSTEM_FIELDS or not entity.has_field(key):
            continue
        f = entity.field(key)
        if f.columns:
            row.update(f.kind.to_columns(f.spec, value))
    return row


def from_row(entity: EntityModel, row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as a record: system fields, then every column field present in the row."""
    row = dict(row)  # plain dict lookups: a RowMapping's are several times slower
    record: dict[str, Any] = {}
    for key, column in SYSTEM_FIELDS.items():
        if column in row:
            value = row[column]
            if isinstance(value, dt.datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            record[key] = value
    for key, names, read in _readers(entity):
        if len(names) == 1 and names[0] in row:
            record[key] = None if row[names[0]] is None else read(row)
        elif names and all(n in row for n in names):
            record[key] = read(row)
    return record


_READERS: dict[int, tuple[EntityModel, list[tuple[str, tuple[str, ...], Any]]]] = {}


def _readers(entity: EntityModel) -> list[tuple[str, tuple[str, ...], Any]]:
    """Per entity, once: each column field's key, columns and reader (lists read many rows)."""
    hit = _READERS.get(id(entity))
    if hit is not None and hit[0] is entity:
        return hit[1]
    readers = [
        (f.key, f.columns, partial(f.kind.from_columns, f.spec)) for f in entity.fields if f.columns
    ]
    if len(_READERS) > 1024:
        _READERS.clear()
    _READERS[id(entity)] = (entity, readers)
    return readers


def redact(entity: EntityModel, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Secret fields (``"secret": true``) keep only the fact that they changed."""
    for key in changes:
        if entity.has_field(key) and entity.field(key).spec.get("secret"):
            changes[key] = [SECRET, SECRET]
    return changes


def diff(
    entity: EntityModel, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` (JSON-ready) for fields whose value changed, secrets redacted."""
    changes: dict[str, list[Any]] = {}
    for key in after:
        if key in ("updated_at", "updated_by", "created_at", "created_by", "id"):
            continue
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return redact(entity, changes)
