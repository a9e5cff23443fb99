"""Small builders for definitions and databases used across the definitions tests, and
:func:`publish`, which moves a live schema from one version to the next."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions import (
    FORMAT,
    AppModel,
    PlatformTables,
    apply,
    plan,
    schema_transaction,
)

Doc = dict[str, Any]


def app_doc(key: str, label: Any, *entities: Doc) -> Doc:
    """An app document of ``entities`` in the current format."""
    return {"format": FORMAT, "key": key, "label": label, "entities": list(entities)}


def minimal_doc(**overrides: Any) -> Doc:
    """The smallest valid app: one entity with one text field; tweak it in the test."""
    doc = app_doc(
        "demo",
        {"en": "Demo", "zh-CN": "演示"},
        {"key": "item", "title": "name", "fields": [{"key": "name", "type": "text"}]},
    )
    doc.update(overrides)
    return doc


def with_fields(*fields: Doc, entity: str = "item") -> Doc:
    doc = minimal_doc()
    doc["entities"][0]["key"] = entity
    doc["entities"][0]["fields"] += [copy.deepcopy(f) for f in fields]
    return doc


def tweak(doc: Doc, change: Callable[[Doc], Any]) -> Doc:
    result = copy.deepcopy(doc)
    change(result)
    return result


def platform_stand_ins(conn: sa.Connection) -> PlatformTables:
    """Minimal ``users`` and ``departments`` tables like the platform's migrations create."""
    metadata = sa.MetaData()
    users = sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100)),
    )
    departments = sa.Table(
        "departments",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100)),
    )
    metadata.create_all(conn)
    conn.execute(users.insert(), [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Lin"}])
    conn.execute(departments.insert(), [{"id": 1, "name": "Sales"}])
    return PlatformTables(users, departments)


def publish(
    engine: sa.Engine,
    old: AppModel | None,
    new: AppModel,
    platform: PlatformTables,
    tag: str,
    *,
    confirm: bool = False,
) -> list[str]:
    """Plan and apply the move from ``old`` to ``new`` (``confirm``: destructive steps too) and
    check that planning again finds nothing to do; the plan's steps in words."""
    with schema_transaction(engine) as conn:
        schema_plan = plan(conn, old, new, platform, tag=tag)
        apply(conn, schema_plan, confirm_destructive=confirm)
    with engine.connect() as conn:  # the live schema now matches: nothing left to do
        assert plan(conn, new, new, platform, tag="again").is_empty
    return schema_plan.describe()
