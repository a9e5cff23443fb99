"""Benchmark of the runtime list page (prints a table; not a test).

List pages per second for a 50-row page of a 100k-row entity, served by the platform (sign-in
session, app registry, records service, permission scope, the full template) against a
hand-written Flask + Jinja2 page running the same query and formatting the same values for the
locale (money, dates, numbers), in the same run and on the same database.  Both serve page 1
and a page deep in the table (keyset cursor near the end).  Target: the platform at least half
the hand-written rate.

    .venv/bin/python bench/list_pages.py [--rows 100000] [--requests 300]
        [--url postgresql://postgres@127.0.0.1/tessera_dev]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, render_template_string, request

from tessera.engines.forms import Actor, ListQuery
from tessera.engines.forms.reads import _fingerprint
from tessera.platform import apps, migrate, passwords
from tessera.platform.app import create_app
from tessera.platform.config import Settings
from tessera.platform.db import create_db_engine
from tessera.platform.models import User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform

APP = {
    "format": "tessera.app/1", "key": "bench", "label": "Bench",
    "entities": [{
        "key": "item", "title": "name", "label": "Item", "plural_label": "Items",
        "fields": [
            {"key": "name", "type": "text", "required": True},
            {"key": "code", "type": "text"},
            {"key": "stage", "type": "select", "options": ["new", "open", "won", "lost"]},
            {"key": "amount", "type": "currency", "currency": "CNY"},
            {"key": "due", "type": "date"},
            {"key": "score", "type": "integer"},
        ],
    }],
    "roles": [], "processes": [], "rules": [], "reports": [], "dashboards": [], "templates": [],
    "public_forms": [],
}  # fmt: skip
COLUMNS = ("name", "code", "stage", "amount", "due", "score")

HAND_WRITTEN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Items</title>
<link rel="stylesheet" href="/static/css/tessera.css"></head><body><main class="page">
<h1 class="page-title">Items</h1><table class="table"><thead><tr>
{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in rows %}<tr><td><a href="/items/{{ r.id }}">{{ r.name }}</a></td><td>{{ r.code }}</td>
<td><span class="badge">{{ r.stage }}</span></td><td>{{ money(r.amount) }}</td>
<td>{{ day(r.due) }}</td>
<td>{{ num(r.score) }}</td></tr>{% endfor %}</tbody></table>
{% if more %}<a href="?after={{ rows[-1].id }}">Next page</a>{% endif %}</main></body></html>"""


def hand_written_app(engine: sa.Engine, table: sa.Table) -> Flask:
    """What a developer would write by hand for this one list: one query, one template."""
    app = Flask("hand_written")
    items = table

    def money(value: Decimal | None) -> str:
        return "" if value is None else babel_numbers.format_currency(value, "CNY", locale="en")

    def num(value: int | None) -> str:
        return "" if value is None else babel_numbers.format_decimal(value, locale="en")

    def day(value: dt.date | None) -> str:
        return "" if value is None else babel_dates.format_date(value, "medium", locale="en")

    @app.get("/items/")
    def items_page() -> str:
        columns = [items.c.id, *(items.c[c] for c in COLUMNS)]
        query = sa.select(*columns).where(items.c.deleted_at.is_(None))
        if request.args.get("after"):
            query = query.where(items.c.id < int(request.args["after"]))
        with engine.connect() as conn:
            rows = list(conn.execute(query.order_by(items.c.id.desc()).limit(51)))
        return render_template_string(
            HAND_WRITTEN,
            rows=rows[:50],
            more=len(rows) > 50,
            columns=COLUMNS,
            money=money,
            day=day,
            num=num,
        )

    return app


def fill(engine: sa.Engine, t: sa.Table, rows: int) -> None:
    rng = random.Random(7)
    start = dt.date(2024, 1, 1)
    now = dt.datetime.now(dt.UTC)
    batch = []
    with engine.begin() as conn:
        for n in range(rows):
            batch.append({
                "name": f"Item {n:06d}", "code": f"C-{rng.randint(0, 10**6)}",
                "stage": rng.choice(["new", "open", "won", "lost"]),
                "amount": Decimal(rng.randint(0, 10**7)).scaleb(-2),
                "due": start + dt.timedelta(days=rng.randint(0, 900)), "score": rng.randint(0, 100),
                "created_at": now, "updated_at": now, "version": 1,
            })  # fmt: skip
            if len(batch) == 5000:
                conn.execute(sa.insert(t), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(t), batch)


