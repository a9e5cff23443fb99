"""The function registry: one :class:`Function` per formula function.

Each entry holds everything about a function in one place -- its parameters and result type for
the checker, its Python implementation, its SQL implementation (and the dialects it supports),
and the example the documentation shows -- so the back ends cannot drift apart function by
function.  Definitions live in :mod:`.functions` (one module per category); this module holds
the machinery they share.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from tessera.engines.messages import Listing, Phrase, _l

from . import types as T
from .context import EvalContext, RecordLoader
from .errors import EvaluationError
from .schema import ExprSchema
from .schema import ValueType as V

DIALECTS = frozenset({"sqlite", "postgresql"})
MAX_STEPS = 100_000
MAX_TEXT = 100_000

SqlExpr = sa.ColumnElement[Any]


def too_many_steps() -> EvaluationError:
    """The refusal of a formula that ran out of its step budget (:data:`MAX_STEPS`)."""
    return EvaluationError(
        "too_many_steps", _l("the formula took more than %(limit)s steps"), limit=MAX_STEPS
    )


@dataclass
class PyEnv:
    """Per-evaluation state of the Python back end: context, loader and the step budget."""

    ctx: EvalContext
    loader: RecordLoader
    steps: int = 0

    def spend(self, n: int) -> None:
        self.steps += n
        if self.steps > MAX_STEPS:
            raise too_many_steps()


@dataclass
class SqlEnv:
    """Compilation state of the SQL back end."""

    dialect: str
    ctx: EvalContext
    schema: ExprSchema
    tables: Mapping[str, sa.Table]

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    def local(self, value: SqlExpr, t: T.Type) -> SqlExpr:
        """A datetime as wall-clock time in the context's zone (dates unchanged)."""
        if t.kind is not V.DATETIME:
            return value
        if self.pg:
            return sa.func.timezone(sa.literal(self.ctx.time_zone, sa.String()), value)
        return sa.func.datetime(value, f"{self.ctx.utc_offset_minutes:+d} minutes")

    def local_date(self, value: SqlExpr, t: T.Type) -> SqlExpr:
        if t.kind is V.DATE:
            return value
        if self.pg:
            return sa.cast(self.local(value, t), sa.Date())
        return sa.func.date(value, f"{self.ctx.utc_offset_minutes:+d} minutes")

    def is_blank(self, value: SqlExpr, t: T.Type) -> SqlExpr:
        """ISBLANK: NULL, empty text, or a multiple choice with no option (``[]`` or JSON
        ``null``); never NULL itself."""
        if t.kind is V.MULTISELECT:
            if self.pg:
                j = sa.cast(value, JSONB())
                empty: SqlExpr = j.in_(
                    [sa.cast(sa.literal("[]"), JSONB()), sa.cast(sa.literal("null"), JSONB())]
                )
                return sa.func.coalesce(empty, sa.true())
            kind = sa.func.json_type(value)
            empty_list: SqlExpr = (kind == "null") | (
                (kind == "array") & (sa.func.json_array_length(value) == 0)
            )
            return sa.func.coalesce(empty_list, sa.true())
        test: SqlExpr = value.is_(None)
        if t.kind in T.TEXTUAL:
            test = test | (sa.cast(value, sa.String()) == "")
        return sa.func.coalesce(test, sa.false())

    def has_option(self, value: SqlExpr, option: SqlExpr) -> SqlExpr:
        """Whether a multiple choice (a JSON list of option keys) includes ``option``."""
        if self.pg:
            return sa.func.coalesce(sa.cast(value, JSONB()).op("?")(option), sa.false())
        each = sa.func.json_each(value).table_valued("value")
        return sa.select(sa.literal(1)).select_from(each).where(each.c.value == option).exists()

    def to_int(self, value: SqlExpr) -> SqlExpr:
        """Truncate toward zero like Python's ``int()`` (PostgreSQL's cast would round)."""
        if self.pg:
            return sa.cast(sa.func.trunc(sa.cast(value, sa.Numeric())), sa.Integer())
        return sa.cast(value, sa.Integer())

    def floor(self, value: SqlExpr) -> SqlExpr:
        """floor(); on SQLite, SQLAlchemy replaces the built-in floor() with Python's
        ``math.floor``, which fails on NULL, so ``-ceil(-x)`` is used there."""
        return sa.func.floor(value) if self.pg else -sa.func.ceil(-value)

    def to_float(self, value: SqlExpr) -> SqlExpr:
        return sa.cast(value, sa.Float())

    def text_of(self, value: SqlExpr, t: T.Type) -> SqlExpr:
        """TEXT() of any scalar, matching :func:`py_text` character for character."""
        k = t.kind
        if k in T.TEXTUAL or k in (V.NULL, V.ANY):
            return sa.func.coalesce(value, "")
        if k in T.NUMERIC:
            fixed: SqlExpr
            if self.pg:
                fixed = sa.cast(sa.func.round(sa.cast(value, sa.Numeric()), 10), sa.String())
            else:
                fixed = sa.func.printf("%.10f", value)
            trimmed = sa.func.rtrim(sa.func.rtrim(fixed, "0"), ".")
            return sa.case((value.is_(None), ""), (trimmed == "-0", "0"), else_=trimmed)
        if k is V.BOOLEAN:
            return sa.case((value.is_(None), ""), (value, "TRUE"), else_="FALSE")
        if k is V.DATE:
            if self.pg:
                return sa.func.coalesce(sa.func.to_char(value, "YYYY-MM-DD"), "")
            return sa.func.coalesce(sa.func.strftime("%Y-%m-%d", value), "")
        if k is V.DATETIME:
            loc = self.local(value, t)
            if self.pg:
                return sa.func.coalesce(sa.func.to_char(loc, "YYYY-MM-DD HH24:MI:SS"), "")
            return sa.func.coalesce(sa.func.strftime("%Y-%m-%d %H:%M:%S", loc), "")
        return sa.func.coalesce(sa.cast(value, sa.String()), "")


