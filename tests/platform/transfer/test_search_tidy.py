"""A large import leaves the entity's search index in pieces; a ``search.tidy`` job, submitted
by the import, folds it into one (SQLite) or cleans the pending list (PostgreSQL), and search
answers the same afterwards.  A small import into a large table is not worth the work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import naming
from tessera.engines.forms import Actor, ListQuery
from tessera.platform import apps, jobs
from tessera.platform.models import Job, User
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform
from tessera.platform.transfer import imports
from tests.platform.transfer.factories import imported


def tidy_jobs(platform: Platform) -> list[Job]:
    with platform.db.session() as db:
        found = db.scalars(sa.select(Job).where(Job.task == "search.tidy").order_by(Job.id)).all()
        db.expunge_all()
    return list(found)


def _varint(block: bytes, at: int) -> tuple[int, int]:
    value = 0
    for n in range(9):
        byte = block[at]
        at += 1
        if n == 8:
            return (value << 8) | byte, at
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return value, at


def fts_segments(platform: Platform) -> int:
    """SQLite: how many segments the items' FTS5 index is in (read from its structure record:
    a 4-byte cookie, an optional version marker, then the level and segment counts)."""
    with platform.db.engine.connect() as conn:
        table = apps.published(conn, "kit").model.entity("item").table
        data = naming.search_name(table) + "_data"
        block = bytes(conn.exec_driver_sql(f'SELECT block FROM "{data}" WHERE id = 10').scalar())
    at = 8 if block[4:8] == b"\xff\x00\x00\x01" else 4
    _levels, at = _varint(block, at)
    return _varint(block, at)[0]


def names_found(platform: Platform, user: User, text: str) -> list[str]:
    with platform.db.engine.begin() as conn:
        actor = Actor(user_id=user.id, via="page", name=user.name)
        page = service_for(conn, "kit", actor).list("item", ListQuery(search=text, limit=500))
    return sorted(r["name"] for r in page.records)


def test_a_large_import_has_its_search_index_tidied_by_a_job(
    kit: Platform, user_factory: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 60)  # a chunk per 60 rows: many pieces
    monkeypatch.setattr(imports, "TIDY_AFTER", 300)
    user = user_factory(name="Ada")
    names = [f"深圳华为 n{n:04d}" for n in range(420)] + ["Li Wei", "Wang Fang"]
    summary = imported(kit, user, names)
    assert summary["created"] == len(names)
    (job,) = tidy_jobs(kit)
    assert job.args == {"app": "kit", "entity": "item", "rows": len(names)}
    sqlite = kit.db.engine.dialect.name == "sqlite"
    if sqlite:
        assert fts_segments(kit) > 1
    before = names_found(kit, user, "华为 n041"), names_found(kit, user, "li")
    jobs.execute(kit, job.id)
    (done,) = tidy_jobs(kit)
    assert done.status == "done" and done.result == {"tidied": True}
    if sqlite:
        assert fts_segments(kit) == 1
    assert (names_found(kit, user, "华为 n041"), names_found(kit, user, "li")) == before
    assert before[0] == [f"深圳华为 n{n:04d}" for n in range(410, 420)]
    assert before[1] == ["Li Wei"]


def test_a_small_import_submits_no_job_and_a_small_part_of_a_table_is_not_tidied(
    kit: Platform, user_factory: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "TIDY_AFTER", 50)
    user = user_factory(name="Ada")
    imported(kit, user, [f"first {n}" for n in range(49)])
    assert tidy_jobs(kit) == []
    imported(kit, user, [f"second {n}" for n in range(600)])
    imported(kit, user, [f"third {n}" for n in range(50)])  # under a tenth of 699 rows
    first, second = tidy_jobs(kit)
    jobs.execute(kit, first.id)
    jobs.execute(kit, second.id)
    assert [j.result for j in tidy_jobs(kit)] == [{"tidied": True}, {"tidied": False}]
