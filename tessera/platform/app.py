"""The Flask application factory: only ``init_app`` calls; nothing connects here (as Redash)."""

from __future__ import annotations

import logging

from flask import Flask

from tessera.platform import health, timers
from tessera.platform.config import Settings, load_settings
from tessera.platform.runtime import Platform

#: Modules whose import registers job tasks and timer handlers; workers run any of them.
TASK_MODULES = (timers,)


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """Build the web app; tests pass the ``platform`` they already built and migrated."""
    settings = settings or (platform.settings if platform else load_settings())
    app = Flask("tessera.platform", instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    (platform or Platform(settings)).init_app(app)
    app.register_blueprint(health.blueprint)
    return app
