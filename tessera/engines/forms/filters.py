"""Filters and sorts from callers, compiled to SQLAlchemy Core without pasting any name into SQL.

Two filter forms, both ending as one Core condition over the entity's table:

* a formula of the expression language (``amount > 1000 AND stage IN ("won")``), checked for
  the database it will run on and compiled by the language's SQL back end;
* a structured JSON filter, ``{"and": [...]}`` / ``{"or": [...]}`` / ``{"not": {...}}`` around
  leaves ``{"field": "amount", "op": "gt", "value": 10}``.  The field is looked up in the
  definition (anything else is an error naming the path), the operator must be one of that field
  type's declared operators (a fixed list per type), and the value is checked by the field type.

Sorts are ``[(field, "asc" | "desc")]`` over sortable fields only.  Every problem raises
:class:`ValidationFailed` with a path (``filter.and[1].field``, ``sort[0]``), never a database
error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.definitions import AppModel, EntityModel, FieldModel
from tessera.engines.definitions.fields.base import (
    CHOICE_OPS,
    DATE_OPS,
    ORDER_OPS,
    operator_name,
)
from tessera.engines.forms.errors import FieldError, ValidationFailed
from tessera.engines.forms.values import UNKNOWN_FIELD
from tessera.engines.messages import Listing, Phrase, _l

MAX_DEPTH = 8
MAX_LEAVES = 100
#: system fields as filters and sorts see them: (column, operators, value checker)
_SYSTEM: dict[str, tuple[str, tuple[str, ...], str]] = {
    "id": ("id", (*ORDER_OPS, "in", "not_in"), "integer"),
    "version": ("version", ORDER_OPS, "integer"),
    "created_at": ("created_at", DATE_OPS, "datetime"),
    "updated_at": ("updated_at", DATE_OPS, "datetime"),
    "created_by": ("created_by", CHOICE_OPS, "user"),
    "updated_by": ("updated_by", CHOICE_OPS, "user"),
    "owner": ("owner_id", CHOICE_OPS, "user"),
}
_UNSORTABLE = {
    "multi_select",
    "attachment",
    "image",
    "json",
    "multi_link",
    "child_table",
    "location",
}
_SORT_ITEM = re.compile(r"^-?[a-z][a-z0-9_]{0,40}$")


def _name(text: Any) -> str:
    """A caller's field name, shortened for an error message."""
    shown = str(text)
    return shown if len(shown) <= 40 else shown[:40] + "…"


def _operator_written(op: str) -> Phrase:
    """An operator a filter may use, as a caller writes it and as people name it: a JSON
    filter needs the key (``gt``), a reader its meaning (“大于”): ``gt (is more than)``."""
    return Phrase(_l("%(key)s (%(name)s)"), key=op, name=operator_name(op))


