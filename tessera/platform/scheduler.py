"""The scheduler process: one at a time across machines, holding a lease in the database.

Every tick the lease holder claims due timers and sweeps the job table (re-sends lost ids,
takes back jobs of dead workers).  A standby scheduler keeps trying to take the lease, and takes
over within a lease period when the holder dies.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from tessera.platform import jobs, liveness, timers
from tessera.platform.runtime import Platform

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=15)
TICK_SECONDS = 1.0


def tick(platform: Platform) -> dict[str, int] | None:
    """One round of work if this process holds the lease; None if another one does."""
    if not liveness.hold_lease(platform.db.engine, LEASE_NAME, platform.instance_id, LEASE_TTL):
        return None
    liveness.beat(platform.db.engine, platform.instance_id, "scheduler")
    claimed = timers.claim_due(platform)
    swept = jobs.sweep(platform)
    return {"timers": claimed, **swept}


def run(platform: Platform, stopping: threading.Event) -> None:
    """Tick until ``stopping`` is set; database hiccups are logged and retried."""
    log.info("scheduler %s started", platform.instance_id)
    try:
        while not stopping.is_set():
            try:
                tick(platform)
            except Exception:
                log.exception("scheduler tick failed; retrying")
            stopping.wait(TICK_SECONDS)
    finally:
        try:
            liveness.release_lease(platform.db.engine, LEASE_NAME, platform.instance_id)
            liveness.forget(platform.db.engine, platform.instance_id)
        except Exception:
            log.warning("could not release the scheduler lease", exc_info=True)
