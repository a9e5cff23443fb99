"""One scheduler at a time across processes; heartbeats drive /healthz."""

from datetime import timedelta

from tessera.platform import liveness
from tessera.platform.models import utcnow
from tessera.platform.runtime import Platform


def test_only_one_holder_until_the_lease_expires(platform: Platform) -> None:
    engine, ttl, now = platform.db.engine, timedelta(seconds=15), utcnow()
    assert liveness.hold_lease(engine, "scheduler", "a", ttl, now=now)
    assert not liveness.hold_lease(engine, "scheduler", "b", ttl, now=now + timedelta(seconds=5))
    assert liveness.hold_lease(engine, "scheduler", "a", ttl, now=now + timedelta(seconds=10))
    # a stops renewing (crashed): b takes over once a's renewed lease has run out
    assert not liveness.hold_lease(engine, "scheduler", "b", ttl, now=now + timedelta(seconds=20))
    assert liveness.hold_lease(engine, "scheduler", "b", ttl, now=now + timedelta(seconds=26))
    assert not liveness.hold_lease(engine, "scheduler", "a", ttl, now=now + timedelta(seconds=27))


def test_newest_heartbeat_per_kind(platform: Platform) -> None:
    engine, now = platform.db.engine, utcnow()
    assert liveness.newest(engine, "worker") is None
    liveness.beat(engine, "w1", "worker", now=now - timedelta(seconds=40))
    liveness.beat(engine, "w2", "worker", now=now)
    liveness.beat(engine, "w1", "worker", now=now - timedelta(seconds=20))
    newest = liveness.newest(engine, "worker")
    assert newest is not None and abs((newest - now).total_seconds()) < 0.001
    liveness.forget(engine, "w2")
    newest = liveness.newest(engine, "worker")
    assert newest is not None and round((now - newest).total_seconds()) == 20
