"""What every field type defines, in one place per type: storage, validation, defaults,
display, filter operators, import/export and demo values.

A field type is a stateless object; the field's own settings (``options``, ``scale`` …) are
passed in as ``spec``, the field's mapping from the definition.  Values handed to
:meth:`FieldType.validate` come from forms and APIs (already JSON-decoded); values handed to
:meth:`FieldType.from_import` are cell text from CSV/XLSX files, written the way people write
them in spreadsheets, including Chinese Excel habits (``是/否``, ``2024/3/5``, ``¥1,234.50``).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache, partial
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError

from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import Localised, Phrase, Refusal, _l
from tessera.engines.messages import pick_label as pick_label  # field types import it here

Spec = Mapping[str, Any]
Storage = Literal["column", "columns", "junction", "children"]
Exported = str | int | float | bool | None

TEXT_OPS = (
    "eq",
    "ne",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "in",
    "not_in",
    "is_empty",
    "is_not_empty",
)
ORDER_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "between", "is_empty", "is_not_empty")
DATE_OPS = (*ORDER_OPS, "in_last_days", "in_next_days", "today", "this_week", "this_month")
CHOICE_OPS = ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty")
MULTI_OPS = ("has_any", "has_all", "has_none", "is_empty", "is_not_empty")
EMPTY_OPS = ("is_empty", "is_not_empty")

#: every operator as the builder's filter editor names it to people (``gt`` is “is more
#: than”, “大于”), for the editor and for messages that name an operator: one table, beside
#: the types' lists of operators, that the builder reads too
OPERATOR_NAMES = {
    "between": _l("is between"),
    "contains": _l("contains"),
    "ends_with": _l("ends with"),
    "eq": _l("is"),
    "ge": _l("is at least"),
    "gt": _l("is more than"),
    "has_all": _l("has all of"),
    "has_any": _l("has any of"),
    "has_none": _l("has none of"),
    "in": _l("is one of"),
    "in_last_days": _l("in the last days"),
    "in_next_days": _l("in the next days"),
    "is_empty": _l("is empty"),
    "is_not_empty": _l("is not empty"),
    "le": _l("is at most"),
    "lt": _l("is less than"),
    "ne": _l("is not"),
    "not_contains": _l("does not contain"),
    "not_in": _l("is none of"),
    "starts_with": _l("starts with"),
    "this_month": _l("this month"),
    "this_week": _l("this week"),
    "today": _l("is today"),
    "within_box": _l("is within the area"),
}


def operator_name(op: str) -> Phrase | str:
    """An operator as a message names it, in the reader's language (“is more than”, “大于”);
    a text that is no operator as it is written."""
    name = OPERATOR_NAMES.get(op)
    return op if name is None else Phrase(name)


class InvalidValue(Refusal):
    """A value a field cannot hold; ``str(error)`` is a sentence for the person who entered it.

    The sentence is ``template`` (an English msgid marked with ``_l``) filled with ``params``, so
    the platform can show it in the reader's language (see :mod:`tessera.engines.messages`)::

        raise InvalidValue(_l("“%(value)s” is not a date"), value=value)
    """


class FieldType:
    """Base class: a single nullable column whose Python value is stored as is.

    ``name`` is the type's key in definitions (``multi_link``); ``display_name`` is what people
    call it ("Multiple links"), an English msgid marked with ``_l`` that the platform
    translates: the palette and every message that names a field type read it here, so a
    type's name lives with everything else about the type."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    value_type: ClassVar[ValueType]
    storage: ClassVar[Storage] = "column"
    operators: ClassVar[tuple[str, ...]] = EMPTY_OPS
    #: computed types are never entered by users; their column holds a stored result
    computed: ClassVar[bool] = False
    #: types whose column can carry an index / unique constraint
    indexable: ClassVar[bool] = True

    def value_type_of(self, spec: Spec) -> ValueType:
        """The formula type of this field's values (computed types depend on their result)."""
        return self.value_type

    # -- storage ---------------------------------------------------------------------------
    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        raise NotImplementedError(self.name)

    def column_names(self, spec: Spec) -> tuple[str, ...]:
        return (spec["key"],) if self.storage == "column" else ()

    def columns(self, spec: Spec) -> list[sa.Column[Any]]:
        """The columns of this field in its entity's table (all nullable: ``required`` is a
        form rule, so adding a required field to a table with rows never fails)."""
        return [
            sa.Column(name, self.sql_type(spec), nullable=True) for name in self.column_names(spec)
        ]

    def to_columns(self, spec: Spec, value: Any) -> dict[str, Any]:
        """A validated value as column values of a row."""
        names = self.column_names(spec)
        return {names[0]: value} if names else {}

    def from_columns(self, spec: Spec, row: Mapping[str, Any]) -> Any:
        """The field's value read back from a database row."""
        names = self.column_names(spec)
        return row[names[0]] if names else None

    # -- values ----------------------------------------------------------------------------
    def validate(self, spec: Spec, value: Any) -> Any:
        """Return ``value`` in its canonical form or raise :class:`InvalidValue`."""
        return value

    def validator(self, spec: Spec) -> Callable[[Any], Any]:
        """:meth:`validate` bound to one field's spec, for checking many values of that field
        (the rows of a bulk write or an import).  A type that works something out from the
        spec for every value (a select's accepted keys and labels) works it out here, once;
        results and refusals are the same as :meth:`validate`'s."""
        return partial(self.validate, spec)

    def check(self, spec: Spec, value: Any) -> tuple[Any, str | None]:
        """``(value, None)`` when valid, ``(None, message)`` otherwise."""
        checked, error = self.try_validate(spec, value)
        return checked, None if error is None else str(error)

    def try_validate(self, spec: Spec, value: Any) -> tuple[Any, InvalidValue | None]:
        """``(value, None)`` when valid, ``(None, error)`` otherwise: the error keeps its
        template and params, for callers that show it in another language."""
        try:
            return self.validate(spec, value), None
        except InvalidValue as error:
            return None, error

    def default(self, spec: Spec, now: dt.datetime | None = None) -> Any:
        """The value a new record starts with: the field's ``default`` (validated) or None."""
        if spec.get("default") is None:
            return None
        return self.validate(spec, spec["default"])

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        """The value as display text in ``locale``."""
        return "" if value is None else str(value)

    def to_export(self, spec: Spec, value: Any) -> Exported:
        """The value as one spreadsheet cell."""
        if value is None or isinstance(value, str | int | float | bool):
            return value
        return str(value)

    def from_import(self, spec: Spec, text: Any) -> Any:
        """A spreadsheet cell (text, or a number/date from XLSX) as a valid value."""
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        return self.validate(spec, text.strip() if isinstance(text, str) else text)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return None


