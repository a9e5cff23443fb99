"""What every runtime page starts from: the app's live version, the actor and a records service.

A page opens :func:`open_app` once; it yields a :class:`Runtime` whose connection is in one
transaction (committed when the page returns normally, rolled back when it raises), and whose
records service is the only way the page reads or writes records.  The parts of a definition
the engine's compiled model does not carry (forms, views, navigation) are read from the
published document and cached with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from flask import abort

from tessera.engines.definitions import AppModel, EntityModel, humanise
from tessera.engines.forms import NotFound, RecordService
from tessera.engines.memo import PerObject
from tessera.platform import apps, audit, i18n, permissions
from tessera.platform.identity.current import Identity, require_identity
from tessera.platform.models import App
from tessera.platform.records import PlatformJournal, scope_for
from tessera.platform.runtime import current_platform

_docs: PerObject[dict[str, Any]] = PerObject(limit=64)


def app_doc(model: AppModel) -> dict[str, Any]:
    """The published definition as a document (cached per compiled model)."""

    def make() -> dict[str, Any]:
        doc = dict(model.to_doc())
        doc["_model"] = model
        doc["_entities"] = {e["key"]: e for e in doc.get("entities", ())}
        return doc

    return _docs.made(model, make)


@dataclass
class Runtime:
    """One page's view of one app."""

    conn: sa.Connection
    live: apps.PublishedApp
    identity: Identity
    service: RecordService
    locale: str

    @property
    def model(self) -> AppModel:
        return self.live.model

    @property
    def key(self) -> str:
        return self.live.key

    @cached_property
    def doc(self) -> dict[str, Any]:
        return app_doc(self.live.model)

    def entity(self, key: str) -> EntityModel:
        """An entity users may open as a page (child rows live inside their parent)."""
        if not self.model.has_entity(key) or self.model.entity(key).child:
            abort(404)
        return self.model.entity(key)

    def entity_doc(self, key: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self.doc["_entities"].get(key, {})
        return found

    def label(self, value: Any, fallback: str = "") -> str:
        return i18n.localised(value, self.locale, fallback)

    def app_label(self) -> str:
        return self.label(self.doc.get("label"), humanise(self.key))

    def entity_label(self, entity: EntityModel, plural: bool = False) -> str:
        doc = self.entity_doc(entity.key)
        if plural and doc.get("plural_label"):
            return self.label(doc["plural_label"], entity.label(self.locale))
        return entity.label(self.locale)

    def views(self, entity: str, kind: str | None = None) -> list[Mapping[str, Any]]:
        found = self.entity_doc(entity).get("views", ())
        return [v for v in found if kind is None or v.get("type") == kind]

    def view(self, entity: str, key: str | None, kind: str) -> Mapping[str, Any] | None:
        """The definition's view ``key`` of type ``kind``, or the first of that type."""
        candidates = self.views(entity, kind)
        if key:
            return next((v for v in candidates if v.get("key") == key), None)
        return candidates[0] if candidates else None


@contextmanager
def open_app(app_key: str) -> Iterator[Runtime]:
    """The live app ``app_key`` for the signed-in user, in one transaction; 404 when there is
    no such published app."""
    identity = require_identity()
    platform = current_platform()
    with platform.db.engine.begin() as conn:
        try:
            live = apps.published(conn, app_key)
        except apps.AppError:
            abort(404)
        # service_for would look the live version up again; build the same service from it
        if not permissions.may_open(conn, app_key, identity):
            abort(403)
        actor = identity.actor("page", locale=i18n.current_locale())
        service = RecordService(
            conn, live.model, live.metadata, PlatformJournal(audit.client_ip()),
            actor, cursor_key=platform.settings.secret_key.encode(),
            scope=scope_for(conn, app_key, actor),
        )  # fmt: skip
        yield Runtime(conn, live, identity, service, i18n.current_locale())


def published_apps(conn: sa.Connection, identity: Identity) -> list[dict[str, Any]]:
    """The published apps ``identity`` may open (``open_app`` of the app's roles).  Every page's
    app switcher asks, so this reads keys and labels only (not :func:`apps.list_apps`, which
    loads every definition) and the compiled policies come from the published-app cache."""
    table = App.__table__
    rows = conn.execute(
        sa.select(table.c.key, table.c.label)
        .where(table.c.published_version.is_not(None))
        .order_by(table.c.key)
    ).all()
    out = []
    for row in rows:
        try:
            allowed = permissions.may_open(conn, row.key, identity)
        except apps.AppError:
            continue  # unpublished between the two reads
        if allowed:
            out.append({"key": row.key, "label": row.label, "url": f"/apps/{row.key}/"})
    return out


def record_or_404(runtime: Runtime, entity: str, record_id: int) -> dict[str, Any]:
    try:
        return runtime.service.get(entity, record_id)
    except NotFound:
        abort(404)
