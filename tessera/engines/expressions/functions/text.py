"""Text functions: CONCAT, LEFT/RIGHT/MID, LEN, case, search, TEXT, VALUE, REGEXMATCH.

See :mod:`.` for the conventions every definition follows.
"""

from __future__ import annotations

from typing import Any

import regex
import sqlalchemy as sa

from .. import types as T
from ..registry import (
    Function,
    PyEnv,
    SqlEnv,
    SqlExpr,
    check_text,
    py_text,
    register,
)
from ..schema import ValueType as V

REGEX_TIMEOUT_S = 0.05
MAX_PATTERN = 500


def _n(v: Any) -> int:
    return int(v)


def _concat_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    out: SqlExpr = sa.literal("", sa.String())
    for x, tx in zip(a, t, strict=True):
        out = out.op("||")(env.text_of(x, tx))
    return sa.type_coerce(out, sa.String())


def _right_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    n = env.to_int(a[1])
    tail = sa.func.right(a[0], n) if env.pg else sa.func.substr(a[0], -n)
    return sa.case((n <= 0, ""), else_=tail)


def _max0(env: SqlEnv, x: SqlExpr) -> SqlExpr:
    return sa.func.greatest(x, 0) if env.pg else sa.func.max(x, 0)


def _startswith_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    s, p = a
    return sa.func.coalesce(sa.func.substr(s, 1, sa.func.length(p)) == p, sa.false())


def _endswith_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    s, p = a
    tail = sa.func.substr(s, sa.func.length(s) - sa.func.length(p) + 1)
    return sa.case((sa.func.length(p) > sa.func.length(s), sa.false()), else_=tail == p)


def _find_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    return sa.func.strpos(a[1], a[0]) if env.pg else sa.func.instr(a[1], a[0])


def _contains_sql(env: SqlEnv, a: list[SqlExpr], t: list[T.Type]) -> SqlExpr:
    if t[0].kind is V.MULTISELECT:
        return env.has_option(a[0], a[1])
    return _find_sql(env, [a[1], a[0]], t) > 0


def _value_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> Any:
    s = a[0].strip()
    return float(s) if regex.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", s) else None


def _regex_py(env: PyEnv, a: list[Any], t: list[T.Type]) -> bool:
    text, pattern = a
    if len(pattern) > MAX_PATTERN:
        return False
    try:
        return regex.search(pattern, text, timeout=REGEX_TIMEOUT_S) is not None
    except (regex.error, TimeoutError):
        return False


