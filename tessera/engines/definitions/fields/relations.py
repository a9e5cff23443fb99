"""Field types that point at other records: user, department, link, multi link, child table.

user, department and link are one integer column with a foreign key (built in ``tables.py``,
which knows the table names); multi link lives in a junction table and child table in the
child entity's own table (``parent_id`` + ``sort_order``), so neither has a column here.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import sqlalchemy as sa

from tessera.engines.definitions.fields.base import (
    CHOICE_OPS,
    EMPTY_OPS,
    MULTI_OPS,
    Exported,
    FieldType,
    InvalidValue,
    Spec,
    normalise,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import _l

#: record ids: 64-bit on PostgreSQL, SQLite's rowid (INTEGER PRIMARY KEY) on SQLite
RecordId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def record_id(value: Any, not_a: str) -> int:
    """``value`` (an id, its text, or ``{"id": …}``) as a record id; ``not_a`` is the template
    of the refusal."""
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    if isinstance(value, str) and normalise(value).isdigit():
        value = int(normalise(value))
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise InvalidValue(not_a, value=value)


class Reference(FieldType):
    """A many-to-one reference stored as the target's id."""

    operators = CHOICE_OPS
    not_a: ClassVar[str] = _l("“%(value)s” is not a record")

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return RecordId

    def validate(self, spec: Spec, value: Any) -> Any:
        return None if value is None else record_id(value, self.not_a)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return "" if value is None else f"#{value}"

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return None  # depends on existing records: the demo data builder fills links


class User(Reference):
    name = "user"
    display_name = _l("User")
    value_type = ValueType.USER
    not_a = _l("“%(value)s” is not a user")

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.Integer()


class Department(User):
    name = "department"
    display_name = _l("Department")
    value_type = ValueType.DEPARTMENT
    not_a = _l("“%(value)s” is not a department")


class Link(Reference):
    name = "link"
    display_name = _l("Link")
    value_type = ValueType.RECORD


class MultiLink(FieldType):
    """Many-to-many: rows ``(source_id, target_id, sort_order)`` in a junction table."""

    name = "multi_link"
    display_name = _l("Multiple links")
    value_type = ValueType.LIST
    storage = "junction"
    operators = MULTI_OPS
    indexable = False

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            raise InvalidValue(_l("“%(value)s” is not a list of records"), value=value)
        ids = [record_id(item, Reference.not_a) for item in value]
        return list(dict.fromkeys(ids))

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else ", ".join(str(i) for i in value)

    def from_import(self, spec: Spec, text: Any) -> Any:
        if isinstance(text, str):
            text = [part for part in normalise(text).replace("，", ",").split(",") if part.strip()]
        return super().from_import(spec, text)


class ChildTable(FieldType):
    """Ordered rows of a child entity; the value is a list of row mappings."""

    name = "child_table"
    display_name = _l("Child table")
    value_type = ValueType.LIST
    storage = "children"
    operators = EMPTY_OPS
    indexable = False

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise InvalidValue(_l("the rows of a child table must be a list of records"))
        return value

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else str(len(value))
