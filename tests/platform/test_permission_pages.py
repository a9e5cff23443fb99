"""What the runtime pages draw for a user's permissions: hidden fields are not drawn at all,
fields a role may only read are drawn disabled (and ignored if posted), and the share dialog of
a record page appears only for those who may change the record; its POST routes refuse
everyone else, and requests without a CSRF token.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tessera.engines.forms import Actor
from tessera.platform import apps
from tessera.platform.models import RecordShare
from tessera.platform.records import service_for
from tests.conftest import Web
from tests.platform.factories import records
from tests.platform.test_permission_matrix import SECRET_NOTE, World, body, perm_app, world

__all__ = ["world"]  # the first matrix's fixture


def ro_app() -> dict[str, Any]:
    """The matrix's app with the rep's ``stage`` read-only (and ``amount``, ``memo`` hidden)."""
    doc = perm_app()
    doc["key"] = "ro"
    doc["roles"][0]["entities"]["lead"]["fields"] = {
        "amount": "hidden", "memo": "hidden", "stage": "read_only",
    }  # fmt: skip
    lead = doc["entities"][1]
    lead["form"] = {"sections": [{"label": "Lead", "fields": [
        "name", "stage", "account", "amount", "memo",
        # a builder's condition reading the linked account: it must not tell the user what an
        # account they may not read is called
        {"field": "owner_note", "visible_if": 'account.name = "Acme"'},
    ]}]}  # fmt: skip
    lead["fields"].append({"key": "owner_note", "type": "text"})
    return doc


@pytest.fixture
def ro_lead(world: World) -> int:
    apps.install(world.platform.db.engine, ro_app())
    with records(world.platform, "ro") as system:
        acme = system.create("account", {"name": "Acme", "owner": world.users["rep2"].id})
        return int(
            system.create(
                "lead", {"name": "Mine", "stage": "new", "memo": SECRET_NOTE,
                         "account": acme["id"], "owner": world.users["rep"].id},
            )["id"]
        )  # fmt: skip


def fieldset(page: str, key: str) -> str | None:
    found = re.search(rf'<fieldset[^>]*data-field="{key}"[^>]*>', page)
    return found.group(0) if found else None


def test_forms_draw_read_only_fields_disabled_and_hidden_fields_not_at_all(
    world: World, ro_lead: int, web: Web
) -> None:
    web.sign_in(world.users["rep"].email)
    for path in ("/apps/ro/lead/new", f"/apps/ro/lead/{ro_lead}/edit"):
        page = body(web.client.get(path))
        stage, name = fieldset(page, "stage"), fieldset(page, "name")
        assert stage is not None and "disabled" in stage and 'data-fixed-read-only="1"' in stage
        assert name is not None and "disabled" not in name
        assert fieldset(page, "amount") is None and fieldset(page, "memo") is None, path
        assert 'name="amount"' not in page and 'name="memo"' not in page
    detail = body(web.client.get(f"/apps/ro/lead/{ro_lead}"))
    assert 'data-value="memo"' not in detail and 'data-value="amount"' not in detail
    assert SECRET_NOTE not in detail
    # a crafted post of the read-only field changes nothing of it, and the rest is saved
    token = web.csrf(f"/apps/ro/lead/{ro_lead}/edit")
    saved = web.client.post(
        f"/apps/ro/lead/{ro_lead}/edit",
        data={"csrf_token": token, "version": "1", "name": "Renamed", "stage": "won"},
    )
    assert saved.status_code == 302, body(saved)[:500]
    with records(world.platform, "ro") as system:
        lead = system.get("lead", ro_lead)
    assert (lead["name"], lead["stage"]) == ("Renamed", "new")


def test_conditions_read_linked_records_as_the_user_may(
    world: World, ro_lead: int, web: Web, other_web: Web
) -> None:
    """The rep may not read the account Acme (Rep West's): for them ``account.name`` is blank,
    so the condition is false whichever account the form links to; the manager reads it."""
    with records(world.platform, "ro") as system:
        acme = system.get("lead", ro_lead)["account"]
    for client, who, shown in ((web, "rep", False), (other_web, "manager", True)):
        client.sign_in(world.users[who].email)
        token = client.csrf(f"/apps/ro/lead/{ro_lead}/edit")
        answer = client.client.post(
            "/apps/ro/lead/_/evaluate",
            data={"csrf_token": token, "_id": str(ro_lead), "account": str(acme),
                  "name": "Mine"},
        )  # fmt: skip
        assert answer.status_code == 200, body(answer)[:300]
        assert ("owner_note" not in answer.get_json()["hidden"]) is shown, who


def test_roles_that_may_write_a_field_get_it_enabled(world: World, ro_lead: int, web: Web) -> None:
    web.sign_in(world.users["manager"].email)  # update in the department tree, no field rules
    page = body(web.client.get(f"/apps/ro/lead/{ro_lead}/edit"))
    stage = fieldset(page, "stage")
    assert stage is not None and "disabled" not in stage
    assert fieldset(page, "amount") is not None


def share_path(app: str, lead: int, remove: bool = False) -> str:
    return f"/apps/{app}/lead/{lead}/shares" + ("/remove" if remove else "")


def test_the_share_dialog_shares_lists_and_withdraws(
    world: World, web: Web, other_web: Web
) -> None:
    mine, rep2 = world.leads["rep"], world.users["rep2"]
    web.sign_in(world.users["rep"].email)
    page = body(web.client.get(f"/apps/perm/lead/{mine}"))
    assert 'class="menu rt-share"' in page and f'value="user:{rep2.id}"' in page
    assert "Not shared with anyone yet." in page
    token = web.csrf(f"/apps/perm/lead/{mine}")
    made = web.client.post(
        share_path("perm", mine),
        data={"csrf_token": token, "grantee": f"user:{rep2.id}", "access": "edit"},
    )
    assert made.status_code == 302
    page = body(web.client.get(f"/apps/perm/lead/{mine}"))
    assert f'data-grantee="user:{rep2.id}"' in page and "can edit" in page
    other_web.sign_in(rep2.email)
    assert other_web.client.get(f"/apps/perm/lead/{mine}").status_code == 200
    removed = web.client.post(
        share_path("perm", mine, remove=True),
        data={"csrf_token": token, "grantee": f"user:{rep2.id}"},
    )
    assert removed.status_code == 302
    assert other_web.client.get(f"/apps/perm/lead/{mine}").status_code == 404
    with world.platform.db.session() as db:
        assert db.query(RecordShare).count() == 0


def test_the_share_routes_refuse_whoever_may_not_change_the_record(
    world: World, web: Web, other_web: Web
) -> None:
    mine, theirs = world.leads["rep"], world.leads["rep2"]
    grantee = f"user:{world.users['outsider'].id}"
    # finance reads every lead but changes none: no dialog, and the routes answer 403
    web.sign_in(world.users["finance"].email)
    page = body(web.client.get(f"/apps/perm/lead/{mine}"))
    assert "rt-share" not in page
    assert f"/apps/perm/lead/{mine}/edit" not in page and f"{mine}/delete" not in page
    token = web.csrf(f"/apps/perm/lead/{mine}")
    for remove in (False, True):
        answer = web.client.post(
            share_path("perm", mine, remove), data={"csrf_token": token, "grantee": grantee}
        )
        assert answer.status_code == 403, body(answer)[:300]
    # a rep may not share (or even see) a record out of scope
    other_web.sign_in(world.users["rep"].email)
    token = other_web.csrf(f"/apps/perm/lead/{mine}")
    answer = other_web.client.post(
        share_path("perm", theirs), data={"csrf_token": token, "grantee": grantee}
    )
    assert answer.status_code == 404 and "Lead of rep2" not in body(answer)
    # no CSRF token, or a grantee that is not one: refused before anything happens
    unprotected = other_web.client.post(share_path("perm", mine), data={"grantee": grantee})
    assert unprotected.status_code in (400, 403)
    for bad in ("user:x", "role:1", "user:1 OR 1=1", "", "department:"):
        answer = other_web.client.post(
            share_path("perm", mine), data={"csrf_token": token, "grantee": bad}
        )
        assert answer.status_code == 400, bad
    answer = other_web.client.post(
        share_path("perm", mine), data={"csrf_token": token, "grantee": grantee, "access": "own"}
    )
    assert answer.status_code == 302  # shown again with the reason, nothing stored
    with world.platform.db.session() as db:
        assert db.query(RecordShare).count() == 0


def test_open_apps_have_no_share_dialog(world: World, web: Web) -> None:
    """In an app that declares no permissions everyone sees everything: sharing adds nothing."""
    apps.install(world.platform.db.engine, {**perm_app(), "key": "open", "roles": []})
    with world.platform.db.engine.begin() as conn:
        lead = service_for(conn, "open", Actor(user_id=world.users["rep"].id, via="page")).create(
            "lead", {"name": "Open"}
        )["id"]
    web.sign_in(world.users["rep"].email)
    assert "rt-share" not in body(web.client.get(f"/apps/open/lead/{lead}"))
