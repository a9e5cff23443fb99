"""``tessera serve``: the embedded Redis, a worker, the scheduler and the web server as one command.

The supervisor starts each part as a child process and watches them.  Ctrl-C or SIGTERM stops
the children (SIGTERM, then SIGKILL after a grace period) and the embedded Redis last; on Linux
each child also asks the kernel to kill it if the supervisor dies, so no process is left behind
even after ``kill -9``.  A child that exits on its own is restarted, up to a limit.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tessera.platform.broker import EmbeddedRedis
from tessera.platform.config import Settings

log = logging.getLogger("tessera.serve")

GRACE_SECONDS = 10.0
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies (Linux prctl)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.argv, env=env, preexec_fn=_die_with_parent)  # noqa: S603
        log.info("started %s (pid %s)", self.name, self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", self.name)
            self.process.kill()
            self.process.wait()


class Supervisor:
    def __init__(self, settings: Settings, children: list[Child]) -> None:
        self.settings = settings
        self.children = children
        self.redis: EmbeddedRedis | None = None
        self.stopping = False

    def _request_stop(self, signum: int, _frame: object) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        self.stopping = True

    def run(self, on_ready: Callable[[], None] | None = None) -> int:
        previous = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        env = dict(os.environ)
        env["TESSERA_INSTANCE_PATH"] = str(self.settings.instance_path)
        env["TESSERA_SECRET_KEY"] = self.settings.secret_key
        env["TESSERA_DATABASE_URL"] = self.settings.database_url
        try:
            if self.settings.embedded_redis:
                self.redis = EmbeddedRedis(
                    self.settings.embedded_redis_socket, self.settings.instance_path
                )
                self.redis.start()
                env["TESSERA_REDIS_URL"] = self.redis.url
                log.info("embedded Redis listening on %s", self.redis.socket_path)
            for child in self.children:
                child.start(env)
            if on_ready is not None:
                on_ready()
            return self._watch(env)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watch(self, env: dict[str, str]) -> int:
        while not self.stopping:
            for child in self.children:
                code = child.process.poll() if child.process else None
                if code is None or self.stopping:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW]
                if len(child.restarts) >= MAX_RESTARTS:
                    log.error(
                        "%s keeps exiting (last status %s); stopping everything", child.name, code
                    )
                    return 1
                log.warning("%s exited with status %s; restarting it", child.name, code)
                child.restarts.append(now)
                child.start(env)
            time.sleep(0.5)
        return 0

    def _stop_all(self) -> None:
        for child in self.children:
            child.stop()
        deadline = time.monotonic() + GRACE_SECONDS
        for child in self.children:
            child.wait(deadline)
        if self.redis is not None:
            self.redis.stop()


def serve_children(with_worker: bool = True) -> list[Child]:
    """The processes ``tessera serve`` runs, each as ``python -m tessera <command>``."""
    base = [sys.executable, "-m", "tessera"]
    children = [Child("web", [*base, "web"]), Child("scheduler", [*base, "scheduler"])]
    if with_worker:
        children.insert(0, Child("worker", [*base, "worker"]))
    return children
