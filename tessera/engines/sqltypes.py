"""Column types shared by the platform's tables and the tables built from app definitions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A point in time, stored in UTC and always handed back timezone-aware.

    PostgreSQL's ``timestamptz`` does this itself; SQLite has no time zones and returns naive
    values, which Python refuses to compare with aware ones.  Naive input is taken to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


#: JSON that PostgreSQL stores as jsonb (indexable, compact) and SQLite as JSON text.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: An integer primary key that is a rowid alias on SQLite and a bigint on PostgreSQL.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
