"""Automations act as a named identity: ``Identity.automation(app, rule, name)``.

Its writes carry ``automation:<rule key>`` and the rule's name into the audit trail, the event
outbox and the record's history ("Automation: <name>" on the record page and in the API); its
scope is its own app (everything, or what the app roles it runs with grant), and nothing in
any other app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tessera.engines.forms import Actor, ListQuery, PermissionDenied, RecordService
from tessera.platform import apps
from tessera.platform.identity.current import Identity
from tessera.platform.models import AuditEntry, Event, User
from tessera.platform.permissions import automation_actor, scope_provider
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.factories import records
from tests.platform.test_permission_matrix import World, api_as, perm_app, token_for, world

__all__ = ["token_for", "world"]  # fixtures used from the matrix


def automation_service(conn: sa.Connection, app: str, identity: Identity) -> RecordService:
    actor = automation_actor(identity)  # the hook create_app installs, called directly
    return service_for(conn, app, actor, scope=scope_provider(conn, app, actor))


CLOSER = Identity.automation("perm", "close_won", "Close won deals")


def test_a_write_by_an_automation_is_named_in_the_history(world: World) -> None:
    lead = world.leads["rep"]
    with world.platform.db.engine.begin() as conn:
        automation_service(conn, "perm", CLOSER).update("lead", lead, {"stage": "won"})
    with world.platform.db.engine.begin() as conn:
        manager = Actor(user_id=world.users["manager"].id, via="page")
        history = service_for(
            conn, "perm", manager, scope=scope_provider(conn, "perm", manager)
        ).history("lead", lead)
        row = conn.execute(
            sa.select(AuditEntry.__table__).order_by(AuditEntry.id.desc()).limit(1)
        ).one()
        event = conn.execute(sa.select(Event.__table__).order_by(Event.id.desc()).limit(1)).one()
    last = history[-1]
    assert last.actor_key == "automation:close_won" and last.actor_name == "Close won deals"
    assert last.actor_id is None and last.via == "rule" and last.is_automation
    assert last.sentence().startswith("Automation: Close won deals updated Stage (— → Won)")
    assert [c.field for c in last.changes] == ["stage"]
    assert not history[0].is_automation  # the setup's write was the system's
    assert (row.actor_key, row.actor_name, row.via) == ("automation:close_won", "Close won deals",
                                                         "rule")  # fmt: skip
    assert event.payload["actor"] == "automation:close_won"


def test_the_history_shows_the_automation_on_the_page_and_in_the_api(
    world: World,
    web: Web,
    other_web: Web,
    app: Flask,
    token_for: Any,
    user_factory: Callable[..., User],
) -> None:
    lead = world.leads["rep"]
    with world.platform.db.engine.begin() as conn:
        automation_service(conn, "perm", CLOSER).update("lead", lead, {"stage": "won"})
    web.sign_in(world.users["manager"].email)
    page = web.client.get(f"/apps/perm/lead/{lead}").get_data(as_text=True)
    assert 'data-actor="automation:close_won">Automation: Close won deals</strong>' in page
    admin = user_factory(platform_role="system_admin")
    other_web.sign_in(admin.email)
    audit = other_web.client.get("/admin/audit").get_data(as_text=True)
    assert "Automation: Close won deals" in audit
    entries = api_as(app, token_for, world.users["rep"]).get(f"/lead/{lead}/history").get_json()
    last = entries["entries"][-1]
    assert last["actor_key"] == "automation:close_won"
    assert last["actor_name"] == "Close won deals" and last["actor_id"] is None


def test_an_automation_reaches_its_own_app_only(
    world: World, platform: Platform, user_factory: Callable[..., User]
) -> None:
    apps.install(platform.db.engine, {**perm_app(), "key": "other", "roles": []})
    with records(platform, "other") as system:
        system.create("lead", {"name": "x"})
    with platform.db.engine.begin() as conn:
        mine = automation_service(conn, "perm", CLOSER)
        assert mine.count("lead", ListQuery()) == 2  # every lead, whoever owns it
        assert "amount" in mine.get("lead", world.leads["rep2"])  # and every field
        elsewhere = automation_service(conn, "other", CLOSER)
        assert elsewhere.list("lead", ListQuery()).records == []
        with pytest.raises(PermissionDenied):
            elsewhere.create("lead", {"name": "planted"})


def test_an_automation_running_with_app_roles_gets_their_grants(world: World) -> None:
    auditor = Identity.automation("perm", "audit", "Audit", roles=["finance"])
    rep_like = Identity.automation("perm", "nudge", "Nudge", roles=["rep"])
    with world.platform.db.engine.begin() as conn:
        finance = automation_service(conn, "perm", auditor)
        assert finance.count("lead", ListQuery()) == 2  # finance reads all leads …
        with pytest.raises(PermissionDenied):  # … and changes none
            finance.update("lead", world.leads["rep"], {"stage": "won"})
        # a rep's scope is "own": an automation owns nothing, so it sees nothing
        assert automation_service(conn, "perm", rep_like).count("lead", ListQuery()) == 0


def test_a_rule_without_a_name_reaches_nothing(world: World) -> None:
    """Rules and processes act as their named identity: an anonymous one gets no records."""
    anonymous = Actor(user_id=None, via="rule")
    with world.platform.db.engine.begin() as conn:
        service = service_for(
            conn, "perm", anonymous, scope=scope_provider(conn, "perm", anonymous)
        )
        assert service.count("lead", ListQuery()) == 0
        with pytest.raises(PermissionDenied):
            service.create("lead", {"name": "x"})


def test_automation_identities_are_not_users() -> None:
    assert CLOSER.user_id is None and not CLOSER.has_platform_role("member")
    assert CLOSER.actor_key == "automation:close_won" and CLOSER.is_automation
    with pytest.raises(ValueError):
        Identity.automation("perm", "x", via="page")
    with pytest.raises(ValueError):
        Identity.automation("perm", "")
    plain = Identity(user_id=1, name="A", email="a@x", platform_role="member")
    with pytest.raises(ValueError):
        automation_actor(plain)