register(
    Function(
        "CONCAT",
        "text",
        ("scalar", "scalar*"),
        T.TEXT,
        "Joins values as text; blanks count as empty text.",
        'CONCAT(first_name, " ", last_name)',
        py=lambda e, a, t: check_text("".join(py_text(e, v, x) for v, x in zip(a, t, strict=True))),
        sql=_concat_sql,
        blank="own",
        never_blank=True,
    )
)
register(
    Function(
        "LEFT",
        "text",
        ("text", "number"),
        T.TEXT,
        "The first n characters.",
        "LEFT(postcode, 2)",
        py=lambda e, a, t: a[0][: max(_n(a[1]), 0)],
        sql=lambda e, a, t: sa.func.substr(a[0], 1, _max0(e, e.to_int(a[1]))),
        blank="text",
    )
)
register(
    Function(
        "RIGHT",
        "text",
        ("text", "number"),
        T.TEXT,
        "The last n characters.",
        "RIGHT(phone, 4)",
        py=lambda e, a, t: a[0][-_n(a[1]) :] if _n(a[1]) > 0 else "",
        sql=_right_sql,
        blank="text",
    )
)
register(
    Function(
        "MID",
        "text",
        ("text", "number", "number"),
        T.TEXT,
        "n characters from a 1-based position.",
        "MID(code, 3, 2)",
        py=lambda e, a, t: a[0][max(_n(a[1]), 1) - 1 : max(_n(a[1]), 1) - 1 + max(_n(a[2]), 0)],
        sql=lambda e, a, t: sa.func.substr(
            a[0], _max0(e, e.to_int(a[1]) - 1) + 1, _max0(e, e.to_int(a[2]))
        ),
        blank="text",
    )
)
register(
    Function(
        "LEN",
        "text",
        ("text",),
        T.NUMBER,
        "The number of characters.",
        "LEN(description) > 200",
        py=lambda e, a, t: len(a[0]),
        sql=lambda e, a, t: sa.func.length(a[0]),
        blank="text",
        never_blank=True,
    )
)
register(
    Function(
        "UPPER",
        "text",
        ("text",),
        T.TEXT,
        "Upper case (SQLite changes only ASCII letters).",
        "UPPER(country)",
        py=lambda e, a, t: a[0].upper(),
        sql=lambda e, a, t: sa.func.upper(a[0]),
        blank="text",
    )
)
register(
    Function(
        "LOWER",
        "text",
        ("text",),
        T.TEXT,
        "Lower case (SQLite changes only ASCII letters).",
        "LOWER(email)",
        py=lambda e, a, t: a[0].lower(),
        sql=lambda e, a, t: sa.func.lower(a[0]),
        blank="text",
    )
)
register(
    Function(
        "TRIM",
        "text",
        ("text",),
        T.TEXT,
        "Removes spaces at both ends.",
        "TRIM(name)",
        py=lambda e, a, t: a[0].strip(" "),
        sql=lambda e, a, t: sa.func.trim(a[0]),
        blank="text",
    )
)
register(
    Function(
        "SUBSTITUTE",
        "text",
        ("text", "text", "text"),
        T.TEXT,
        "Replaces every occurrence of a text.",
        'SUBSTITUTE(phone, "-", "")',
        py=lambda e, a, t: check_text(a[0].replace(a[1], a[2])) if a[1] else a[0],
        sql=lambda e, a, t: sa.func.replace(a[0], a[1], a[2]),
        blank="text",
    )
)
register(
    Function(
        "FIND",
        "text",
        ("text", "text"),
        T.NUMBER,
        "1-based position of the first text in the second; 0 if absent.",
        'FIND("@", email)',
        py=lambda e, a, t: a[1].find(a[0]) + 1,
        sql=_find_sql,
        blank="text",
        never_blank=True,
    )
)
register(
    Function(
        "CONTAINS",
        "text",
        ("textset", "text"),
        T.BOOLEAN,
        "True when the first text contains the second, or the multiple choice has the option.",
        'CONTAINS(name, "Ltd"), CONTAINS(tags, "vip")',
        py=lambda e, a, t: a[1] in a[0],  # a substring of a text, an element of a list
        sql=_contains_sql,
        blank="text",
        never_blank=True,
    )
)
register(
    Function(
        "STARTSWITH",
        "text",
        ("text", "text"),
        T.BOOLEAN,
        "True when the text starts with the prefix.",
        'STARTSWITH(code, "CN-")',
        py=lambda e, a, t: a[0].startswith(a[1]),
        sql=_startswith_sql,
        blank="text",
        never_blank=True,
    )
)
register(
    Function(
        "ENDSWITH",
        "text",
        ("text", "text"),
        T.BOOLEAN,
        "True when the text ends with the suffix.",
        'ENDSWITH(email, ".cn")',
        py=lambda e, a, t: a[0].endswith(a[1]),
        sql=_endswith_sql,
        blank="text",
        never_blank=True,
    )
)
register(
    Function(
        "TEXT",
        "text",
        ("scalar",),
        T.TEXT,
        "Any value as text: numbers without trailing zeros, dates as YYYY-MM-DD.",
        'TEXT(amount) & " CNY"',
        py=lambda e, a, t: py_text(e, a[0], t[0]),
        sql=lambda e, a, t: e.text_of(a[0], t[0]),
        blank="own",
        never_blank=True,
    )
)
register(
    Function(
        "VALUE",
        "text",
        ("text",),
        T.NUMBER,
        "A number written as text (digits, sign, decimal point); blank otherwise.",
        "VALUE(LEFT(code, 3))",
        py=_value_py,
        blank="text",
        sql_dialects=frozenset({"postgresql"}),
        sql=lambda e, a, t: sa.case(
            (
                sa.func.trim(a[0]).op("~")(r"^[-+]?[0-9]+(\.[0-9]+)?$"),
                sa.cast(sa.func.trim(a[0]), sa.Float()),
            ),
            else_=sa.null(),
        ),
    )
)
register(
    Function(
        "REGEXMATCH",
        "text",
        ("text", "text"),
        T.BOOLEAN,
        "True when the regular expression matches part of the text (time-limited).",
        'REGEXMATCH(phone, "^1[3-9][0-9]{9}$")',
        py=_regex_py,
        sql=lambda e, a, t: sa.func.coalesce(a[0].op("~")(a[1]), sa.false()),
        sql_dialects=frozenset({"postgresql"}),
        blank="text",
        never_blank=True,
    )
)