class FilterCompiler:
    def __init__(
        self,
        app: AppModel,
        entity: EntityModel,
        table: sa.Table,
        tables: Mapping[str, sa.Table],
        schema: ex.ExprSchema,
        context: ex.EvalContext,
        dialect: str,
        *,
        hidden: Callable[[EntityModel], set[str]] | None = None,
    ) -> None:
        self.app, self.entity, self.table = app, entity, table
        self.tables, self.schema, self.context, self.dialect = tables, schema, context, dialect
        #: fields the actor may not see: a filter naming one is refused like an unknown field
        self.hidden = hidden
        self.leaves = 0

    # -- formula filters -------------------------------------------------------------------
    def formula(self, source: str, path: str = "filter") -> sa.ColumnElement[bool]:
        try:
            expr = ex.parse(source, schema=self.schema, entity=self.entity.key)
            # a hidden field is refused before the type check, whose messages would name it
            # (by its label, in the reader's language) and say what type it is
            self._refuse_hidden(expr, path)
            checked = ex.check(
                expr, self.schema, self.entity.key, need_sql=True, dialect=self.dialect
            )
        except ex.ExpressionErrors as error:
            raise ValidationFailed(
                [
                    FieldError(path, e.message, f"formula_{e.code}", e.template, e.params)
                    for e in error.errors
                ]
            ) from None
        if checked.type.kind is not ex.ValueType.BOOLEAN:
            raise ValidationFailed.one(
                path, _l("a filter must be a yes/no formula"), "not_a_condition"
            )
        tables = {**self.tables, self.entity.key: self.table}
        condition: sa.ColumnElement[bool] = ex.compile_sql(
            checked, tables, self.context, self.dialect
        )
        return condition

    def _refuse_hidden(self, expr: ex.Expression, path: str) -> None:
        """A formula reading a field the actor may not see is refused like an unknown field."""
        if self.hidden is None:
            return
        for ref in sorted(ex.references(expr)):
            if self._hidden_path(ref):
                raise ValidationFailed.one(
                    path,
                    _l("there is no field “%(key)s”"),
                    "unknown_field",
                    key=_name(".".join(ref)),
                )

    def _hidden_path(self, path: Sequence[str]) -> bool:
        """Whether a formula path (``account.annual_revenue``) reads a hidden field."""
        current = self.entity
        for key in path:
            if self.hidden is None or not current.has_field(key):
                return False
            if key in self.hidden(current):
                return True
            target = current.field(key).target
            if target is None or not self.app.has_entity(str(target)):
                return False
            current = self.app.entity(str(target))
        return False

    # -- JSON filters ----------------------------------------------------------------------
    def json(self, node: Any, path: str = "filter", depth: int = 0) -> sa.ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise ValidationFailed.one(
                path, _l("filters nest at most %(depth)s levels"), "too_deep", depth=MAX_DEPTH
            )
        if not isinstance(node, Mapping):
            raise ValidationFailed.one(path, _l("a filter is an object"), "bad_filter")
        groups = [k for k in ("and", "or", "not") if k in node]
        if groups:
            if len(node) != 1:
                raise ValidationFailed.one(
                    path, _l("a group has exactly one key: and, or or not"), "bad_filter"
                )
            key = groups[0]
            if key == "not":
                return sa.not_(self.json(node["not"], f"{path}.not", depth + 1))
            items = node[key]
            if not isinstance(items, list) or not items:
                raise ValidationFailed.one(
                    f"{path}.{key}", _l("a group holds a non-empty list of filters"), "bad_filter"
                )
            parts = [
                self.json(item, f"{path}.{key}[{i}]", depth + 1) for i, item in enumerate(items)
            ]
            return sa.and_(*parts) if key == "and" else sa.or_(*parts)
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise ValidationFailed.one(
                path, _l("at most %(count)s conditions"), "too_many", count=MAX_LEAVES
            )
        unknown = set(node) - {"field", "op", "value"}
        if unknown:
            raise ValidationFailed.one(
                path,
                _l("unknown key “%(key)s”"),
                "bad_filter",
                key=_name(sorted(map(str, unknown))[0]),
            )
        return self.leaf(node.get("field"), node.get("op"), node.get("value"), path)

    def leaf(self, key: Any, op: Any, value: Any, path: str) -> sa.ColumnElement[bool]:
        hidden = self.hidden(self.entity) if self.hidden is not None else set()
        if (
            not isinstance(key, str)
            or not (key in _SYSTEM or self.entity.has_field(key))
            or key in hidden
        ):
            raise ValidationFailed.one(
                f"{path}.field",
                UNKNOWN_FIELD,
                "unknown_field",
                entity=self.entity.named(),
                key=_name(key),
            )
        f = self.entity.field(key) if self.entity.has_field(key) else None
        operators = f.kind.operators if f is not None else _SYSTEM[key][1]
        if not isinstance(op, str) or op not in operators:
            raise ValidationFailed.one(
                f"{path}.op",
                _l("“%(op)s” is not an operator for “%(key)s”; use one of %(operators)s"),
                "bad_operator",
                op=operator_name(_name(op)),
                key=key,
                operators=Listing(_operator_written(o) for o in operators),
            )
        try:
            return self._condition(key, f, op, value)
        except ValidationFailed as failed:
            raise ValidationFailed([e.under(path) for e in failed.errors]) from None

    def _check(self, key: str, f: FieldModel | None, value: Any) -> Any:
        if f is None:
            kind = _SYSTEM[key][2]
            from tessera.engines.definitions.fields import field_type

            checked, error = field_type(kind).try_validate({"key": key}, value)
        elif f.type in ("multi_select", "multi_link"):
            many = value if isinstance(value, list) else [value]
            checked, error = f.kind.try_validate(f.spec, many)
        else:
            checked, error = f.kind.try_validate(f.spec, value)
        if error is not None:
            raise ValidationFailed.one("value", error.template, "bad_value", **error.params)
        if checked is None:
            raise ValidationFailed.one("value", _l("a value is needed"), "bad_value")
        return checked

    def _many(
        self, key: str, f: FieldModel | None, value: Any, size: int | None = None
    ) -> list[Any]:
        if not isinstance(value, list) or not value or (size is not None and len(value) != size):
            if size:
                raise ValidationFailed.one(
                    "value", _l("this operator needs %(size)s values"), "bad_value", size=size
                )
            raise ValidationFailed.one(
                "value", _l("this operator needs a non-empty list of values"), "bad_value"
            )
        return [self._check(key, f, v) for v in value]

    def _column(self, key: str, f: FieldModel | None) -> Any:
        if f is None:
            return self.table.c[_SYSTEM[key][0]]
        return self.table.c[f.columns[0]] if f.columns else None

    def _condition(
        self, key: str, f: FieldModel | None, op: str, value: Any
    ) -> sa.ColumnElement[bool]:
        kind = f.type if f is not None else _SYSTEM[key][2]
        if kind == "location" and f is not None:
            return self._location(f, op, value)
        if kind == "multi_link" and f is not None:
            return self._multi_link(f, op, value)
        if kind == "child_table" and f is not None:
            return self._children(f, op)
        col = self._column(key, f)
        if op == "is_empty":
            return self._empty(col, kind)
        if op == "is_not_empty":
            return sa.not_(self._empty(col, kind))
        if kind == "multi_select" and f is not None:
            return self._multi_select(f, col, op, value)
        if op in ("contains", "not_contains", "starts_with", "ends_with"):
            if not isinstance(value, str) or not value:
                raise ValidationFailed.one(
                    "value", _l("this operator needs some text"), "bad_value"
                )
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {"starts_with": f"{escaped}%", "ends_with": f"%{escaped}"}.get(
                op, f"%{escaped}%"
            )
            hit = col.ilike(pattern, escape="\\")
            return sa.func.coalesce(sa.not_(hit), sa.true()) if op == "not_contains" else hit
        if op in ("in", "not_in"):
            items = self._many(key, f, value)
            # one expanding parameter for the list: no per-item coercion of literals
            hit = col.in_(sa.bindparam("in", items, expanding=True, unique=True, type_=col.type))
            return sa.or_(sa.not_(hit), col.is_(None)) if op == "not_in" else hit
        if op == "between":
            low, high = self._many(key, f, value, 2)
            return sa.and_(col >= low, col <= high)
        if op in ("in_last_days", "in_next_days", "today", "this_week", "this_month"):
            return self._relative(col, kind, op, value)
        checked = self._check(key, f, value)
        if op == "ne":
            return sa.or_(col != checked, col.is_(None))
        # Built for the one operator asked for: SQLAlchemy refuses ``col < False`` outright.
        comparisons: dict[str, Callable[[], sa.ColumnElement[bool]]] = {
            "eq": lambda: col == checked,
            "lt": lambda: col < checked,
            "le": lambda: col <= checked,
            "gt": lambda: col > checked,
            "ge": lambda: col >= checked,
        }
        return comparisons[op]()

    def _empty(self, col: Any, kind: str) -> sa.ColumnElement[bool]:
        empty: sa.ColumnElement[bool] = col.is_(None)
        if kind in ("text", "long_text", "rich_text", "email", "phone", "url", "auto_number"):
            return sa.or_(empty, col == "")
        if kind in ("multi_select", "attachment", "image", "json"):
            return sa.or_(empty, sa.cast(col, sa.String) == "[]")
        return empty

    def _relative(self, col: Any, kind: str, op: str, value: Any) -> sa.ColumnElement[bool]:
        tz = ZoneInfo(self.context.time_zone)
        today = self.context.now.astimezone(tz).date()
        if op in ("in_last_days", "in_next_days"):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36500:
                raise ValidationFailed.one("value", _l("give a number of days"), "bad_value")
            start, end = (
                (today - dt.timedelta(days=value), today + dt.timedelta(days=1))
                if op == "in_last_days"
                else (today, today + dt.timedelta(days=value + 1))
            )
        elif op == "today":
            start, end = today, today + dt.timedelta(days=1)
        elif op == "this_week":
            start = today - dt.timedelta(days=today.weekday())
            end = start + dt.timedelta(days=7)
        else:
            start = today.replace(day=1)
            end = (start + dt.timedelta(days=32)).replace(day=1)
        if kind in ("datetime", "created_at", "updated_at") or kind == "datetime":
            low: Any = dt.datetime.combine(start, dt.time(), tz).astimezone(dt.UTC)
            high: Any = dt.datetime.combine(end, dt.time(), tz).astimezone(dt.UTC)
        else:
            low, high = start, end
        return sa.and_(col >= low, col < high)

    def _multi_select(self, f: FieldModel, col: Any, op: str, value: Any) -> sa.ColumnElement[bool]:
        wanted = self._check(f.key, f, value)
        func = (
            sa.func.json_array_elements_text if self.dialect == "postgresql" else sa.func.json_each
        )
        items = func(col).table_valued("value").render_derived()

        def has(options: list[str]) -> sa.ColumnElement[bool]:
            return (
                sa.select(sa.func.count())
                .select_from(items)
                .where(items.c.value.in_(options))
                .scalar_subquery()
                > 0
            )

        if op == "has_all":
            return sa.and_(*[has([w]) for w in wanted])
        hit = has(wanted)
        return sa.func.coalesce(sa.not_(hit), sa.true()) if op == "has_none" else hit

    def _multi_link(self, f: FieldModel, op: str, value: Any) -> sa.ColumnElement[bool]:
        junction = self.tables[f"x_{self.app.key}__{self.entity.key}__{f.key}"].alias()
        base = sa.select(junction.c.target_id).where(junction.c.source_id == self.table.c.id)
        if op in ("is_empty", "is_not_empty"):
            exists = base.exists()
            return sa.not_(exists) if op == "is_empty" else exists
        wanted = self._check(f.key, f, value)
        if op == "has_all":
            return sa.and_(*[base.where(junction.c.target_id == w).exists() for w in wanted])
        exists = base.where(junction.c.target_id.in_(wanted)).exists()
        return sa.not_(exists) if op == "has_none" else exists

    def _children(self, f: FieldModel, op: str) -> sa.ColumnElement[bool]:
        rows = self.tables[str(f.target)].alias()
        exists = sa.select(rows.c.id).where(rows.c.parent_id == self.table.c.id).exists()
        return sa.not_(exists) if op == "is_empty" else exists

    def _location(self, f: FieldModel, op: str, value: Any) -> sa.ColumnElement[bool]:
        lat, lng = (self.table.c[c] for c in f.columns)
        if op == "is_empty":
            return lat.is_(None)
        if op == "is_not_empty":
            return lat.is_not(None)
        box = value if isinstance(value, Mapping) else {}
        try:
            south, west = float(box["south"]), float(box["west"])
            north, east = float(box["north"]), float(box["east"])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed.one(
                "value", _l("a box needs numbers south, west, north and east"), "bad_value"
            ) from None
        return sa.and_(lat >= south, lat <= north, lng >= west, lng <= east)


