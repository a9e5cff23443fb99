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
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

from tessera.engines.definitions import AppModel, EntityModel, FieldModel
from tessera.engines.definitions.fields import FieldType, InvalidValue, field_type
from tessera.engines.definitions.fields.computed import Stored
from tessera.engines.definitions.fields.numbers import DecimalField
from tessera.engines.definitions.fields.temporal import DateTime
from tessera.engines.forms.errors import FieldError
from tessera.engines.memo import PerObject
from tessera.engines.messages import _l

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
UNKNOWN_FIELD = _l("“%(entity)s” has no field “%(key)s”")
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
        return clean, [FieldError("", _l("the record must be an object of field values"), "type")]
    for key, value in values.items():
        if not isinstance(key, str):
            errors.append(FieldError(str(key)[:60], _l("field names are text"), "unknown_field"))
            continue
        if key == "owner":
            if writable is not None and "owner" not in writable:
                errors.append(FieldError(key, _l("you may not change the owner"), "not_writable"))
                continue
            clean[key], problem = _user_id(value)
            if problem:
                errors.append(problem.at(key))
            continue
        if key in SYSTEM_FIELDS:
            errors.append(
                FieldError.of(key, _l("“%(key)s” is set by the system"), "read_only", key=key)
            )
            continue
        if not entity.has_field(key):
            errors.append(
                FieldError.of(
                    key[:60],
                    UNKNOWN_FIELD,
                    "unknown_field",
                    entity=entity.named(),
                    key=key[:60],
                )
            )
            continue
        f = entity.field(key)
        if f.kind.computed:
            errors.append(
                FieldError.of(
                    key,
                    _l("“%(label)s” is computed and cannot be written"),
                    "read_only",
                    label=f.named(),
                )
            )
            continue
        if f.spec.get("read_only") and via not in AUTOMATION:
            errors.append(
                FieldError.of(key, _l("“%(label)s” is read-only"), "read_only", label=f.named())
            )
            continue
        if writable is not None and key not in writable:
            errors.append(
                FieldError.of(
                    key, _l("you may not change “%(label)s”"), "not_writable", label=f.named()
                )
            )
            continue
        if f.type == "child_table":
            rows, row_errors = _child_rows(app, f, value, via=via, writable=writable)
            clean[key] = rows
            errors += row_errors
            continue
        checked, error = f.kind.try_validate(f.spec, value)
        if error is not None:
            errors.append(invalid(key, error))
        else:
            clean[key] = checked
    return clean, errors


def invalid(path: str, error: InvalidValue) -> FieldError:
    """A field type's refusal as the error at ``path`` (its template and params kept)."""
    return FieldError.of(path, error.template, "invalid", **error.params)


def required(f: FieldModel) -> FieldError:
    return FieldError.of(f.key, _l("“%(label)s” is required"), "required", label=f.named())


def _user_id(value: Any) -> tuple[int | None, FieldError | None]:
    if value is None:
        return None, None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, None
    if isinstance(value, str) and value.isdigit():
        return int(value), None
    return None, FieldError.of("owner", _l("“%(value)s” is not a user"), value=str(value)[:40])


