"""The shell's app switcher lists the apps a user may open."""

from __future__ import annotations

from tests.conftest import Web
from tests.platform.test_permission_matrix import World, world  # noqa: F401 - the fixture

from . import factories


def test_the_app_switcher_lists_the_apps_the_user_may_open(world: World, web: Web) -> None:  # noqa: F811
    from tessera.platform import apps

    apps.install(world.platform.db.engine, factories.every_field_app())
    web.sign_in(world.users["rep"].email)
    html = web.client.get("/profile").get_data(as_text=True)
    switcher = html.split('class="menu app-switcher"', 1)[1].split("</details>", 1)[0]
    assert 'href="/apps/perm/"' in switcher and 'href="/apps/fieldtest/"' in switcher
    web.sign_out()
    web.sign_in(world.users["outsider"].email)  # perm has roles; the outsider has none
    html = web.client.get("/apps/fieldtest/deal/").get_data(as_text=True)
    switcher = html.split('class="menu app-switcher"', 1)[1].split("</details>", 1)[0]
    assert 'href="/apps/fieldtest/"' in switcher and "/apps/perm/" not in switcher
