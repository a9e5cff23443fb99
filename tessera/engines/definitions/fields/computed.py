"""Field types whose value the platform computes: auto number, formula, rollup and lookup.

formula, rollup and lookup store their result in a column of the type of the result (the
"stored spec"), so lists, sorting and reports read them like any other column.  The stored spec
of a formula follows from its ``result``; for rollup and lookup it depends on the field they
read, so :func:`~tessera.engines.definitions.model.compile_app` resolves it and passes it in as
``spec["_stored"]``.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions.fields.base import (
    TEXT_OPS,
    Exported,
    FieldType,
    Spec,
    require_text,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import _l

FORMULA_RESULTS: dict[str, dict[str, Any]] = {
    "text": {"type": "long_text"},
    "number": {"type": "decimal", "precision": 24, "scale": 6},
    "decimal": {"type": "decimal", "precision": 24, "scale": 2},
    "currency": {"type": "currency", "precision": 18, "scale": 2},
    "boolean": {"type": "boolean"},
    "date": {"type": "date"},
    "datetime": {"type": "datetime"},
}


class AutoNumber(FieldType):
    """Text such as ``QT-2024-0007`` drawn from a counter (see ``autonumber.py``); unique."""

    name = "auto_number"
    display_name = _l("Auto number")
    value_type = ValueType.TEXT
    operators = TEXT_OPS
    computed = True

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.String(64)

    def validate(self, spec: Spec, value: Any) -> Any:
        return None if value is None else require_text(value)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        from tessera.engines.definitions.autonumber import format_number

        return format_number(spec["pattern"], rng.randint(1, 9999), dt.date(2024, 1, 1))


class Stored(FieldType):
    """Delegates storage, validation and display to the field type of its stored result."""

    computed = True
    value_type = ValueType.ANY

    def stored_spec(self, spec: Spec) -> dict[str, Any]:
        stored = spec.get("_stored") or self.fallback(spec)
        return {**stored, "key": spec["key"]}

    def fallback(self, spec: Spec) -> dict[str, Any]:
        return {"type": "long_text"}

    def delegate(self, spec: Spec) -> FieldType:
        from tessera.engines.definitions.fields import field_type

        return field_type(self.stored_spec(spec)["type"])

    def value_type_of(self, spec: Spec) -> ValueType:
        return self.delegate(spec).value_type_of(self.stored_spec(spec))

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return self.delegate(spec).sql_type(self.stored_spec(spec))

    def validate(self, spec: Spec, value: Any) -> Any:
        return self.delegate(spec).validate(self.stored_spec(spec), value)

    def from_columns(self, spec: Spec, row: Any) -> Any:
        return self.delegate(spec).from_columns(self.stored_spec(spec), row)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return self.delegate(spec).format(self.stored_spec(spec), value, locale)

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return self.delegate(spec).to_export(self.stored_spec(spec), value)

    def from_import(self, spec: Spec, text: Any) -> Any:
        return self.delegate(spec).from_import(self.stored_spec(spec), text)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return self.delegate(spec).demo_value(self.stored_spec(spec), rng)


class Formula(Stored):
    name = "formula"
    display_name = _l("Formula")

    def fallback(self, spec: Spec) -> dict[str, Any]:
        stored = dict(FORMULA_RESULTS[spec.get("result", "number")])
        if "scale" in spec and stored["type"] == "decimal":
            stored["scale"] = spec["scale"]
        return stored


class Rollup(Stored):
    name = "rollup"
    display_name = _l("Rollup")

    def fallback(self, spec: Spec) -> dict[str, Any]:
        if spec.get("aggregate") == "count":
            return {"type": "integer"}
        return {"type": "decimal", "precision": 24, "scale": 6}


class Lookup(Stored):
    name = "lookup"
    display_name = _l("Lookup")
