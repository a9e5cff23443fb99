"""Math functions: rounding, MIN/MAX, MOD, POWER, SQRT and integer parts.

See :mod:`.` for the conventions every definition follows.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

import sqlalchemy as sa

from .. import types as T
from ..registry import (
    Function,
    PyEnv,
    SqlEnv,
    SqlExpr,
    register,
    same_as,
    to_dec,
)

DIGITS = tuple(str(i) for i in range(11))


def _exact(t: T.Type) -> bool:
    return t.kind in T.EXACT


def _round(mode: str) -> Any:
    def py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
        x, digits = a[0], int(a[1]) if len(a) > 1 else 0
        d = to_dec(x)
        if isinstance(x, float) and mode != ROUND_HALF_UP:
            # 0.29 * 100 is 28.999999999999996: drop float noise first, as the SQL does.
            d = d.quantize(Decimal(1).scaleb(-(digits + 6)), rounding=ROUND_HALF_UP)
        q = d.quantize(Decimal(1).scaleb(-digits), rounding=mode)
        return q if isinstance(x, Decimal) else float(q)

    return py


def _sql_round(kind: str) -> Any:
    def sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
        digits = a[1] if len(a) > 1 else sa.literal(0, sa.Integer())
        x = a[0]
        if env.pg:
            n = sa.cast(x, sa.Numeric())
            out: SqlExpr
            if kind == "half":
                out = sa.func.round(n, digits)
            elif kind == "down":
                out = sa.func.trunc(n, digits)
            else:
                out = (
                    sa.func.sign(n)
                    * sa.func.ceil(sa.func.abs(n) * sa.func.power(10, digits))
                    / sa.func.power(10, digits)
                )
            return out if _exact(t[0]) else sa.cast(out, sa.Float())
        scale = sa.func.power(10.0, digits)
        if kind == "half":
            return sa.func.round(x, digits)
        # Float noise (0.29 * 100 = 28.999...) is rounded away before truncating, as Python
        # works from the decimal representation of the float.
        scaled = sa.func.round(sa.func.abs(x) * scale, 6)
        part = sa.func.trunc(scaled) if kind == "down" else sa.func.ceil(scaled)
        return sa.func.sign(x) * part / scale

    return sql


def _minmax(pick: Any, pg_name: str) -> tuple[Any, Any]:
    def py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
        vals = [v for v in a if v is not None]
        return pick(vals) if vals else None

    def sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
        if env.pg:
            least_or_greatest: SqlExpr = getattr(sa.func, pg_name)(*a)
            return least_or_greatest
        # SQLite's min()/max() return NULL if any argument is; fill each slot from the others.
        fill = [
            sa.func.coalesce(x, *[y for k, y in enumerate(a) if k != i]) for i, x in enumerate(a)
        ]
        if len(a) == 1:
            return a[0]
        min_or_max: SqlExpr = getattr(sa.func, pick.__name__)(*fill)
        return min_or_max

    return py, sql


def _mod_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    x, y = a
    if y == 0:
        return None
    if isinstance(x, Decimal) or isinstance(y, Decimal):
        dx, dy = to_dec(x), to_dec(y)
        return dx - dy * (dx / dy).to_integral_value(ROUND_FLOOR)
    return x - y * math.floor(x / y)


def _mod_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    x, y = a
    exact = _exact(t[0]) or _exact(t[1])
    if env.pg and exact:
        nx, ny = sa.cast(x, sa.Numeric()), sa.cast(y, sa.Numeric())
        return nx - ny * env.floor(nx / sa.func.nullif(ny, 0))
    return x - y * env.floor(sa.cast(x, sa.Float()) / sa.func.nullif(y, 0))


def _power_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    x, y = float(a[0]), float(a[1])
    if (x < 0 and not y.is_integer()) or (x == 0 and y < 0):
        return None
    try:
        return math.pow(x, y)
    except OverflowError:
        return None


def _power_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    x, y = sa.cast(a[0], sa.Float()), sa.cast(a[1], sa.Float())
    bad = ((x < 0) & (y != env.floor(y))) | ((x == 0) & (y < 0))
    return sa.case((bad, sa.null()), else_=sa.func.power(x, y))


def _int_py(mode: str) -> Any:
    def py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
        return int(to_dec(a[0]).to_integral_value(mode))

    return py


def _sign_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    return (a[0] > 0) - (a[0] < 0)


def _sqrt_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    return None if a[0] < 0 else math.sqrt(a[0])


_ceil_sql = lambda e, a, t: e.to_int(sa.func.ceil(a[0]))  # noqa: E731
_floor_sql = lambda e, a, t: e.to_int(e.floor(a[0]))  # noqa: E731

for _name, _py_mode, _sql_mode, _doc, _example in (
    ("ROUND", ROUND_HALF_UP, "half", "Rounds half away from zero to 0-10 decimals.",
     "ROUND(amount * 0.175, 2)"),
    ("ROUNDUP", ROUND_UP, "up", "Rounds away from zero.", "ROUNDUP(hours, 0)"),
    ("ROUNDDOWN", ROUND_DOWN, "down", "Rounds toward zero.", "ROUNDDOWN(price, 1)"),
):  # fmt: skip
    register(
        Function(
            _name,
            "math",
            ("number", "digits?"),
            same_as(0),
            _doc,
            _example,
            py=_round(_py_mode),
            sql=_sql_round(_sql_mode),
            choices={1: DIGITS},
        )
    )
register(
    Function(
        "ABS",
        "math",
        ("number",),
        same_as(0),
        "The absolute value.",
        "ABS(balance)",
        py=lambda e, a, t: abs(a[0]),
        sql=lambda e, a, t: sa.func.abs(a[0]),
    )
)
_min_py, _min_sql = _minmax(min, "least")
_max_py, _max_sql = _minmax(max, "greatest")
register(
    Function(
        "MIN",
        "math",
        ("number", "number*"),
        lambda a: T.unify(a) or T.NUMBER,
        "The smallest argument; blanks are ignored.",
        "MIN(discount, 0.3)",
        py=_min_py,
        sql=_min_sql,
        blank="own",
    )
)
register(
    Function(
        "MAX",
        "math",
        ("number", "number*"),
        lambda a: T.unify(a) or T.NUMBER,
        "The largest argument; blanks are ignored.",
        "MAX(amount, 0)",
        py=_max_py,
        sql=_max_sql,
        blank="own",
    )
)
register(
    Function(
        "MOD",
        "math",
        ("number", "number"),
        lambda a: T.arithmetic_result(a[0], a[1]),
        "The remainder, with the sign of the divisor (as in Excel); blank when dividing by 0.",
        "MOD(quantity, 12)",
        py=_mod_py,
        sql=_mod_sql,
    )
)
register(
    Function(
        "POWER",
        "math",
        ("number", "number"),
        T.NUMBER,
        "A number raised to a power; blank when undefined.",
        "POWER(1 + rate, years)",
        py=_power_py,
        sql=_power_sql,
    )
)
register(
    Function(
        "SQRT",
        "math",
        ("number",),
        T.NUMBER,
        "The square root; blank for negative numbers.",
        "SQRT(area)",
        py=_sqrt_py,
        sql=lambda e, a, t: sa.case(
            (a[0] < 0, sa.null()), else_=sa.func.sqrt(sa.cast(a[0], sa.Float()))
        ),
    )
)
register(
    Function(
        "CEILING",
        "math",
        ("number",),
        T.NUMBER,
        "The smallest whole number not below the argument.",
        "CEILING(hours)",
        py=_int_py(ROUND_CEILING),
        sql=_ceil_sql,
    )
)
register(
    Function(
        "FLOOR",
        "math",
        ("number",),
        T.NUMBER,
        "The largest whole number not above the argument.",
        "FLOOR(score / 10)",
        py=_int_py(ROUND_FLOOR),
        sql=_floor_sql,
    )
)
register(
    Function(
        "INT",
        "math",
        ("number",),
        T.NUMBER,
        "The whole-number part (toward zero).",
        "INT(amount / 1000)",
        py=_int_py(ROUND_DOWN),
        sql=lambda e, a, t: e.to_int(a[0]),
    )
)
register(
    Function(
        "SIGN",
        "math",
        ("number",),
        T.NUMBER,
        "1, 0 or -1.",
        "SIGN(balance)",
        py=_sign_py,
        sql=lambda e, a, t: sa.cast(sa.func.sign(a[0]), sa.Integer()),
    )
)
