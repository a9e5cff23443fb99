"""Answers worked out once per object: a table's INSERT statement, an entity's column writers,
an app version's compiled permission policy.

The objects (tables, entity and app models) are built once per published version and never
changed, but are not cheaply hashable, so a :class:`PerObject` cache is keyed by their
identity.  Python hands a freed object's id to new objects, so the cache keeps each object
beside its answer: while its answer is cached the object lives and its id cannot pass to a new
version's model (a hit also checks it is the very object).  The cache is emptied when it
reaches its limit (a process sees a handful of versions, so this is rare and costs only a
recompute), which lets old versions go.  Reads and writes are single dict operations, safe
across threads; two threads that miss at once both compute and one answer wins (they are
equal).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class PerObject(Generic[V]):
    """``cache.get(owner)`` / ``cache.put(owner, answer)`` / ``cache.made(owner, make)``;
    ``part`` tells apart several answers per owner (an entity key, a set of field keys), and
    ``also`` is a second object the answer depends on (a row reader: an entity and a table)."""

    def __init__(self, limit: int = 1024) -> None:
        self._hits: dict[tuple[int, int, Hashable], tuple[object, object, V]] = {}
        self._limit = limit

    def get(self, owner: object, part: Hashable = None, also: object = None) -> V | None:
        hit = self._hits.get((id(owner), id(also), part))
        if hit is not None and hit[0] is owner and hit[1] is also:
            return hit[2]
        return None

    def put(self, owner: object, answer: V, part: Hashable = None, also: object = None) -> V:
        if len(self._hits) >= self._limit:
            self._hits.clear()
        self._hits[(id(owner), id(also), part)] = (owner, also, answer)
        return answer

    def made(
        self, owner: object, make: Callable[[], V], part: Hashable = None, also: object = None
    ) -> V:
        """The answer for ``owner``, made by ``make()`` the first time."""
        hit = self._hits.get((id(owner), id(also), part))
        if hit is not None and hit[0] is owner and hit[1] is also:
            return hit[2]
        return self.put(owner, make(), part, also)

    def __len__(self) -> int:
        return len(self._hits)
