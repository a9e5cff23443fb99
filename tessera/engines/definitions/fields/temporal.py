"""Date, datetime and time field types.

Datetimes are stored with time zone on PostgreSQL and as UTC on SQLite (which has no zone), and
always come back as aware UTC datetimes; display converts to the viewer's zone elsewhere.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa
from babel import dates as babel_dates

from tessera.engines.definitions.fields.base import (
    DATE_OPS,
    ORDER_OPS,
    Exported,
    FieldType,
    Spec,
    babel_locale,
    parse_date,
    parse_datetime,
    parse_time,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import _l

#: defaults that mean "when the record is created", not a fixed value
NOW_DEFAULTS = ("today", "now")


class Date(FieldType):
    name = "date"
    display_name = _l("Date")
    value_type = ValueType.DATE
    operators = DATE_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def validate(self, spec: Spec, value: Any) -> Any:
        return None if value is None else parse_date(value)

    def default(self, spec: Spec, now: dt.datetime | None = None) -> Any:
        if spec.get("default") in NOW_DEFAULTS:
            return (now or dt.datetime.now(dt.UTC)).date()
        return super().default(spec, now)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return (
            "" if value is None else babel_dates.format_date(value, "medium", babel_locale(locale))
        )

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else value.isoformat()

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 730))


class DateTime(FieldType):
    name = "datetime"
    display_name = _l("Date and time")
    value_type = ValueType.DATETIME
    operators = DATE_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.DateTime(timezone=True)

    def validate(self, spec: Spec, value: Any) -> Any:
        return None if value is None else parse_datetime(value)

    def to_columns(self, spec: Spec, value: Any) -> dict[str, Any]:
        return {spec["key"]: value}

    def from_columns(self, spec: Spec, row: Any) -> Any:
        value = row[spec["key"]]
        return None if value is None else parse_datetime(value)

    def default(self, spec: Spec, now: dt.datetime | None = None) -> Any:
        if spec.get("default") in NOW_DEFAULTS:
            return now or dt.datetime.now(dt.UTC)
        return super().default(spec, now)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        return babel_dates.format_datetime(
            value, "medium", tzinfo=dt.UTC, locale=babel_locale(locale)
        )

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else value.isoformat()

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        return start + dt.timedelta(minutes=15 * rng.randint(0, 70_000))


class Time(FieldType):
    name = "time"
    display_name = _l("Time")
    value_type = ValueType.TIME
    operators = ORDER_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.Time()

    def validate(self, spec: Spec, value: Any) -> Any:
        return None if value is None else parse_time(value)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return (
            ""
            if value is None
            else babel_dates.format_time(value, "short", locale=babel_locale(locale))
        )

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else value.isoformat()

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return dt.time(rng.randint(8, 18), rng.choice((0, 15, 30, 45)))
