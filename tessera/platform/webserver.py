"""``tessera web``: gunicorn serving the Flask app, with threads in each worker process."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from tessera.platform.config import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25.1 opens a control socket shared by every instance of a user; two
            # Tessera instances on one machine would fight over it, and we do not use it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return self.application


def run_web(app: Flask, settings: Settings) -> None:
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.web_workers,
        "threads": settings.web_threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "graceful_timeout": 10,
        "timeout": 120,
        "loglevel": settings.log_level.lower(),
        # The app is built before forking; each worker must open its own connections.
        "post_fork": lambda _server, _worker: app.extensions["tessera"].db.dispose(),
    }
    _Gunicorn(app, options).run()
