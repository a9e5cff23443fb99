"""What a formula may know about the world: passed in, never read from globals.

Both back ends read ``now``, ``today``, the user and the time zone from one :class:`EvalContext`
so a record checked in memory and the same record filtered in SQL see the same clock; tests fix
the clock by building a context.  :class:`RecordLoader` is how the Python back end reaches linked
and child records without knowing where they live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .schema import EntitySpec, FieldSpec


@dataclass(frozen=True)
class EvalContext:
    """``now`` is an aware datetime (converted to UTC); ``today`` is its date in ``time_zone``."""

    now: datetime
    user_id: int | None = None
    department_id: int | None = None
    time_zone: str = "UTC"
    locale: str = "en"
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    today: date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("EvalContext.now must be timezone-aware")
        tz = ZoneInfo(self.time_zone)
        object.__setattr__(self, "now", self.now.astimezone(UTC))
        object.__setattr__(self, "tz", tz)
        object.__setattr__(self, "today", self.now.astimezone(tz).date())

    @property
    def utc_offset_minutes(self) -> int:
        """The zone's offset at ``now``; SQLite has no zone database, so it uses this one."""
        offset = self.now.astimezone(self.tz).utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else 0


class RecordLoader(Protocol):
    """Fetches related records for the Python back end (mappings of field key -> value + ``id``)."""

    def load_one(self, entity: EntitySpec, record_id: Any) -> Mapping[str, Any] | None:
        """The record of ``entity`` with this id, or ``None``."""
        ...

    def load_many(
        self, entity: EntitySpec, remote_column: str, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        """Records of ``entity`` whose column ``remote_column`` equals ``record_id``."""
        ...

    def load_linked(
        self, field: FieldSpec, target: EntitySpec, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        """Records of ``target`` linked to ``record_id`` through ``field``'s junction table."""
        ...


class NoLoader:
    """For formulas that reference only the record's own fields (the checker knows which)."""

    def load_one(self, entity: EntitySpec, record_id: Any) -> Mapping[str, Any] | None:
        raise LookupError("this formula needs a RecordLoader to follow links")

    def load_many(
        self, entity: EntitySpec, remote_column: str, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        raise LookupError("this formula needs a RecordLoader to read related records")

    def load_linked(
        self, field: FieldSpec, target: EntitySpec, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        raise LookupError("this formula needs a RecordLoader to read related records")