def _child_rows(
    app: AppModel, f: FieldModel, value: Any, *, via: str, writable: set[str] | None
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    if value is None:
        return [], []
    if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
        return [], [FieldError(f.key, _l("the rows of a child table must be a list of records"))]
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
                problems.append(
                    FieldError.of("id", _l("“%(value)s” is not a row id"), value=str(row_id)[:40])
                )
        rows.append(clean)
        errors += [e.under(f"{f.key}[{i}]") for e in problems]
    return rows, errors


def required_errors(entity: EntityModel, record: Mapping[str, Any]) -> list[FieldError]:
    """Required fields that are blank in ``record`` (the values as they will be stored)."""
    return [
        required(f)
        for f in entity.fields
        if f.required and not f.kind.computed and is_blank(record.get(f.key))
    ]


class Checker:
    """:func:`check_values` and :func:`required_errors` compiled once per entity, ``via`` and
    writable set, for bulk writes (a 1,000-row chunk checks 1,000 records the same way).

    A record whose keys are all plain writable fields (no ``owner``, no child table, nothing
    unknown, computed or read-only) has each value validated by its field type directly, which
    is what :func:`check_values` does for such keys; any other record goes through
    :func:`check_values` itself, so messages and codes are the same either way."""

    def __init__(
        self, app: AppModel, entity: EntityModel, *, via: str, writable: set[str] | None
    ) -> None:
        self.app, self.entity, self.via, self.writable = app, entity, via, writable
        self.plain: dict[str, Callable[[Any], Any]] = {}
        for f in entity.fields:
            if f.kind.computed or f.type == "child_table" or f.key in SYSTEM_FIELDS:
                continue
            if f.spec.get("read_only") and via not in AUTOMATION:
                continue
            if writable is not None and f.key not in writable:
                continue
            self.plain[f.key] = f.kind.validator(f.spec)
        self.required = [f for f in entity.fields if f.required and not f.kind.computed]

    def check(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        plain = self.plain
        if type(values) is not dict or not all(key in plain for key in values):
            return check_values(self.app, self.entity, values, via=self.via, writable=self.writable)
        clean: dict[str, Any] = {}
        errors: list[FieldError] = []
        for key, value in values.items():
            try:
                clean[key] = plain[key](value)
            except InvalidValue as error:
                errors.append(invalid(key, error))
        return clean, errors

    def required_errors(self, record: Mapping[str, Any]) -> list[FieldError]:
        """:func:`required_errors` over the fields that can be required."""
        return [required(f) for f in self.required if is_blank(record.get(f.key))]


_CHECKERS: PerObject[Checker] = PerObject()


def checker_for(
    app: AppModel, entity: EntityModel, *, via: str, writable: set[str] | None
) -> Checker:
    """The :class:`Checker` of ``entity`` for this ``via`` and writable set, built once per app
    version: a single create (an API call, a form) checks its record with the same compiled
    validators as a bulk one instead of looking every field type up again."""
    key = (via, None if writable is None else frozenset(writable))
    return _CHECKERS.made(
        entity, lambda: Checker(app, entity, via=via, writable=writable), key, also=app
    )


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
    """A row (by column name) as a record: system fields, then every column field present."""
    row = dict(row)  # plain dict lookups: a RowMapping's are several times slower
    record: dict[str, Any] = {}
    for key, column, convert in _SYSTEM_READERS:
        if column in row:
            value = row[column]
            record[key] = value if value is None or convert is None else convert(value)
    for key, names, read in _readers(entity):
        if len(names) == 1:
            if names[0] in row:
                value = row[names[0]]
                record[key] = value if value is None or read is None else read(value)
        elif names and all(n in row for n in names):
            record[key] = _columns_reader(entity.field(key))(row)
    return record


# -- reading rows fast ---------------------------------------------------------------------
# Values read from our own columns are already what their field type produces (the column
# type is the field type's, and every value was checked on the way in), so reading them back
# converts only where the driver's value differs from the field's: datetimes become aware UTC
# (SQLite has no zone).  Decimals come back from ``Numeric`` columns at the column's scale, so
# they are not parsed and quantized again; that was most of the cost of a page.


def _utc(value: Any) -> Any:
    if value.tzinfo is dt.UTC:
        return value
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


#: marker: read through the field type's own ``from_columns`` (types this module does not know)
GENERIC: Any = object()
_SYSTEM_READERS: tuple[tuple[str, str, Any], ...] = tuple(
    (key, column, _utc if key in ("created_at", "updated_at", "deleted_at") else None)
    for key, column in SYSTEM_FIELDS.items()
)


def value_reader(kind: FieldType, spec: Mapping[str, Any]) -> Any:
    """How a non-blank value of a one-column field becomes the field's value (None: as it is),
    or :data:`GENERIC` when only the field type's own ``from_columns`` knows."""
    method = type(kind).from_columns
    if method is FieldType.from_columns or method is DecimalField.from_columns:
        return None
    if method is DateTime.from_columns:
        return _utc
    if method is Stored.from_columns and isinstance(kind, Stored):
        stored = kind.stored_spec(spec)
        return value_reader(field_type(str(stored["type"])), stored)
    return GENERIC


def _columns_reader(f: FieldModel) -> Callable[[Mapping[str, Any]], Any]:
    """A reader of a field from the whole row by column name (location and unknown types)."""
    return partial(f.kind.from_columns, f.spec)


_Readers = list[tuple[str, tuple[str, ...], Any]]
_READERS: PerObject[_Readers] = PerObject()


def _readers(entity: EntityModel) -> _Readers:
    """Per entity, once: each column field's key, columns and value reader."""
    hit = _READERS.get(entity)
    if hit is not None:
        return hit
    readers: _Readers = []
    for f in entity.fields:
        names = f.columns
        if not names:
            continue
        read = value_reader(f.kind, f.spec) if len(names) == 1 else GENERIC
        if read is GENERIC and len(names) == 1:
            column, generic = names[0], _columns_reader(f)
            read = partial(_one_column, generic, column)
        readers.append((f.key, names, read))
    return _READERS.put(entity, readers)


def _one_column(read: Callable[[Mapping[str, Any]], Any], column: str, value: Any) -> Any:
    return read({column: value})


class RowReader:
    """Rows of ``select(table)`` (all columns, in table order) as records with ``keys``.

    Built once per entity, table and set of fields (:func:`row_reader`), so reading a page is
    a C-level ``zip`` per row plus a converter call for the few columns that need one.
    """

    def __init__(self, entity: EntityModel, table: Any, keys: frozenset[str] | None) -> None:
        position = {column.name: n for n, column in enumerate(table.c)}
        names: list[str] = []
        indexes: list[int] = []
        convert: list[tuple[str, Callable[[Any], Any]]] = []
        whole: list[tuple[str, tuple[tuple[str, int], ...], Callable[[Any], Any]]] = []
        for key, column, read in _SYSTEM_READERS:
            if column in position:
                names.append(key)
                indexes.append(position[column])
                if read is not None:
                    convert.append((key, read))
        for key, columns, read in _readers(entity):
            if (keys is not None and key not in keys) or not all(c in position for c in columns):
                continue
            names.append(key)
            indexes.append(position[columns[0]])
            if len(columns) > 1:
                where = tuple((c, position[c]) for c in columns)
                whole.append((key, where, _columns_reader(entity.field(key))))
            elif read is not None:
                convert.append((key, read))
        self.names = tuple(names)
        self.pick: Callable[[Any], Any] = (
            itemgetter(*indexes) if len(indexes) > 1 else lambda row: (row[indexes[0]],)
        )
        self.convert = tuple(convert)
        self.whole = tuple(whole)

    def records(self, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        names, pick = self.names, self.pick
        rows = rows if isinstance(rows, list) else list(rows)
        out = [dict(zip(names, pick(row))) for row in rows]  # noqa: B905 - same length by design
        aware: dict[Any, Any] = {}  # created_at and updated_at are often the same instant
        for key, read in self.convert:
            if read is _utc:
                for record in out:
                    value = record[key]
                    if value is not None and value.tzinfo is not dt.UTC:
                        hit = aware.get(value)
                        if hit is None:
                            hit = aware[value] = _utc(value)
                        record[key] = hit
                continue
            for record in out:
                value = record[key]
                if value is not None:
                    record[key] = read(value)
        if self.whole:
            for record, row in zip(out, rows, strict=True):
                for key, where, read_row in self.whole:
                    record[key] = read_row({c: row[i] for c, i in where})
        return out


_ROW_READERS: PerObject[RowReader] = PerObject(limit=4096)


def row_reader(entity: EntityModel, table: Any, keys: Iterable[str] | None = None) -> RowReader:
    """The cached :class:`RowReader` of ``entity`` over ``table`` for ``keys`` (None: all)."""
    wanted = None if keys is None else frozenset(keys)
    hit = _ROW_READERS.get(entity, wanted, also=table)
    if hit is not None:
        return hit
    return _ROW_READERS.put(entity, RowReader(entity, table, wanted), wanted, also=table)


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


_NOT_DIFFED = frozenset({"updated_at", "updated_by", "created_at", "created_by", "id"})
_SECRETS: PerObject[frozenset[str]] = PerObject()
_AS_IS = frozenset({str, int, float, bool})  # JSON holds these as they are


def _secret_keys(entity: EntityModel) -> frozenset[str]:
    return _SECRETS.made(
        entity, lambda: frozenset(f.key for f in entity.fields if f.spec.get("secret"))
    )


def created(entity: EntityModel, record: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``diff(entity, {}, record)`` for a new record, without comparing every value to None."""
    return created_many(entity, [record])[0]


def created_many(
    entity: EntityModel, records: Sequence[Mapping[str, Any]]
) -> list[dict[str, list[Any]]]:
    """:func:`created` of each of ``records``, the records of one write: the keys worth
    diffing are worked out from the first record, once, and reused for every record with the
    same keys (records read from one table have them), so a bulk create's audit diffs cost a
    dict lookup and a type test per value."""
    secrets = _secret_keys(entity)
    out: list[dict[str, list[Any]]] = []
    shape: Any = None
    keys: tuple[str, ...] = ()
    for record in records:
        if record.keys() != shape:
            shape = record.keys()
            keys = tuple(k for k in record if k not in _NOT_DIFFED)
        changes: dict[str, list[Any]] = {}
        for key in keys:
            value = record[key]
            if value is None:
                continue
            if key in secrets:
                changes[key] = [SECRET, SECRET]
            elif type(value) in _AS_IS:
                changes[key] = [None, value]
            else:
                changes[key] = [None, jsonable(value)]
        out.append(changes)
    return out