PyImpl = Callable[[PyEnv, list[Any], list[T.Type]], Any]
SqlImpl = Callable[[SqlEnv, list[SqlExpr], list[T.Type]], SqlExpr]
ResultRule = T.Type | Callable[[list[T.Type]], T.Type]


@dataclass(frozen=True)
class Function:
    """One formula function.

    ``params`` uses a tiny notation: ``number``, ``text``, ``textset`` (a text or a multiple
    choice), ``bool``, ``date`` (date or datetime), ``datetime``, ``any``, ``scalar``, ``list``,
    ``records``, ``cond``; a trailing
    ``?`` marks an optional parameter and ``*`` a repeated last one.  ``blank`` says what a
    blank argument does: ``strict`` -- the result is blank; ``text`` -- text arguments count as
    ``""`` and others are strict; ``own`` -- the implementation decides.  ``kind`` is ``plain``,
    ``lazy`` (arguments evaluated on demand: IF, AND ...), ``aggregate`` or ``context``.
    """

    name: str
    category: str
    params: tuple[str, ...]
    result: ResultRule
    description: str
    example: str
    py: PyImpl | None = None
    sql: SqlImpl | None = None
    sql_dialects: frozenset[str] = DIALECTS
    blank: str = "strict"
    kind: str = "plain"
    choices: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # literal-only args
    never_blank: bool = False  # result is never blank (booleans from predicates, counts)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"

    def runs_in_sql(self, dialect: str) -> bool:
        """Whether the SQL back end can compile a call on ``dialect``.  Lazy functions and
        aggregates are compiled by the back end itself, and context functions (TODAY, NOW,
        CURRENT_USER, CURRENT_DEPARTMENT, RECORD_ID) become bound parameters or the record's id
        column on every dialect; the others need an SQL implementation for the dialect."""
        if self.kind in ("lazy", "aggregate", "context"):
            return True
        return self.sql is not None and dialect in self.sql_dialects

    def result_type(self, args: list[T.Type]) -> T.Type:
        return self.result(args) if callable(self.result) else self.result


REGISTRY: dict[str, Function] = {}


def unknown_function(name: str) -> Phrase:
    """“there is no function SUMM; did you mean SUM?”: the registered names closest to
    ``name`` (as written)."""
    close = difflib.get_close_matches(name.upper(), list(REGISTRY), n=3)
    if not close:
        return Phrase(_l("there is no function %(name)s"), name=name)
    return Phrase(
        _l("there is no function %(name)s; did you mean %(names)s?"),
        name=name,
        names=Listing(close),
    )


def register(fn: Function) -> Function:
    if fn.name in REGISTRY:
        raise ValueError(f"function {fn.name} defined twice")
    REGISTRY[fn.name] = fn
    return fn


def same_as(i: int) -> Callable[[list[T.Type]], T.Type]:
    """Result rule: the type of argument ``i`` (blank becomes number)."""

    def rule(args: list[T.Type]) -> T.Type:
        t = args[i] if i < len(args) else T.NULL
        return T.NUMBER if T.is_null(t) else t

    return rule


# --- Python value helpers shared by implementations -----------------------------------------


def to_dec(x: Any) -> Decimal:
    """Decimal of an int, float or Decimal; floats via ``repr`` so 0.1 stays 0.1."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(x)


def as_utc(x: datetime) -> datetime:
    """Aware UTC; naive datetimes (SQLite hands them back) are taken as UTC."""
    return x.replace(tzinfo=UTC) if x.tzinfo is None else x.astimezone(UTC)


def local_date(env: PyEnv, x: date | datetime) -> date:
    if isinstance(x, datetime):
        return as_utc(x).astimezone(env.ctx.tz).date()
    return x


def local_dt(env: PyEnv, x: date | datetime) -> datetime:
    if isinstance(x, datetime):
        return as_utc(x).astimezone(env.ctx.tz)
    return datetime(x.year, x.month, x.day)


def py_text(env: PyEnv, value: Any, t: T.Type) -> str:
    """TEXT(): how every value turns into text (also used by ``&`` and CONCAT)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        fixed = format(to_dec(value).quantize(Decimal("1e-10"), rounding="ROUND_HALF_UP"), "f")
        out = fixed.rstrip("0").rstrip(".") if "." in fixed else fixed
        return "0" if out == "-0" else out
    if isinstance(value, datetime):
        return local_dt(env, value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check_text(s: str) -> str:
    if len(s) > MAX_TEXT:
        raise EvaluationError(
            "text_too_long", _l("a text value grew beyond %(limit)s characters"), limit=MAX_TEXT
        )
    return s


def add_days(d: date | datetime, n: float) -> date | datetime:
    return d + timedelta(days=n)


def sequence_of(values: Sequence[Any]) -> list[Any]:
    return [v for v in values if v is not None]
