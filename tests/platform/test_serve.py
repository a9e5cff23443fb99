"""``tessera serve`` comes up healthy and Ctrl-C leaves no process behind."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def descendants(pid: int) -> list[int]:
    """Every live process whose parent chain leads to ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def alive(pids: list[int]) -> list[int]:
    living = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            living.append(pid)
    return living


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_is_healthy_then_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env |= {"TESSERA_INSTANCE_PATH": str(tmp_path), "TESSERA_PORT": str(port)}
    started = time.monotonic()
    serve = subprocess.Popen(
        [sys.executable, "-m", "tessera", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    report: dict[str, object] = {}
    try:
        while time.monotonic() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    report = json.load(resp)
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        assert report.get("status") == "ok", report
        family = descendants(serve.pid)
        assert len(family) >= 4  # redis, worker, scheduler, web (+ web workers)
        os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert serve.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while alive(family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(family) == []
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
        print(serve.communicate(timeout=30)[0].decode())


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_announces_the_crm_and_serves_it(tmp_path: Path) -> None:
    """What ``make demo`` runs: set up the CRM with demo data, serve it, say where it is."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env |= {"TESSERA_INSTANCE_PATH": str(tmp_path), "TESSERA_PORT": str(port), "CI": "true"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "tessera", "demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("The CRM is ready: "):
                break
        assert lines and lines[-1].startswith(
            f"The CRM is ready: http://127.0.0.1:{port}/apps/crm/"
        )
        assert any("generated" in line and "records" in line for line in lines)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/apps/crm/")
            response = connection.getresponse()
            assert response.status == 302  # to sign in first
            assert "/sign-in" in response.headers["Location"]
            response.read()
        finally:
            connection.close()
        family = descendants(demo.pid)
        os.killpg(demo.pid, signal.SIGINT)
        assert demo.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while alive(family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(family) == []
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        demo.communicate(timeout=30)
        print("".join(lines))