# -- helpers shared by the field types ------------------------------------------------------

_CURRENCY_MARKS = re.compile(r"^(?:[A-Z]{3}|RMB)\s*|\s*(?:[A-Z]{3}|RMB|元)$|[¥$€£]")


def babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale, sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def normalise(text: str) -> str:
    """Full-width digits, letters and punctuation (常见于中文输入法) as ASCII; trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


NOT_A_NUMBER = _l("“%(value)s” is not a number")


def parse_decimal(value: Any, not_a: str = NOT_A_NUMBER) -> Decimal:
    """``1,234.50``, ``¥1,234.50``, ``(12)``, ``１２３`` … as a Decimal; ``not_a`` is the
    template of the refusal (``“%(value)s” is not a latitude`` …)."""
    if isinstance(value, bool):
        raise InvalidValue(not_a, value=value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise InvalidValue(not_a, value=value)
    text = _CURRENCY_MARKS.sub("", normalise(value)).replace(",", "").replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidValue(not_a, value=value) from None
    if not number.is_finite():
        raise InvalidValue(not_a, value=value)
    return -number if negative else number


def quantize(number: Decimal, precision: int, scale: int, original: Any) -> Decimal:
    """Round to ``scale`` places and refuse numbers with more whole digits than fit."""
    too_large = number.adjusted() >= precision - scale  # checked first: quantize would raise
    result = Decimal(0) if too_large else number.quantize(Decimal(1).scaleb(-scale))
    if too_large or result.adjusted() >= precision - scale:
        raise InvalidValue(
            _l("“%(value)s” is too large: at most %(digits)s digits before the decimal point"),
            value=original,
            digits=precision - scale,
        )
    return result


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: Any) -> dt.date:
    """ISO dates, ``2024/3/5``, ``2024.3.5``, ``2024年3月5日``, ``20240305``, Excel serials."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    if not isinstance(value, str):
        raise InvalidValue(_l("“%(value)s” is not a date"), value=value)
    text = normalise(value).split("T")[0].split(" ")[0]
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    elif text.isdigit() and 0 < int(text) < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(text))
    raise InvalidValue(_l("“%(value)s” is not a date; write it like 2024-03-05"), value=value)


