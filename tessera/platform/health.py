"""GET /healthz: is the database up, is Redis up, are a worker and the scheduler alive?

Load balancers and ``make demo`` poll it; it answers 200 only when every part is healthy and
503 otherwise, always with the JSON detail so an operator sees which part is down.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from tessera.platform import broker, liveness
from tessera.platform.models import utcnow
from tessera.platform.runtime import Platform, current_platform

blueprint = Blueprint("health", __name__)


def _database(platform: Platform) -> dict[str, Any]:
    try:
        with platform.db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"ok": True, "backend": platform.settings.database_backend}
    except sa.exc.SQLAlchemyError as exc:
        return {"ok": False, "error": str(exc.__cause__ or exc).splitlines()[0][:300]}


def _redis(platform: Platform) -> dict[str, Any]:
    try:
        broker.check(platform.redis, platform.redis_url)
        return {"ok": True, "embedded": platform.settings.embedded_redis}
    except broker.RedisUnavailable as exc:
        return {"ok": False, "error": str(exc)}


def _process(platform: Platform, kind: str, database_ok: bool) -> dict[str, Any]:
    if not database_ok:
        return {"ok": False, "error": "unknown while the database is down"}
    seen = liveness.newest(platform.db.engine, kind)
    if seen is None:
        return {"ok": False, "error": f"no {kind} has reported yet", "last_seen": None}
    age = (utcnow() - seen).total_seconds()
    ok = age <= liveness.STALE_AFTER.total_seconds()
    report: dict[str, Any] = {"ok": ok, "last_seen": seen.isoformat(), "age_seconds": round(age, 1)}
    if not ok:
        report["error"] = f"the newest {kind} heartbeat is {int(age)} seconds old"
    return report


def health_report(platform: Platform) -> dict[str, Any]:
    database = _database(platform)
    checks = {
        "database": database,
        "redis": _redis(platform),
        "worker": _process(platform, "worker", database["ok"]),
        "scheduler": _process(platform, "scheduler", database["ok"]),
    }
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "unhealthy", **checks}


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    report = health_report(current_platform())
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response
