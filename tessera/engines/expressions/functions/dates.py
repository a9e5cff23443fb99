"""Date functions: TODAY/NOW, DATE, date parts, DATEADD, DATEDIFF, EOMONTH, working days.

See :mod:`.` for the conventions every definition follows.
"""

from __future__ import annotations

import math
from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .. import types as T
from ..registry import (
    Function,
    PyEnv,
    SqlEnv,
    SqlExpr,
    as_utc,
    local_date,
    local_dt,
    register,
    same_as,
)
from ..schema import ValueType as V

DATE_UNITS = ("day", "week", "month", "year", "hour", "minute", "second")


def _part(fmt_sqlite: str, pg_field: str, pyf: Any) -> tuple[Any, Any]:
    def py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
        return pyf(local_dt(env, a[0]))

    def sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
        loc = env.local(a[0], t[0])
        if env.pg:
            return sa.cast(sa.func.extract(pg_field, loc), sa.Integer())
        if t[0].kind is V.DATETIME:
            return sa.cast(sa.func.strftime(fmt_sqlite, loc), sa.Integer())
        return sa.cast(sa.func.strftime(fmt_sqlite, loc), sa.Integer())

    return py, sql


def _weeknum(d: datetime) -> int:
    jan1 = date(d.year, 1, 1)
    return (d.timetuple().tm_yday - 1 + jan1.isoweekday() % 7) // 7 + 1


def _weeknum_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    d = env.local_date(a[0], t[0])
    if env.pg:
        doy = sa.cast(sa.func.extract("doy", d), sa.Integer())
        dow = sa.cast(sa.func.extract("dow", sa.func.date_trunc("year", d)), sa.Integer())
    else:
        doy = sa.cast(sa.func.strftime("%j", d), sa.Integer())
        dow = sa.cast(sa.func.strftime("%w", d, "start of year"), sa.Integer())
    return (doy - 1 + dow) // 7 + 1


def _date_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    y, m, d = (int(v) for v in a)
    q, r = divmod(m - 1, 12)
    try:
        return date(y + q, r + 1, 1) + timedelta(days=d - 1)
    except (ValueError, OverflowError):
        return None


def _date_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    y, m, d = (env.to_int(x) for x in a)
    q = env.to_int(env.floor(sa.cast(m - 1, sa.Float()) / 12))
    month = m - 1 - q * 12 + 1
    if env.pg:
        return sa.func.make_date(y + q, month, 1) + (d - 1)
    first = sa.func.printf("%04d-%02d-01", y + q, month)
    return sa.func.date(first, sa.func.printf("%+d days", d - 1))


def _add_months(d: date, n: int) -> date:
    q, r = divmod(d.month - 1 + n, 12)
    y, m = d.year + q, r + 1
    return date(y, m, min(d.day, monthrange(y, m)[1]))


_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _dateadd_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    d, n, unit = a[0], int(a[1]), a[2]
    try:
        if unit in ("month", "year"):
            return _add_months(d, n * (12 if unit == "year" else 1))
        if isinstance(d, datetime):
            return as_utc(d) + timedelta(seconds=n * _SECONDS[unit])
        return d + timedelta(days=n * (7 if unit == "week" else 1))
    except (ValueError, OverflowError):
        return None


def _dateadd_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    d, n = a[0], env.to_int(a[1])
    unit = t[2].options[0] if t[2].options else "day"
    months = n * 12 if unit == "year" else n
    if env.pg:
        if unit in ("month", "year"):
            return sa.cast(d + sa.func.make_interval(0, months), sa.Date())
        if t[0].kind is V.DATE:
            return d + n * (7 if unit == "week" else 1)
        return d + sa.func.make_interval(0, 0, 0, 0, 0, 0, n * _SECONDS[unit])
    if unit in ("month", "year"):
        first = sa.func.date(d, "start of month", sa.func.printf("%+d months", months))
        last = sa.func.date(first, "+1 month", "-1 day")
        day = sa.func.min(
            sa.cast(sa.func.strftime("%d", d), sa.Integer()),
            sa.cast(sa.func.strftime("%d", last), sa.Integer()),
        )
        return sa.func.date(first, sa.func.printf("%+d days", day - 1))
    if t[0].kind is V.DATE:
        return sa.func.date(d, sa.func.printf("%+d days", n * (7 if unit == "week" else 1)))
    return sa.func.strftime(
        "%Y-%m-%d %H:%M:%f", d, sa.func.printf("%+d seconds", n * _SECONDS[unit])
    )


