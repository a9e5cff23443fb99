"""Browser tests: the real app on a loopback port, driven by Debian's Chromium via Playwright.

``live_server`` serves the test ``app`` (on the test ``platform``'s database) from a threaded
werkzeug server in a background thread; ``page`` is a fresh browser context per test, with
screenshots saved to ``$TESSERA_TEST_ARTIFACTS/<test name>/`` by ``shot(page, "name")``.
Playwright's own browser download is never used: Chromium comes from the system package.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = os.environ.get("TESSERA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get("TESSERA_TEST_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts"
)


#: The browser's zone: the first-run page must pick it up (the form's own default differs).
BROWSER_TIME_ZONE = "Asia/Singapore"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
    try:
        yield chromium
    finally:
        chromium.close()


def _read_whole(app: Flask) -> Callable[..., Any]:
    """Serve every response from memory.  When the browser drops a connection halfway through
    a file (a test moves on while a big module still loads), werkzeug's development server
    never closes the response (nor its file), and the ResourceWarning would fail whichever
    test runs next.  The pages' responses are small and finite, so nothing is lost."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, _read_whole(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test app served on a free loopback port for the length of one test."""
    app.config["TESTING"] = False  # behave like production: designed error pages, no propagation
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 800},
        locale="en-US",
        timezone_id=BROWSER_TIME_ZONE,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        # A page answered with 401 or 429 on purpose (failed sign-in, lockout) is logged by
        # Chromium as a failed load; script errors and CSP refusals are what we look for.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    tab.on("console", on_console)
    try:
        yield tab
    finally:
        context.close()
    # Our pages must not log script errors or CSP violations.
    assert errors == [], errors


@pytest.fixture
def shot(artifacts: Path) -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        path = artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
