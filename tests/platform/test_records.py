"""The platform side of the records service: the journal tables, service_for, publish hooks."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tessera.engines.forms import Actor, ListQuery
from tessera.platform import apps
from tessera.platform.models import AuditEntry, Event, User
from tessera.platform.records import PlatformJournal, service_for
from tessera.platform.runtime import Platform
from tests.platform.factories import records

APP = {
    "format": "tessera.app/1",
    "key": "crm",
    "label": "CRM",
    "entities": [
        {"key": "account", "title": "name",
         "fields": [{"key": "name", "type": "text", "required": True},
                    {"key": "city", "type": "text"}]},
    ],
}  # fmt: skip


@pytest.fixture
def xu(platform: Platform, user_factory: Callable[..., User]) -> User:
    """The CRM installed, and Xu, who writes to it."""
    apps.install(platform.db.engine, APP)
    return user_factory(name="Xu")


def test_journal_rows_commit_with_the_write_and_roll_back_with_it(
    platform: Platform, xu: User
) -> None:
    engine = platform.db.engine
    with records(platform, "crm", Actor(user_id=xu.id, via="import")) as svc:
        record = svc.create("account", {"name": "华为"})
    with engine.connect() as conn:
        audit = conn.execute(sa.select(AuditEntry)).one()
        event = conn.execute(sa.select(Event)).one()
    assert (audit.action, audit.via, audit.actor_id, audit.record_id) == (
        "created", "import", xu.id, record["id"]
    )  # fmt: skip
    assert audit.changes["name"] == [None, "华为"]
    assert (event.kind, event.app, event.entity, event.record_id) == (
        "created", "crm", "account", record["id"]
    )  # fmt: skip
    assert "name" in event.payload["changed"] and event.dispatched_at is None
    # a caller that rolls back takes the record, its audit row and its event with it
    with engine.connect() as conn, conn.begin() as tx:
        service_for(conn, "crm", Actor(user_id=xu.id, via="api")).create("account", {"name": "Li"})
        tx.rollback()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1
        assert conn.scalar(sa.select(sa.func.count()).select_from(Event)) == 1
        entries = PlatformJournal().entries(conn, "crm", "account", record["id"])
    assert entries[0].actor_name == "Xu"


def test_a_batch_of_entries_gives_each_event_its_own_payload(platform: Platform, xu: User) -> None:
    """A batch shares one payload between entries of the same shape and sends each shape
    once; entries of other shapes, in any order, must still get their own."""
    engine = platform.db.engine
    with records(platform, "crm", Actor(user_id=xu.id, via="api")) as svc:
        ids = svc.bulk_create("account", [{"name": f"A{n}"} for n in range(4)])
        svc.bulk_update(
            "account",
            [(ids[0], {"city": "深圳"}, None), (ids[1], {"name": "B1"}, None),
             (ids[2], {"city": "上海"}, None), (ids[3], {"name": "B3", "city": "北京"}, None)],
        )  # fmt: skip
    with engine.connect() as conn:
        events = conn.execute(
            sa.select(Event.record_id, Event.payload).where(Event.kind == "updated")
        ).all()
        audits = conn.execute(
            sa.select(AuditEntry.record_id, AuditEntry.changes).where(
                AuditEntry.action == "updated"
            )
        ).all()
    changed = {record_id: payload["changed"] for record_id, payload in events}
    assert changed == {ids[0]: ["city"], ids[1]: ["name"], ids[2]: ["city"],
                       ids[3]: ["city", "name"]}  # fmt: skip
    assert {record_id: changes.get("city") for record_id, changes in audits}[ids[2]] == [
        None, "上海"
    ]  # fmt: skip


def test_publishing_a_new_text_field_refreshes_search(platform: Platform) -> None:
    engine = platform.db.engine
    apps.install(engine, APP)
    with records(platform, "crm") as system:
        system.create("account", {"name": "Acme", "city": "深圳"})
    doc = copy.deepcopy(APP)
    doc["entities"][0]["fields"].append({"key": "notes", "type": "long_text"})
    apps.publish(engine, "crm", doc=doc)
    apps.publish(engine, "crm", doc=doc)  # again: nothing to change, nothing breaks
    with engine.begin() as conn:
        svc = service_for(conn, "crm", Actor(user_id=None, via="system"))
        created = svc.create("account", {"name": "Globex", "notes": "华南区的大客户"})
        assert [r["id"] for r in svc.list("account", ListQuery(search="华南区")).records] == [
            created["id"]
        ]
        assert [r["name"] for r in svc.list("account", ListQuery(search="深圳")).records] == [
            "Acme"
        ]
        preview = apps.preview(conn, "crm", doc)
    assert not [line for line in preview.plan if "xs_" in line]  # search objects stay out of plans