def _datediff_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    x, y, unit = a[0], a[1], a[2] if len(a) > 2 else "day"
    if unit in ("day", "week"):
        days = (local_date(env, x) - local_date(env, y)).days
        return days if unit == "day" else int(days / 7)
    if unit in ("month", "year"):
        dx, dy = local_date(env, x), local_date(env, y)
        months = (dx.year * 12 + dx.month) - (dy.year * 12 + dy.month)
        return months if unit == "month" else dx.year - dy.year
    secs = math.floor(_epoch(env, x)) - math.floor(_epoch(env, y))
    return int(secs / _SECONDS[unit])


def _epoch(env: PyEnv, x: date | datetime) -> float:
    """Seconds since 1970 of a datetime; a date counts as midnight UTC (as SQL does)."""
    if isinstance(x, datetime):
        return as_utc(x).timestamp()
    return (x - date(1970, 1, 1)).days * 86400.0


def _datediff_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    unit = t[2].options[0] if len(t) > 2 and t[2].options else "day"
    x, y = a[0], a[1]
    if unit in ("day", "week", "month", "year"):
        dx, dy = env.local_date(x, t[0]), env.local_date(y, t[1])
        if unit in ("day", "week"):
            days = (
                (dx - dy) if env.pg else env.to_int(sa.func.julianday(dx) - sa.func.julianday(dy))
            )
            return days if unit == "day" else env.to_int(sa.cast(days, sa.Float()) / 7)
        yx: SqlExpr
        yy: SqlExpr
        mx: SqlExpr
        my: SqlExpr
        if env.pg:
            yx, yy = sa.func.extract("year", dx), sa.func.extract("year", dy)
            mx, my = sa.func.extract("month", dx), sa.func.extract("month", dy)
        else:
            yx, yy = (
                sa.cast(sa.func.strftime("%Y", dx), sa.Integer()),
                sa.cast(sa.func.strftime("%Y", dy), sa.Integer()),
            )
            mx, my = (
                sa.cast(sa.func.strftime("%m", dx), sa.Integer()),
                sa.cast(sa.func.strftime("%m", dy), sa.Integer()),
            )
        if unit == "year":
            return sa.cast(yx - yy, sa.Integer())
        return sa.cast((yx * 12 + mx) - (yy * 12 + my), sa.Integer())

    def epoch(v: SqlExpr, tv: T.Type) -> SqlExpr:
        if env.pg:
            return env.floor(sa.func.extract("epoch", v))
        return sa.cast(sa.func.strftime("%s", v), sa.Integer())

    secs = epoch(x, t[0]) - epoch(y, t[1])
    return env.to_int(sa.cast(secs, sa.Float()) / _SECONDS[unit])


def _eomonth_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    d = local_date(env, a[0])
    first = _add_months(date(d.year, d.month, 1), int(a[1]))
    return date(first.year, first.month, monthrange(first.year, first.month)[1])


def _eomonth_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    d, n = env.local_date(a[0], t[0]), env.to_int(a[1])
    if env.pg:
        return sa.cast(
            sa.func.date_trunc("month", d)
            + sa.func.make_interval(0, n + 1)
            - sa.text("interval '1 day'"),
            sa.Date(),
        )
    return sa.func.date(d, "start of month", sa.func.printf("%+d months", n + 1), "-1 day")


def _networkdays_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    s, e = local_date(env, a[0]), local_date(env, a[1])
    sign = 1
    if s > e:
        s, e, sign = e, s, -1
    days = (e - s).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5 + sum(1 for i in range(rest) if (s.weekday() + i) % 7 < 5)
    return sign * count


def _workday_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    d, n = local_date(env, a[0]), int(a[1])
    step = 1 if n >= 0 else -1
    weeks, rest = divmod(abs(n), 5)
    d += timedelta(days=7 * weeks * step)
    while rest:
        d += timedelta(days=step)
        if d.weekday() < 5:
            rest -= 1
    return d


_weekday = _part("%w", "dow", lambda d: d.isoweekday() % 7)

