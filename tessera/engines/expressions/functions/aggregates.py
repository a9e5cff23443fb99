"""Aggregates over related records (compiled by the back ends, which know how to reach them).

See :mod:`.` for the conventions every definition follows.
"""

from __future__ import annotations

from .. import types as T
from ..registry import (
    Function,
    register,
)
from ..schema import ValueType as V

register(
    Function(
        "SUM",
        "aggregate",
        ("list",),
        lambda a: T.unify([a[0].item or T.NUMBER]) or T.NUMBER,
        "The total of a list; 0 when there is nothing to add.",
        "SUM(line_items.subtotal)",
        kind="aggregate",
        never_blank=True,
    )
)
register(
    Function(
        "AVG",
        "aggregate",
        ("list",),
        lambda a: T.NUMBER if (a[0].item or T.NUMBER).kind is V.NUMBER else a[0].item or T.NUMBER,
        "The average of the non-blank values; blank when there are none.",
        "AVG(line_items.discount)",
        kind="aggregate",
    )
)
register(
    Function(
        "COUNT",
        "aggregate",
        ("records",),
        T.NUMBER,
        "The number of related records, or of non-blank values.",
        "COUNT(contacts) = 0",
        kind="aggregate",
        never_blank=True,
    )
)
register(
    Function(
        "COUNTIF",
        "aggregate",
        ("records", "cond"),
        T.NUMBER,
        "The number of related records for which the condition "
        "(written in their own fields) is true.",
        "COUNTIF(line_items, quantity > 10)",
        kind="aggregate",
        never_blank=True,
    )
)
register(
    Function(
        "MAXOF",
        "aggregate",
        ("list",),
        lambda a: a[0].item or T.NUMBER,
        "The largest value of a list; blank if empty.",
        "MAXOF(activities.done_at)",
        kind="aggregate",
    )
)
register(
    Function(
        "MINOF",
        "aggregate",
        ("list",),
        lambda a: a[0].item or T.NUMBER,
        "The smallest value of a list; blank if empty.",
        "MINOF(line_items.price)",
        kind="aggregate",
    )
)
