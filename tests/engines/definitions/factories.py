"""Small builders for definitions and databases used across the definitions tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions import FORMAT, PlatformTables

Doc = dict[str, Any]


def minimal_doc(**overrides: Any) -> Doc:
    """The smallest valid app: one entity with one text field; tweak it in the test."""
    doc: Doc = {
        "format": FORMAT,
        "key": "demo",
        "label": {"en": "Demo", "zh-CN": "演示"},
        "entities": [{"key": "item", "title": "name", "fields": [{"key": "name", "type": "text"}]}],
    }
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