register(
    Function(
        "TODAY",
        "date",
        (),
        T.DATE,
        "Today's date in the user's time zone.",
        "DATEDIFF(TODAY(), last_contact_at) > 90",
        py=lambda e, a, t: e.ctx.today,
        sql=lambda e, a, t: sa.literal(e.ctx.today, sa.Date()),
        kind="context",
        never_blank=True,
    )
)
register(
    Function(
        "NOW",
        "date",
        (),
        T.DATETIME,
        "The current date and time.",
        "due_at < NOW()",
        py=lambda e, a, t: e.ctx.now,
        sql=lambda e, a, t: sa.literal(e.ctx.now, sa.DateTime(timezone=True)),
        kind="context",
        never_blank=True,
    )
)
register(
    Function(
        "DATE",
        "date",
        ("number", "number", "number"),
        T.DATE,
        "A date from year, month and day; months and days beyond their range roll over.",
        "DATE(2025, 12, 31)",
        py=_date_py,
        sql=_date_sql,
    )
)
for _name, _arg, _sqlite_format, _pg_field, _pick, _doc, _example in (
    ("YEAR", "date", "%Y", "year", lambda d: d.year, "The year (in the user's time zone).",
     "YEAR(close_date) = 2025"),
    ("MONTH", "date", "%m", "month", lambda d: d.month, "The month, 1-12.", "MONTH(created_at)"),
    ("DAY", "date", "%d", "day", lambda d: d.day, "The day of the month, 1-31.", "DAY(birthday)"),
    ("HOUR", "datetime", "%H", "hour", lambda d: d.hour,
     "The hour, 0-23, in the user's time zone.", "HOUR(created_at) >= 18"),
    ("MINUTE", "datetime", "%M", "minute", lambda d: d.minute, "The minute, 0-59.",
     "MINUTE(start_at)"),
):  # fmt: skip
    _py, _sql = _part(_sqlite_format, _pg_field, _pick)
    register(Function(_name, "date", (_arg,), T.NUMBER, _doc, _example, py=_py, sql=_sql))
register(
    Function(
        "WEEKDAY",
        "date",
        ("date",),
        T.NUMBER,
        "Day of the week, 1 = Sunday ... 7 = Saturday.",
        "WEEKDAY(due_date) IN (1, 7)",
        py=lambda e, a, t: _weekday[0](e, a, t) + 1,
        sql=lambda e, a, t: _weekday[1](e, a, t) + 1,
    )
)
register(
    Function(
        "WEEKNUM",
        "date",
        ("date",),
        T.NUMBER,
        "Week of the year; the week with 1 January is week 1, weeks start on Sunday.",
        "WEEKNUM(created_at)",
        py=lambda e, a, t: _weeknum(local_dt(e, a[0])),
        sql=_weeknum_sql,
    )
)
register(
    Function(
        "DATEADD",
        "date",
        ("date", "number", "unit"),
        same_as(0),
        'Adds a number of units ("day", "week", "month", "year", "hour", "minute", "second"); '
        "month ends are kept within the month.",
        'DATEADD(close_date, 30, "day")',
        py=_dateadd_py,
        sql=_dateadd_sql,
        choices={2: DATE_UNITS},
    )
)
register(
    Function(
        "DATEDIFF",
        "date",
        ("date", "date", "unit?"),
        T.NUMBER,
        "First date minus second, in whole units "
        "(calendar days by default; see the null and time rules).",
        'DATEDIFF(TODAY(), last_contact_at, "day") > 90',
        py=_datediff_py,
        sql=_datediff_sql,
        choices={2: DATE_UNITS},
    )
)
register(
    Function(
        "EOMONTH",
        "date",
        ("date", "number"),
        T.DATE,
        "The last day of the month n months away.",
        "EOMONTH(TODAY(), 0)",
        py=_eomonth_py,
        sql=_eomonth_sql,
    )
)
register(
    Function(
        "WORKDAY",
        "date",
        ("date", "number"),
        T.DATE,
        "The date n working days (Monday-Friday) away.",
        "WORKDAY(created_at, 3)",
        py=_workday_py,
        sql=None,
        sql_dialects=frozenset(),
    )
)
register(
    Function(
        "NETWORKDAYS",
        "date",
        ("date", "date"),
        T.NUMBER,
        "Working days (Monday-Friday) between two dates, both included.",
        "NETWORKDAYS(start_date, end_date)",
        py=_networkdays_py,
        sql=None,
        sql_dialects=frozenset(),
    )
)
