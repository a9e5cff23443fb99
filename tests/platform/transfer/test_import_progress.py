"""Import progress is visible while the import runs, also for an all-or-nothing import on
SQLite, whose one transaction holds the database's only write lock from start to end: the
progress goes through Redis and the status page reads it in a transaction that does not wait
for the lock."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tessera.platform.models import Import
from tessera.platform.runtime import Platform
from tessera.platform.transfer import imports, progress
from tests.conftest import Web
from tests.platform.api.conftest import Api
from tests.platform.transfer.factories import start, upload

ROWS = imports.BATCH * 2 + imports.BATCH // 2


def test_status_shows_progress_below_100_while_an_all_or_nothing_import_runs(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    web, api = signed_in
    content = "name,qty\n" + "".join(f"Bolt {n},{n}\n" for n in range(ROWS))
    location = upload(web, content.encode()).headers["Location"]
    start(web, location)  # all or nothing: one transaction
    with kit.db.session() as db:
        import_id = db.scalars(sa.select(Import.id)).one()
    seen: list[dict[str, Any]] = []

    def look(done: int, total: int) -> None:
        response = web.client.get(location + "/status", headers={"Accept": "application/json"})
        assert response.status_code == 200
        seen.append({**response.get_json(), "told": (done, total)})

    summary = imports.run(kit, import_id, on_batch=look)
    assert summary["created"] == ROWS
    assert [s["status"] for s in seen] == ["running", "running"]
    assert [s["processed"] for s in seen] == [imports.BATCH, imports.BATCH * 2]
    assert [s["total"] for s in seen] == [ROWS, ROWS]
    assert all(0 < s["percent"] < 100 for s in seen)
    assert seen[0]["percent"] < seen[1]["percent"]
    # while it ran, nothing was visible through the API yet (one transaction)...
    # ...and at the end the database row is the truth, Redis is cleared
    final = web.client.get(location + "/status", headers={"Accept": "application/json"})
    assert (final.get_json()["status"], final.get_json()["percent"]) == ("done", 100)
    assert final.get_json()["message"] == f"新建：{ROWS}；更新：0；跳过的行：0"  # a zh-CN reader
    assert progress.read(kit, import_id) is None
    assert api.get("/item?total=true").get_json()["total"] == ROWS


def test_without_redis_figures_the_status_falls_back_to_the_database(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    web, _api = signed_in
    location = upload(web, b"name,qty\nWasher,1\n").headers["Location"]
    start(web, location)
    with kit.db.session() as db:
        record = db.scalars(sa.select(Import)).one()
        record.status, record.total_rows = "running", 10
    assert progress.read(kit, record.id) is None
    assert web.client.get(location + "/status").get_json()["processed"] == 0
    progress.Publisher(kit, record.id).publish(4, 10)
    shown = web.client.get(location + "/status").get_json()
    assert (shown["processed"], shown["total"], shown["percent"]) == (4, 10, 40)


def test_the_progress_page_hands_its_script_the_rows_sentence_with_its_placeholders(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    """The page is drawn in the reader's language (zh-CN here) with ``%(done)s`` and
    ``%(total)s`` left in for import.js to fill, not filled (or refused) by the template."""
    web, _api = signed_in
    location = upload(web, b"name,qty\nWasher,1\n").headers["Location"]
    start(web, location)
    page = web.client.get(location)
    assert page.status_code == 200
    assert 'data-text-rows="%(done)s / %(total)s 行"' in page.get_data(as_text=True)
