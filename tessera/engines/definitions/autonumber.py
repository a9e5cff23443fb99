"""Auto numbers: patterns such as ``QT-{YYYY}-{0000}`` and their counters.

A pattern has date tokens (``{YYYY}``, ``{YY}``, ``{MM}``, ``{DD}``) and exactly one counter
token, ``{0000}`` (as many zeros as the minimum width).  The counter restarts in every period the
date tokens name: ``QT-{YYYY}-{0000}`` counts per year, ``{YYYY}{MM}-{000}`` per month, a pattern
without date tokens forever.  Counters are rows ``(field, period, value)`` in the app's counter
table, incremented by one atomic upsert, so concurrent writers never get the same number; a
rolled-back transaction may leave a gap, which is allowed.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.engines.messages import _l

TOKEN_RE = re.compile(r"\{(YYYY|YY|MM|DD|0+)\}")
_DATE_TOKENS = ("YYYY", "YY", "MM", "DD")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is unusable, or None."""
    leftovers = TOKEN_RE.sub("", pattern)
    if "{" in leftovers or "}" in leftovers:
        return _l("the pattern has an unknown {…} token; use {YYYY}, {YY}, {MM}, {DD} and {0000}")
    counters = [t for t in TOKEN_RE.findall(pattern) if t.startswith("0")]
    if len(counters) != 1:
        return _l("the pattern needs exactly one counter such as {0000}")
    return None


def period_key(pattern: str, day: dt.date) -> str:
    """The counter period of ``day`` for ``pattern``: ``"2024"``, ``"2024-03"``, or ``""``."""
    tokens = set(TOKEN_RE.findall(pattern))
    parts = []
    if tokens & {"YYYY", "YY"}:
        parts.append(f"{day.year:04d}")
    if "MM" in tokens:
        parts.append(f"{day.month:02d}")
    if "DD" in tokens:
        parts.append(f"{day.day:02d}")
    return "-".join(parts)


def format_number(pattern: str, number: int, day: dt.date) -> str:
    """``format_number("QT-{YYYY}-{0000}", 7, date(2024, 3, 5)) == "QT-2024-0007"``."""
    values = {
        "YYYY": f"{day.year:04d}",
        "YY": f"{day.year % 100:02d}",
        "MM": f"{day.month:02d}",
        "DD": f"{day.day:02d}",
    }

    def render(match: re.Match[str]) -> str:
        token = match.group(1)
        return values[token] if token in _DATE_TOKENS else str(number).zfill(len(token))

    return TOKEN_RE.sub(render, pattern)


def counter_table(metadata: sa.MetaData, name: str) -> sa.Table:
    """The counter table of one app (added to its metadata by ``tables.build_metadata``)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("entity", sa.String(20), primary_key=True),
        sa.Column("field", sa.String(20), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )


def next_number(
    conn: sa.Connection, counters: sa.Table, entity: str, field: str, pattern: str, day: dt.date
) -> str:
    """Draw the next number for ``entity.field`` in the caller's transaction and format it.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: on PostgreSQL the row lock serialises
    concurrent writers; on SQLite the platform's ``BEGIN IMMEDIATE`` already has.
    """
    period = period_key(pattern, day)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    upsert = insert(counters).values(entity=entity, field=field, period=period, value=1)
    statement = upsert.on_conflict_do_update(
        index_elements=["entity", "field", "period"], set_={"value": counters.c.value + 1}
    ).returning(counters.c.value)
    value = conn.execute(statement).scalar_one()
    return format_number(pattern, int(value), day)
