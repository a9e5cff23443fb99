"""``Identity.actor``: the one way a user's identity becomes the records service's actor."""

from __future__ import annotations

from tessera.engines.forms import Actor
from tessera.platform.identity.current import Identity


def test_a_users_actor_carries_who_writes_and_through_which_door() -> None:
    identity = Identity(
        user_id=7, name="李明", email="li@example.com", platform_role="member",
        department_id=3, locale="zh-CN", time_zone="Asia/Shanghai",
    )  # fmt: skip
    assert identity.actor("api") == Actor(
        user_id=7, via="api", name="李明", department_id=3, time_zone="Asia/Shanghai",
        locale="zh-CN",
    )  # fmt: skip
    # a page speaks the request's language, whatever the user's own
    assert identity.actor("page", locale="en").locale == "en"
    assert identity.actor("import").via == "import"


def test_a_user_without_settings_gets_the_defaults() -> None:
    bare = Identity(user_id=1, name="A", email="a@x", platform_role="member", locale="",
                    time_zone="")  # fmt: skip
    actor = bare.actor("api")
    assert (actor.locale, actor.time_zone) == ("en", "UTC")
