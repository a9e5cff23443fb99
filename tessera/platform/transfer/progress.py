"""Import progress through Redis, readable while the import's transaction is still open.

An all-or-nothing import on SQLite keeps one transaction, and with it SQLite's one write lock,
from its first row to its last: the job's progress row cannot be committed meanwhile.  So every
import also publishes its progress to Redis after each batch (a hash per import that expires
after a day), and the status endpoint reads Redis first.  The ``imports`` row stays the truth:
once the import is done, or when Redis has nothing (it was down, or the key expired), the
status comes from the database.  Publishing never stops an import: after the first Redis error
this run stops trying.
"""

from __future__ import annotations

from typing import Any

import redis

from tessera.platform.runtime import Platform

TTL_SECONDS = 24 * 3600


def key(import_id: int) -> str:
    return f"tessera:import:{import_id}:progress"


class Publisher:
    """Progress of one run of one import, to Redis."""

    def __init__(self, platform: Platform, import_id: int) -> None:
        self.platform = platform
        self.key = key(import_id)
        self.working = True

    def publish(self, done: int, total: int | None) -> None:
        if not self.working:
            return
        try:
            pipe = self.platform.redis.pipeline(transaction=False)
            pipe.hset(self.key, mapping={"done": done, "total": -1 if total is None else total})
            pipe.expire(self.key, TTL_SECONDS)
            pipe.execute()
        except (redis.RedisError, OSError):
            self.working = False  # the database row still tells the end of the story

    def clear(self) -> None:
        """Forget the figures (the run is over; the database row has the final ones)."""
        if self.working:
            try:
                self.platform.redis.delete(self.key)
            except (redis.RedisError, OSError):
                self.working = False


def read(platform: Platform, import_id: int) -> tuple[int, int | None] | None:
    """``(done, total)`` as last published, or None (nothing there, or Redis unreachable)."""
    try:
        found: dict[Any, Any] = platform.redis.hgetall(key(import_id))
    except (redis.RedisError, OSError):
        return None
    if not found:
        return None
    values = {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in found.items()}
    total = values.get("total", -1)
    return values.get("done", 0), None if total < 0 else total
