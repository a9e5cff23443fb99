"""Number field types: integer, decimal, currency, percent, rating and duration."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

import sqlalchemy as sa
from babel import numbers as babel_numbers

from tessera.engines.definitions.fields.base import (
    ORDER_OPS,
    Exported,
    FieldType,
    InvalidValue,
    Spec,
    babel_locale,
    normalise,
    parse_decimal,
    quantize,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import _l

NOT_A_WHOLE_NUMBER = _l("“%(value)s” is not a whole number")

INT64 = 2**63 - 1
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class Integer(FieldType):
    name = "integer"
    display_name = _l("Whole number")
    value_type = ValueType.NUMBER
    operators = ORDER_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        number = parse_decimal(value, NOT_A_WHOLE_NUMBER)
        if number != number.to_integral_value():
            raise InvalidValue(NOT_A_WHOLE_NUMBER, value=value)
        result = int(number)
        low, high = spec.get("min", -INT64), spec.get("max", INT64)
        if not low <= result <= high:
            raise InvalidValue(
                _l("“%(value)s” is out of range: it must be between %(low)s and %(high)s"),
                value=value,
                low=low,
                high=high,
            )
        return result

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return (
            ""
            if value is None
            else babel_numbers.format_decimal(value, locale=babel_locale(locale))
        )

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return rng.randint(int(spec.get("min", 0)), int(spec.get("max", 1000)))


class DecimalField(FieldType):
    name = "decimal"
    display_name = _l("Decimal")
    value_type = ValueType.DECIMAL
    operators = ORDER_OPS
    default_precision: ClassVar[int] = 18
    default_scale: ClassVar[int] = 2

    def precision_scale(self, spec: Spec) -> tuple[int, int]:
        return int(spec.get("precision", self.default_precision)), int(
            spec.get("scale", self.default_scale)
        )

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        precision, scale = self.precision_scale(spec)
        return sa.Numeric(precision, scale, asdecimal=True)

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        precision, scale = self.precision_scale(spec)
        return quantize(parse_decimal(value), precision, scale, value)

    def validator(self, spec: Spec) -> Callable[[Any], Any]:
        """Precision and scale read once; plain ASCII numbers (``1234.50``, ``-3``: what a CSV
        file or a JSON client usually sends) skip the clean-up of :func:`parse_decimal`,
        which would leave them unchanged.  Anything else goes through :meth:`validate`."""
        validate = partial(self.validate, spec)
        if type(self).validate is not DecimalField.validate:
            return validate
        precision, scale = self.precision_scale(spec)
        plain = _PLAIN_NUMBER.fullmatch

        def check(value: Any) -> Any:
            if type(value) is str and plain(value):
                return quantize(Decimal(value), precision, scale, value)
            return validate(value)

        return check

    def from_columns(self, spec: Spec, row: Any) -> Any:
        value = super().from_columns(spec, row)
        return None if value is None else self.validate(spec, value)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        scale = self.precision_scale(spec)[1]
        pattern = "#,##0" + ("." + "0" * scale if scale else "")
        return babel_numbers.format_decimal(value, pattern, locale=babel_locale(locale))

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else str(value)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        scale = self.precision_scale(spec)[1]
        return Decimal(rng.randint(0, 10**6)).scaleb(-scale)


class Currency(DecimalField):
    name = "currency"
    display_name = _l("Amount")
    value_type = ValueType.CURRENCY

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        code = spec.get("currency", "CNY")
        return babel_numbers.format_currency(value, code, locale=babel_locale(locale))


class Percent(DecimalField):
    """Stored as the number shown before the % sign: 12.5 means 12.5 %."""

    name = "percent"
    display_name = _l("Percent")
    value_type = ValueType.NUMBER
    default_precision = 12
    default_scale = 2

    def validate(self, spec: Spec, value: Any) -> Any:
        if isinstance(value, str) and normalise(value).endswith("%"):
            value = normalise(value)[:-1]
        return super().validate(spec, value)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return "" if value is None else f"{super().format(spec, value, locale)}%"


class Rating(FieldType):
    name = "rating"
    display_name = _l("Rating")
    value_type = ValueType.NUMBER
    operators = ORDER_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.SmallInteger()

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and set(normalise(value)) <= {"★", "☆"} and value.strip():
            value = normalise(value).count("★")
        top = int(spec.get("max", 5))
        number = Integer().validate({}, value)
        if not 0 <= number <= top:
            raise InvalidValue(
                _l("a rating is between 0 and %(top)s; “%(value)s” is not"), top=top, value=value
            )
        return number

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return "" if value is None else "★" * value + "☆" * (int(spec.get("max", 5)) - value)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return rng.randint(0, int(spec.get("max", 5)))


_DURATION_RE = re.compile(
    r"^(?:(\d+)\s*(?:d|天))?\s*(?:(\d+)\s*(?:h|小时|时))?\s*(?:(\d+)\s*(?:m|min|分钟|分))?\s*"
    r"(?:(\d+)\s*(?:s|秒))?$"
)


class Duration(FieldType):
    """Whole seconds; accepts ``1:30`` (h:mm), ``1:30:05``, ``2h 15m``, ``1天2小时`` or seconds."""

    name = "duration"
    display_name = _l("Duration")
    value_type = ValueType.DURATION
    operators = ORDER_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        elif isinstance(value, str):
            text = normalise(value).lower()
            clock = re.match(r"^(\d+):(\d{2})(?::(\d{2}))?$", text)
            words = _DURATION_RE.match(text)
            if text.isdigit():
                seconds = int(text)
            elif clock:
                seconds = int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3] or 0)
            elif words and any(words.groups()):
                d, h, m, s = (int(g or 0) for g in words.groups())
                seconds = ((d * 24 + h) * 60 + m) * 60 + s
            else:
                raise InvalidValue(
                    _l("“%(value)s” is not a duration; write it like 1:30 or 2h 15m"), value=value
                )
        else:
            raise InvalidValue(_l("“%(value)s” is not a duration"), value=value)
        if seconds < 0:
            raise InvalidValue(_l("a duration cannot be negative"))
        return seconds

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        hours, rest = divmod(int(value), 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return rng.randint(0, 40) * 900
