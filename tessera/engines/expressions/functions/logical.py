"""Logical functions: IF, IFS, SWITCH, AND, OR, NOT, COALESCE, ISBLANK, BLANK.

See :mod:`.` for the conventions every definition follows.
"""

from __future__ import annotations

import sqlalchemy as sa

from .. import types as T
from ..registry import (
    Function,
    register,
)

register(
    Function(
        "IF",
        "logical",
        ("cond", "any", "any?"),
        lambda a: T.unify(a[1:]) or T.ANY,
        "The second argument when the condition is true, else the third (blank if omitted).",
        'IF(amount > 100000, "VP", "Manager")',
        kind="lazy",
        blank="own",
    )
)
register(
    Function(
        "IFS",
        "logical",
        ("cond", "any", "any*"),
        lambda a: T.unify(a[1::2]) or T.ANY,
        "The value after the first true condition; blank if none is true.",
        'IFS(score >= 90, "A", score >= 80, "B", TRUE, "C")',
        kind="lazy",
        blank="own",
    )
)
register(
    Function(
        "SWITCH",
        "logical",
        ("scalar", "any", "any*"),
        lambda a: T.unify([*a[2::2], *([a[-1]] if len(a) % 2 == 0 else [])]) or T.ANY,
        "Compares the first argument with each case; "
        "the value of the first match, else the default.",
        'SWITCH(stage, "won", 1, "lost", 0, 0.5)',
        kind="lazy",
        blank="own",
    )
)
register(
    Function(
        "AND",
        "logical",
        ("cond", "cond*"),
        T.BOOLEAN,
        "True when every argument is true.",
        "AND(amount > 100000, discount > 0.2)",
        kind="lazy",
        blank="own",
        never_blank=True,
    )
)
register(
    Function(
        "OR",
        "logical",
        ("cond", "cond*"),
        T.BOOLEAN,
        "True when any argument is true.",
        'OR(stage = "won", stage = "lost")',
        kind="lazy",
        blank="own",
        never_blank=True,
    )
)
register(
    Function(
        "NOT",
        "logical",
        ("cond",),
        T.BOOLEAN,
        "True when the argument is false or blank.",
        "NOT(is_closed)",
        kind="lazy",
        blank="own",
        never_blank=True,
    )
)
register(
    Function(
        "COALESCE",
        "logical",
        ("any", "any*"),
        lambda a: T.unify(a) or T.ANY,
        "The first argument that is not blank.",
        "COALESCE(nickname, name)",
        kind="lazy",
        blank="own",
    )
)
register(
    Function(
        "ISBLANK",
        "logical",
        ("any",),
        T.BOOLEAN,
        'True for blank values, empty text ("") and a multiple choice with nothing chosen.',
        "ISBLANK(closed_at)",
        blank="own",
        never_blank=True,
        py=lambda e, a, t: a[0] is None or a[0] == "" or a[0] == [],
        sql=lambda e, a, t: e.is_blank(a[0], t[0]),
    )
)
register(
    Function(
        "BLANK",
        "logical",
        (),
        T.NULL,
        "The blank value.",
        "IF(amount > 0, amount, BLANK())",
        py=lambda e, a, t: None,
        sql=lambda e, a, t: sa.null(),
    )
)
