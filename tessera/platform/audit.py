"""Audit rows: who did what, when, through which door, from where.

An audit row is added to the caller's session, so it commits or rolls back with the change it
describes.  Secrets never enter ``changes``: callers pass field names and old/new values of
ordinary fields only, and :func:`diff` drops any field whose name says it holds a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from tessera.platform.models import AuditEntry

SECRET_WORDS = ("password", "secret", "token_hash", "hash")


def client_ip() -> str | None:
    """The address the request came from (the proxy's job to set correctly: see the docs)."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    via: str = "web",
    entity: str | None = None,
    record_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    app: str | None = None,
) -> AuditEntry:
    """Add one audit row to ``session`` (committed with the caller's transaction)."""
    entry = AuditEntry(
        action=action[:40],
        actor_id=actor_id,
        via=via,
        entity=entity,
        record_id=record_id,
        app=app,
        changes=dict(changes or {}),
        ip=client_ip(),
    )
    session.add(entry)
    return entry


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields that changed, secrets left out."""
    changed: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        if any(word in key for word in SECRET_WORDS):
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            changed[key] = [old, new]
    return changed


def fields_of(obj: object, names: Iterable[str]) -> dict[str, Any]:
    """The current values of ``names`` on ``obj``: the before and after of an edit."""
    return {name: getattr(obj, name) for name in names}


def record_update(
    session: Session,
    action: str,
    *,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    actor_id: int | None,
    entity: str,
    record_id: int,
) -> dict[str, list[Any]]:
    """Record an edit with the fields it changed; an edit that changed nothing leaves no row."""
    changes = diff(before, after)
    if changes:
        record(
            session, action, actor_id=actor_id, entity=entity, record_id=record_id, changes=changes
        )
    return changes


def update(
    session: Session,
    action: str,
    obj: Any,
    values: Mapping[str, Any],
    *,
    actor_id: int | None,
    entity: str,
) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj`` (a row with an ``id``) and record the fields that changed: the
    edit pages read their form into ``values`` and leave the before and after to this."""
    before = fields_of(obj, values)
    for name, value in values.items():
        setattr(obj, name, value)
    return record_update(
        session,
        action,
        before=before,
        after=fields_of(obj, values),
        actor_id=actor_id,
        entity=entity,
        record_id=obj.id,
    )
