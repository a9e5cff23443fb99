"""/healthz answers 200 only when the database, Redis, a worker and the scheduler are alive."""

from datetime import timedelta

from flask.testing import FlaskClient

from tessera.platform import liveness
from tessera.platform.config import Settings
from tessera.platform.models import utcnow
from tessera.platform.runtime import Platform


def test_unhealthy_until_worker_and_scheduler_report(
    client: FlaskClient, platform: Platform
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["worker"] == {"ok": False, "error": "no worker has reported yet", "last_seen": None}
    liveness.beat(platform.db.engine, "w", "worker")
    liveness.beat(platform.db.engine, "s", "scheduler")
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ok"


def test_stale_heartbeat_is_down(client: FlaskClient, platform: Platform) -> None:
    liveness.beat(platform.db.engine, "w", "worker", now=utcnow() - timedelta(minutes=5))
    liveness.beat(platform.db.engine, "s", "scheduler")
    body = client.get("/healthz").get_json()
    assert body["worker"]["ok"] is False
    assert body["worker"]["error"].startswith("the newest worker heartbeat is 3")


def test_redis_down_is_reported(settings: Settings, platform: Platform) -> None:
    from dataclasses import replace

    from tessera.platform.app import create_app
    from tessera.platform.health import health_report

    broken = Platform(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    with create_app(platform=broken).app_context():
        report = health_report(broken)
    assert report["status"] == "unhealthy"
    assert report["redis"]["ok"] is False
    assert (
        "cannot reach Redis at redis://127.0.0.1:1/0 (TESSERA_REDIS_URL)"
        in report["redis"]["error"]
    )
    broken.close()