def compare(
    ours: Callable[[], int], theirs: Callable[[], int], requests: int
) -> tuple[float, float]:
    """Pages per second of each: rounds alternate between the two (so a busy machine slows
    both alike) and the best round of each counts, as timeit does."""
    for fetch in (ours, theirs):
        for _ in range(10):  # warm caches: compiled app, templates, connection pool, page cache
            assert fetch() == 200
    best = [0.0, 0.0]
    rounds, per_round = 6, max(requests // 6, 1)
    for _ in range(rounds):
        for i, fetch in enumerate((ours, theirs)):
            began = time.perf_counter()
            for _ in range(per_round):
                status = fetch()
                assert status == 200, status
            best[i] = max(best[i], per_round / (time.perf_counter() - began))
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    schema = None
    url = args.url or f"sqlite:///{folder / 'bench.db'}"
    if args.url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with create_db_engine(args.url).begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = (
            sa.make_url(args.url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    settings = Settings(instance_path=folder, database_url=url, redis_url="memory://",
                        secret_key="bench-secret-key-that-is-long-enough-0123456789")  # fmt: skip
    platform = Platform(settings)
    try:
        migrate.upgrade(platform.db.engine)
        apps.install(platform.db.engine, APP)
        with platform.db.engine.connect() as conn:
            table = apps.published(conn, "bench").table("item")
        print(f"filling {args.rows:,} rows on {platform.db.engine.dialect.name} …", flush=True)
        fill(platform.db.engine, table, args.rows)
        with platform.db.session() as db:
            db.add(User(email="bench@example.com", name="Bench", platform_role="member",
                        password_hash=passwords.hash_password("bench password 123")))  # fmt: skip
        app = create_app(settings, platform=platform)
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
        assert token, "no CSRF token on the sign-in page"
        signed = client.post("/sign-in", data={
            "csrf_token": token.group(1), "email": "bench@example.com",
                                               "password": "bench password 123"})  # fmt: skip
        assert signed.status_code == 302, signed.status_code
        with platform.db.engine.begin() as conn:
            service = service_for(conn, "bench", Actor(user_id=None, via="system"),
                                  cursor_key=settings.secret_key.encode())  # fmt: skip
            deep_id = max(args.rows // 10, 60)  # ~90 % of the way down (ids descend)
            query = ListQuery(sort=[("id", "desc")])
            cursor = service.encode_cursor(_fingerprint(query, []), [], deep_id)
        first = client.get("/apps/bench/item/").get_data(as_text=True)
        assert first.count('class="row-link"') == 50, "the platform page does not show 50 rows"
        hand = hand_written_app(platform.db.engine, table).test_client()
        assert hand.get("/items/").get_data(as_text=True).count("<tr>") == 51

        results = []
        for label, platform_url, hand_url in (
            ("page 1", "/apps/bench/item/", "/items/"),
            ("deep page", f"/apps/bench/item/?after={cursor}", f"/items/?after={deep_id}"),
        ):
            ours, theirs = compare(
                lambda u=platform_url: client.get(u).status_code,  # type: ignore[misc]
                lambda u=hand_url: hand.get(u).status_code,  # type: ignore[misc]
                args.requests,
            )
            results.append((label, ours, theirs))
        print()
        print(
            f"{f'list page (50 of {args.rows:,} rows)':<34}{'platform/s':>12}"
            f"{'hand-written/s':>16}{'ratio':>8}"
        )
        for label, ours, theirs in results:
            print(f"{label:<34}{ours:>12.1f}{theirs:>16.1f}{ours / theirs:>8.2f}")
        worst = min(o / t for _, o, t in results)
        print(
            f"\ntarget: platform ≥ 0.50 × hand-written — "
            f"{'met' if worst >= 0.5 else 'NOT met'} (worst {worst:.2f})"
        )
    finally:
        platform.close()
        if schema:
            with create_db_engine(args.url).begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
