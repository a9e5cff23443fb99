"""Departments as a tree: ancestors, descendants, cycle checks, and the tree for display.

A company has tens or hundreds of departments, never millions, so the whole parent map is read
in one query and walked in Python; that is one round trip on SQLite and PostgreSQL alike, and
simpler to get right than a recursive CTE per question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tessera.platform.models import Department

ParentMap = Mapping[int, int | None]


def parent_map(session: Session) -> dict[int, int | None]:
    rows = session.execute(sa.select(Department.id, Department.parent_id)).all()
    return {row.id: row.parent_id for row in rows}


def ancestors(parents: ParentMap, department_id: int) -> tuple[int, ...]:
    """The department and every department above it, nearest first."""
    chain: list[int] = []
    current: int | None = department_id
    while current is not None and current in parents and current not in chain:
        chain.append(current)
        current = parents[current]
    return tuple(chain)


def descendants(parents: ParentMap, department_id: int) -> tuple[int, ...]:
    """The department and every department below it, breadth first."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found = [department_id] if department_id in parents else []
    index = 0
    while index < len(found):
        for child in sorted(children.get(found[index], [])):
            if child not in found:
                found.append(child)
        index += 1
    return tuple(found)


def would_cycle(parents: ParentMap, department_id: int, new_parent_id: int | None) -> bool:
    """Moving ``department_id`` under ``new_parent_id`` would make it its own ancestor."""
    if new_parent_id is None:
        return False
    return department_id in ancestors(parents, new_parent_id)


@dataclass
class Node:
    department: Department
    depth: int
    children: list[Node] = field(default_factory=list)


def flattened_tree(session: Session) -> list[Node]:
    """Every department in tree order with its depth, for indented lists and select boxes."""
    departments = session.scalars(sa.select(Department).order_by(Department.name)).all()
    by_parent: dict[int | None, list[Department]] = {}
    for department in departments:
        by_parent.setdefault(department.parent_id, []).append(department)
    result: list[Node] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for department in by_parent.get(parent_id, []):
            if department.id in seen:
                continue
            seen.add(department.id)
            result.append(Node(department, depth))
            walk(department.id, depth + 1)

    walk(None, 0)
    return result
