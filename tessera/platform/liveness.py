"""Heartbeats and leases: how processes on many machines see each other through the database.

Each web, worker and scheduler process upserts a heartbeat row every few seconds; /healthz reads
the newest one per kind.  A lease is a named lock with an owner and an expiry, taken and renewed
with conditional statements, so exactly one scheduler runs at a time across machines and a
crashed holder is replaced once its lease runs out.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa

from tessera.platform.models import Heartbeat, Lease, utcnow

#: A process whose newest heartbeat is older than this is reported as down.
STALE_AFTER = timedelta(seconds=30)
BEAT_EVERY = 5.0


def beat(engine: sa.Engine, instance: str, kind: str, now: datetime | None = None) -> None:
    """Record that ``instance`` (a ``kind`` of process) is alive."""
    now = now or utcnow()
    with engine.begin() as conn:
        updated = conn.execute(
            sa.update(Heartbeat)
            .where(Heartbeat.instance == instance)
            .values(seen_at=now, kind=kind)
        ).rowcount
        if not updated:
            conn.execute(
                sa.insert(Heartbeat).values(
                    instance=instance,
                    kind=kind,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    seen_at=now,
                )
            )


def forget(engine: sa.Engine, instance: str) -> None:
    """Remove a process's heartbeat when it stops cleanly."""
    with engine.begin() as conn:
        conn.execute(sa.delete(Heartbeat).where(Heartbeat.instance == instance))


def newest(engine: sa.Engine, kind: str) -> datetime | None:
    with engine.connect() as conn:
        seen: datetime | None = conn.scalar(
            sa.select(sa.func.max(Heartbeat.seen_at)).where(Heartbeat.kind == kind)
        )
    return seen


class HeartbeatThread(threading.Thread):
    """Beats in the background until stopped; used by workers, whose main loop blocks in Redis."""

    def __init__(self, engine: sa.Engine, instance: str, kind: str) -> None:
        super().__init__(name=f"heartbeat-{kind}", daemon=True)
        self.engine, self.instance, self.kind = engine, instance, kind
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            # When the database is down /healthz says so; keep trying.
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                beat(self.engine, self.instance, self.kind)
            self.stopping.wait(BEAT_EVERY)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=BEAT_EVERY + 1)


def hold_lease(
    engine: sa.Engine, name: str, owner: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take or renew the lease ``name`` for ``owner``; True if ``owner`` holds it now."""
    now = now or utcnow()
    expires = now + ttl
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(Lease)
            .where(Lease.name == name, sa.or_(Lease.owner == owner, Lease.expires_at < now))
            .values(owner=owner, expires_at=expires)
        ).rowcount
        if taken:
            return True
        exists = conn.scalar(sa.select(sa.func.count()).where(Lease.name == name))
        if exists:
            return False
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(Lease).values(name=name, owner=owner, expires_at=expires))
        return True
    except sa.exc.IntegrityError:
        return False  # another process inserted it first


def release_lease(engine: sa.Engine, name: str, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(Lease).where(Lease.name == name, Lease.owner == owner))
