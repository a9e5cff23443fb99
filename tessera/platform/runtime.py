"""The parts one Tessera process works with, built once from its settings.

A :class:`Platform` holds the settings, the database and the Redis client; web requests,
CLI commands, RQ jobs and the scheduler all reach the same object (through the Flask app's
extensions), and tests build one per test.  Creating it connects to nothing.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import cached_property

import redis
from flask import Flask, current_app
from rq import Queue
from rq.serializers import JSONSerializer

from tessera.platform import broker
from tessera.platform.config import Settings
from tessera.platform.db import Database
from tessera.platform.jobs import QUEUE_NAME

EXTENSION_KEY = "tessera"


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database()
        self.db.bind(settings.database_url)
        self.redis_url = broker.redis_url(settings)
        #: Identifies this process in heartbeats, leases and job claims.
        self.instance_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @cached_property
    def redis(self) -> redis.Redis:
        return broker.connect(self.redis_url)

    def queue(self) -> Queue:
        """The one RQ queue; JSON only, so a message can never carry a pickled object."""
        return Queue(QUEUE_NAME, connection=self.redis, serializer=JSONSerializer)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    def close(self) -> None:
        self.db.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


def current_platform() -> Platform:
    platform: Platform = current_app.extensions[EXTENSION_KEY]
    return platform