def sort_column(
    entity: EntityModel,
    table: sa.Table,
    key: Any,
    path: str,
    hidden: Collection[str] = (),
) -> sa.Column[Any]:
    """The column to sort ``key`` by, or a validation error (never a guess); a ``hidden`` field
    is refused like an unknown one."""
    if isinstance(key, str) and key in _SYSTEM:
        return table.c[_SYSTEM[key][0]]
    if isinstance(key, str) and entity.has_field(key) and key not in hidden:
        f = entity.field(key)
        stored = f.spec.get("_stored") or {}
        if f.type not in _UNSORTABLE and stored.get("type") not in _UNSORTABLE and f.columns:
            return table.c[f.columns[0]]
        raise ValidationFailed.one(
            path, _l("“%(label)s” cannot be sorted on"), "unsortable", label=f.named()
        )
    raise ValidationFailed.one(
        path,
        _l("“%(entity)s” has no field “%(key)s” to sort on"),
        "unknown_field",
        entity=entity.named(),
        key=_name(key),
    )


def parse_sort(text: str) -> list[tuple[str, str]]:
    """``"stage,-amount"`` (a query-string sort) as ``[("stage", "asc"), ("amount", "desc")]``."""
    out: list[tuple[str, str]] = []
    for i, item in enumerate(text.split(",")):
        item = item.strip()
        if not _SORT_ITEM.match(item):
            raise ValidationFailed.one(
                f"sort[{i}]", _l("“%(key)s” is not a field to sort on"), "bad_sort", key=_name(item)
            )
        out.append((item.lstrip("-"), "desc" if item.startswith("-") else "asc"))
    return out


def check_sort(sort: Sequence[Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(sort, list | tuple) or len(sort) > 5:
        raise ValidationFailed.one("sort", _l("sort by at most 5 fields"), "bad_sort")
    for i, item in enumerate(sort):
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or item[1] not in ("asc", "desc")
            or not isinstance(item[0], str)
        ):
            raise ValidationFailed.one(
                f"sort[{i}]", _l("each sort is a field and asc or desc"), "bad_sort"
            )
        out.append((item[0], item[1]))
    return out
