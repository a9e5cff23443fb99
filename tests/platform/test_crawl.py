"""Every page a person can reach by following links answers without a server error.

Pages that no test opened have failed in ways only a visit shows (the import progress page
once answered 500 for every import).  This walks the links of the CRM with its demo data, as
a system administrator and as sales reps who read Chinese and English, from the home page: each
same-site link that a GET may follow (no sign-out, no downloads), up to a few hundred pages.
Record pages are sampled: a list's first records stand for the rest."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask

from tessera.platform import demo
from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.conftest import Web

LINK = re.compile(r'<a\b[^>]*\bhref="([^"#]+)"')
#: links a visit must not follow: they act (sign out), or answer with files, not pages
SKIPPED = re.compile(r"/sign-out|/export|/errors\.csv|/files/|/static/|\.(csv|xlsx|json)$")
MAX_PAGES = 800
#: per path shape (ids and query values stripped), how many pages are visited
PER_SHAPE = 3


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d+", "/#", parts.path)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return path + "?" + "&".join(keys)


def crawl(web: Web, *starts: str) -> dict[str, int]:
    """``{url: status}`` of the pages reached from ``starts`` by same-site links."""
    seen: dict[str, int] = {}
    shapes: dict[str, int] = {}
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = web.client.get(url)
        seen[url] = response.status_code
        if response.status_code in (301, 302, 303, 307, 308):
            hrefs = [response.headers["Location"]]
        elif response.status_code == 200 and "text/html" in response.content_type:
            hrefs = LINK.findall(response.get_data(as_text=True))
        else:
            continue
        for href in hrefs:
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc and parts.netloc != "localhost":
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if not local.startswith("/") or SKIPPED.search(parts.path) or local in seen:
                continue
            key = shape(local)
            if shapes.get(key, 0) >= PER_SHAPE:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            queue.append(local)
    return seen


@pytest.fixture
def crm(platform: Platform, user_factory: Callable[..., User]) -> Platform:
    engine = platform.db.engine
    demo.install_crm(engine)
    people = demo.ensure_people(engine)
    demo.load(engine, size="small", seed=5, today=dt.date(2026, 3, 2), people=people)
    user_factory(email="root@example.com", name="Root", platform_role="system_admin")
    return platform


@pytest.mark.parametrize(
    "email", ["root@example.com", "rep@example.com", "rep.east@example.com"]
)  # an administrator (English), a rep who reads Chinese, a rep who reads English
def test_every_linked_page_answers_without_a_server_error(
    crm: Platform, app: Flask, email: str
) -> None:
    web = Web(app.test_client())
    if email == "root@example.com":
        web.sign_in(email)
    else:
        web.sign_in(email, demo.DEMO_PASSWORD)
    seen = crawl(web, "/", "/build/")  # the builder answers 403 to a rep
    broken = {url: status for url, status in seen.items() if status >= 500}
    if email == "root@example.com":
        assert any(url.startswith("/build/crm") for url in seen), sorted(seen)
    assert not broken, broken
    assert len(seen) > 40, sorted(seen)  # it did walk: home, apps, lists, records, admin…
