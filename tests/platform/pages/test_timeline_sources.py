"""A record written by an import names the import's file in its timeline; the person who ran
the import gets a link to its page (counts, error report), anyone else just the name."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.conftest import Web
from tests.platform.api.conftest import kit  # noqa: F401 - the fixture
from tests.platform.transfer.factories import imported


def timeline_source(web: Web, record_id: int) -> str:
    page = web.client.get(f"/apps/kit/item/{record_id}").get_data(as_text=True)
    found = re.search(r"<(a|span) data-source[^>]*>[^<]*</(a|span)>", page)
    assert found, page[:3000]
    return found.group(0)


def test_the_importer_gets_a_link_to_the_import_and_others_the_file_name(
    kit: Platform,  # noqa: F811
    app: Flask,
    user_factory: Callable[..., User],
) -> None:
    ada, bo = user_factory(name="Ada"), user_factory(name="Bo")
    imported(kit, ada, ["Bolt", "Nut"])
    ada_web, bo_web = Web(app.test_client()), Web(app.test_client())
    ada_web.sign_in(ada.email)
    bo_web.sign_in(bo.email)
    mine = timeline_source(ada_web, 1)
    assert re.fullmatch(r'<a data-source href="/apps/kit/item/import/\d+">items\.csv</a>', mine), (
        mine
    )
    theirs = timeline_source(bo_web, 1)
    assert theirs == "<span data-source>items.csv</span>"
