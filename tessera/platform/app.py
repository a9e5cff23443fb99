"""The Flask application factory: only ``init_app`` calls; nothing connects here (as Redash)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from tessera import builder_ui
from tessera.platform import api as records_api
from tessera.platform import health, i18n, mail, pages, permissions, timers, web
from tessera.platform.config import Settings, load_settings
from tessera.platform.identity import admin, profile, views
from tessera.platform.identity.sessions import ABSOLUTE_TIMEOUT, CookieSessions
from tessera.platform.runtime import Platform
from tessera.platform.transfer import views as transfer_views

#: Modules whose import registers job tasks and timer handlers; workers run any of them.
TASK_MODULES = (timers, mail)


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """Build the web app; tests pass the ``platform`` they already built and migrated."""
    settings = settings or (platform.settings if platform else load_settings())
    platform = platform or Platform(settings)
    app = Flask("tessera.platform", instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="tessera_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        PERMANENT_SESSION_LIFETIME=ABSOLUTE_TIMEOUT,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(hours=1),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app.session_interface = CookieSessions()
    platform.init_app(app)
    i18n.init_app(app, settings.default_locale)
    web.init_app(app, https=settings.https, redis_url=platform.redis_url)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(profile.blueprint)
    app.register_blueprint(profile.api)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(records_api.blueprint)
    permissions.init_app(app)
    app.register_blueprint(transfer_views.blueprint)
    pages.init_app(app)
    app.register_blueprint(builder_ui.blueprint)
    return app
