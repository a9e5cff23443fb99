"""The trash page: listing, restoring and purging deleted records, hostile posts and refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera.engines.forms import NotFound
from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.factories import records
from tests.platform.test_permission_matrix import World, world  # noqa: F401 - the fixture

from . import factories

DEALS = "/apps/fieldtest/deal/"
TRASH = DEALS + "trash"


def trashed(platform: Platform, *names: str) -> list[int]:
    ids = [factories.create(platform, "deal", {"name": name})["id"] for name in names]
    with records(platform, "fieldtest") as system:
        system.bulk_delete("deal", ids)
    return ids


def deleted_at(platform: Platform, record_id: int) -> Any:
    with records(platform, "fieldtest") as service:
        return service.get("deal", record_id, trashed=None)["deleted_at"]


# -- the trash -------------------------------------------------------------------------------------
def test_the_trash_lists_restores_and_purges(
    fieldtest: Platform, signed_in: Web, page: Callable[..., Any]
) -> None:
    kept = factories.create(fieldtest, "deal", {"name": "Still here"})
    first, second, third = trashed(fieldtest, "Gone one", "Gone two", "Gone three")
    status, html = page(TRASH)
    assert status == 200
    assert "Gone one" in html and "Gone three" in html and "Still here" not in html
    assert 'value="purge"' in html and 'value="restore"' in html
    assert 'href="/apps/fieldtest/deal/trash"' in page(DEALS)[1]  # linked from the list

    restored = signed_in.post(TRASH, {"action": "restore", "ids": [first, second]})
    assert restored.status_code == 302
    assert deleted_at(fieldtest, first) is None and deleted_at(fieldtest, second) is None
    listed = signed_in.client.get(DEALS).get_data(as_text=True)
    assert "Gone one" in listed and "Gone two" in listed and "Still here" in listed

    purged = signed_in.post(TRASH, {"action": "purge", "ids": [third]})
    assert purged.status_code == 302
    with pytest.raises(NotFound):
        deleted_at(fieldtest, third)
    # purging a record that is not in the trash is refused and changes nothing
    assert signed_in.post(TRASH, {"action": "purge", "ids": [kept["id"]]}).status_code == 404
    assert factories.get(fieldtest, "deal", kept["id"])["name"] == "Still here"
    status, html = page(TRASH)
    assert status == 200 and "The trash is empty" in html


@pytest.mark.parametrize(
    "form",
    [
        {"action": "drop table", "ids": ["1"]},
        {"action": "restore", "ids": ["1 OR 1=1"]},
        {"action": "restore", "ids": ["-1"]},
        {"action": "purge", "ids": ["9" * 40]},
        {"ids": ["1"]},
    ],
)
def test_hostile_trash_posts_are_refused(
    fieldtest: Platform, signed_in: Web, form: dict[str, Any]
) -> None:
    (gone,) = trashed(fieldtest, "Target")
    response = signed_in.post(TRASH, form, token_from=TRASH)
    assert response.status_code == 400
    assert deleted_at(fieldtest, gone) is not None


def test_the_trash_needs_the_csrf_token_and_a_good_cursor(
    fieldtest: Platform, signed_in: Web, page: Callable[..., Any]
) -> None:
    (gone,) = trashed(fieldtest, "Target")
    response = signed_in.client.post(TRASH, data={"action": "purge", "ids": [str(gone)]})
    assert response.status_code in (400, 403)
    assert deleted_at(fieldtest, gone) is not None
    status, html = page(TRASH + "?after=forged%22%3E%3Cscript%3E")
    assert status == 400 and "<script>" not in html and "Target" in html


def test_the_trash_is_scoped_by_permissions(world: World, web: Web) -> None:  # noqa: F811
    trash = "/apps/perm/lead/trash"
    platform = world.platform
    with records(platform, "perm") as system:
        system.bulk_delete("lead", [world.leads["rep"], world.leads["rep2"]])
    web.sign_in(world.users["rep"].email)
    html = web.client.get(trash).get_data(as_text=True)
    assert "Lead of rep" in html and "Lead of rep2" not in html
    assert 'value="restore"' in html and 'value="purge"' in html  # reps may delete their own
    # another rep's lead is not found, not refused: its existence is not revealed
    theirs = web.post(trash, {"action": "restore", "ids": [world.leads["rep2"]]})
    assert theirs.status_code == 404
    web.sign_out()
    web.sign_in(world.users["manager"].email)  # reads the department tree, may not delete
    html = web.client.get(trash).get_data(as_text=True)
    assert "Lead of rep2" in html and 'value="restore"' not in html
    refused = web.post(trash, {"action": "restore", "ids": [world.leads["rep2"]]})
    assert refused.status_code == 403
    web.sign_out()
    web.sign_in(world.users["outsider"].email)
    assert web.client.get(trash).status_code == 403
    with records(platform, "perm") as system:
        assert system.get("lead", world.leads["rep2"], trashed=True)["deleted_at"] is not None


# -- rich text -------------------------------------------------------------------------------------
