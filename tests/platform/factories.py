"""Small factories the platform tests share: an app installed with its roles, and a records
service for an installed app, as the system or as a user, in a transaction of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from tessera.engines.forms import Actor, RecordService
from tessera.platform import apps
from tessera.platform.models import Role
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform

#: who sets up test data: no user, no permission scope
SYSTEM = Actor(user_id=None, via="system")


def install(platform: Platform, doc: dict[str, Any]) -> dict[str, int]:
    """Install the app ``doc``; the ids of the platform roles its install created, by key."""
    apps.install(platform.db.engine, doc)
    keys = [role["key"] for role in doc.get("roles", ())]
    with platform.db.session() as db:
        found = dict(db.execute(sa.select(Role.key, Role.id).where(Role.key.in_(keys))).all())
    assert set(found) == set(keys), f"the install created the roles {sorted(found)} of {keys}"
    return found


@contextmanager
def records(platform: Platform, app: str, actor: Actor = SYSTEM) -> Iterator[RecordService]:
    """The records service of ``app`` for ``actor``, committed when the block ends."""
    with platform.db.engine.begin() as conn:
        yield service_for(conn, app, actor)
