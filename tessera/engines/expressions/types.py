"""Formula types: a :class:`ValueType` plus what some kinds need (item type, linked entity).

Compatibility rules live here so the checker and the function registry share them: the
numeric family (number, decimal, currency, duration) mixes in arithmetic, select compares with
text, date compares with datetime (a datetime is taken on its calendar day in the context's
time zone), and blank fits anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.engines.messages import Phrase, _l

from .schema import ValueType as V


@dataclass(frozen=True)
class Type:
    kind: V
    item: Type | None = None  # element type of LIST
    entity: str | None = None  # entity of RECORD values (and of LIST of records)
    options: tuple[str, ...] = ()  # option keys of select values

    def __str__(self) -> str:
        return describe(self)


NUMBER = Type(V.NUMBER)
DECIMAL = Type(V.DECIMAL)
CURRENCY = Type(V.CURRENCY)
TEXT = Type(V.TEXT)
BOOLEAN = Type(V.BOOLEAN)
DATE = Type(V.DATE)
DATETIME = Type(V.DATETIME)
DURATION = Type(V.DURATION)
USER = Type(V.USER)
DEPARTMENT = Type(V.DEPARTMENT)
NULL = Type(V.NULL)
ANY = Type(V.ANY)

NUMERIC = frozenset({V.NUMBER, V.DECIMAL, V.CURRENCY, V.DURATION})
EXACT = frozenset({V.DECIMAL, V.CURRENCY})
TEXTUAL = frozenset({V.TEXT, V.SELECT})
TEMPORAL = frozenset({V.DATE, V.DATETIME})
IDS = frozenset({V.USER, V.DEPARTMENT, V.RECORD})
SCALARS = NUMERIC | TEXTUAL | TEMPORAL | IDS | {V.BOOLEAN, V.TIME}

_ARTICLE = {
    V.TEXT: _l("a text"),
    V.NUMBER: _l("a number"),
    V.DECIMAL: _l("a decimal number"),
    V.CURRENCY: _l("a currency amount"),
    V.BOOLEAN: _l("a yes/no value"),
    V.DATE: _l("a date"),
    V.DATETIME: _l("a date and time"),
    V.TIME: _l("a time of day"),
    V.DURATION: _l("a duration"),
    V.SELECT: _l("a choice"),
    V.MULTISELECT: _l("a multiple choice"),
    V.USER: _l("a user"),
    V.DEPARTMENT: _l("a department"),
    V.RECORD: _l("a link"),
    V.JSON: _l("a JSON value"),
    V.LIST: _l("a list"),
    V.NULL: _l("blank"),
    V.ANY: _l("a value"),
}
#: a list of values of a kind: each its own phrase, since languages say plurals differently
_LIST_OF = {
    V.TEXT: _l("a list of texts"),
    V.NUMBER: _l("a list of numbers"),
    V.DECIMAL: _l("a list of decimal numbers"),
    V.CURRENCY: _l("a list of currency amounts"),
    V.BOOLEAN: _l("a list of yes/no values"),
    V.DATE: _l("a list of dates"),
    V.DATETIME: _l("a list of dates and times"),
    V.TIME: _l("a list of times of day"),
    V.DURATION: _l("a list of durations"),
    V.SELECT: _l("a list of choices"),
    V.MULTISELECT: _l("a list of multiple choices"),
    V.USER: _l("a list of users"),
    V.DEPARTMENT: _l("a list of departments"),
    V.RECORD: _l("a list of links"),
    V.JSON: _l("a list of JSON values"),
    V.LIST: _l("a list of lists"),
    V.ANY: _l("a list of values"),
}


def phrase(t: Type) -> Phrase:
    """``a number``, ``a list of numbers`` -- how every type error message names a type."""
    if t.kind is V.LIST and t.item is not None:
        return Phrase(_LIST_OF.get(t.item.kind, _ARTICLE[V.LIST]))
    return Phrase(_ARTICLE[t.kind])


def describe(t: Type) -> str:
    """:func:`phrase` in English."""
    return str(phrase(t))


def is_null(t: Type) -> bool:
    return t.kind in (V.NULL, V.ANY)


def numeric(t: Type) -> bool:
    return t.kind in NUMERIC or is_null(t)


def textual(t: Type) -> bool:
    return t.kind in TEXTUAL or is_null(t)


def temporal(t: Type) -> bool:
    return t.kind in TEMPORAL or is_null(t)


def arithmetic_result(a: Type, b: Type) -> Type:
    """The type of ``a + b`` for numeric operands: exact wins, currency wins over decimal."""
    kinds = {a.kind, b.kind}
    if V.CURRENCY in kinds:
        return CURRENCY
    if V.DECIMAL in kinds:
        return DECIMAL
    if kinds <= {V.DURATION, V.NULL, V.ANY} and V.DURATION in kinds:
        return DURATION
    return NUMBER


def comparable(a: Type, b: Type) -> bool:
    """Whether ``a = b`` / ``a < b`` make sense."""
    if is_null(a) or is_null(b):
        return True
    if a.kind in NUMERIC and b.kind in NUMERIC:
        return True
    if a.kind in TEXTUAL and b.kind in TEXTUAL:
        return True
    if a.kind in TEMPORAL and b.kind in TEMPORAL:
        return True
    if a.kind in IDS and b.kind in IDS:
        return a.kind == b.kind and (a.kind is not V.RECORD or a.entity == b.entity)
    return a.kind == b.kind and a.kind in (V.BOOLEAN, V.TIME)


def unify(types: list[Type]) -> Type | None:
    """A common type for the branches of IF/IFS/SWITCH/COALESCE, or ``None`` if there is none."""
    real = [t for t in types if not is_null(t)]
    if not real:
        return NULL
    first = real[0]
    if all(t.kind in NUMERIC for t in real):
        out = first
        for t in real[1:]:
            out = arithmetic_result(out, t) if t.kind != out.kind else out
        return out
    if all(t.kind in TEXTUAL for t in real):
        return first if all(t == first for t in real) else TEXT
    if all(t.kind in TEMPORAL for t in real):
        return first if all(t.kind == first.kind for t in real) else None
    if all(t.kind == first.kind and t.entity == first.entity for t in real):
        return first
    return None