_TIME_RE = re.compile(r"^(\d{1,2})[:：时](\d{2})(?:[:：分](\d{2})(?:\.(\d{1,6}))?)?秒?$")


def parse_time(value: Any) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        raise InvalidValue(_l("“%(value)s” is not a time of day"), value=value)
    match = _TIME_RE.match(normalise(value))
    try:
        if match:
            micro = int((match.group(4) or "0").ljust(6, "0"))
            return dt.time(
                int(match.group(1)), int(match.group(2)), int(match.group(3) or 0), micro
            )
    except ValueError:
        pass
    raise InvalidValue(_l("“%(value)s” is not a time of day; write it like 14:30"), value=value)


def parse_datetime(value: Any) -> dt.datetime:
    """An aware datetime in UTC; text without an offset is read as UTC."""
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, str):
        text = normalise(value)
        try:
            result = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parts = re.split(r"[\sT]+", text, maxsplit=1)
            day = parse_date(parts[0])
            clock = parse_time(parts[1]) if len(parts) > 1 else dt.time()
            result = dt.datetime.combine(day, clock)
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time())
    else:
        raise InvalidValue(_l("“%(value)s” is not a date and time"), value=value)
    if result.tzinfo is None:
        return result.replace(tzinfo=dt.UTC)
    return result.astimezone(dt.UTC)


def require_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise InvalidValue(_l("“%(value)s” is not text"), value=value)


def option_keys(spec: Spec) -> tuple[str, ...]:
    return tuple(o if isinstance(o, str) else o["key"] for o in spec.get("options", ()))


def option_label(spec: Spec, key: str, locale: str) -> str:
    """What an option is called in ``locale``: its label, or, for an option without one (and
    a stored key no option has any more), its key read as words (``closed_won`` → Closed
    won), the fallback of every label.  Selects accept this text back (imports of exports)."""
    for option in spec.get("options", ()):
        if isinstance(option, dict) and option["key"] == key and "label" in option:
            return pick_label(option["label"], locale, "") or humanise(key)
    return humanise(key)


def option_named(option: str | Mapping[str, Any]) -> Localised:
    """An option as a message names it to people: its label in the reader's language, its
    key as words where it has none (what :func:`option_label` shows, and what an import
    carries), never the bare key only the definition knows."""
    if isinstance(option, str):
        return Localised.of(None, humanise(option))
    return Localised.of(option.get("label") or None, humanise(str(option["key"])))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=4096)
def humanise(key: str) -> str:
    """A key read as words, for an entity, a field or a select option that has no label:
    ``order_line`` → ``Order line``, ``customerName`` → ``Customer name`` (an acronym keeps its
    capitals: ``vatID`` → ``Vat ID``).  The one fallback of every label, so a page, an export
    header and a message name an unlabelled field the same way.  Remembered per key: an export
    asks it for every cell of an unlabelled option."""
    words = [w for w in re.split(r"[\s_\-]+", _CAMEL.sub(" ", key)) if w]
    if not words:
        return key
    words = [w if len(w) > 1 and w.isupper() else w.lower() for w in words]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])
