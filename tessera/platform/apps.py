"""The app registry: installed apps, their drafts and published versions.

An app's working copy is ``apps.draft``; publishing validates it, plans the schema change
against the live database, applies it, and stores the definition as a new immutable
``app_versions`` row — all in one transaction, so a failed publish leaves the tables, the data
and the version history as they were.  Rolling back publishes an earlier definition as a new
version (history stays a straight line), and fields that come back find their data again because
a confirmed drop only moved it aside.

Records services and pages ask :func:`published` for the compiled model and tables of an app's
live version; that is cached per process by (app, version).
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tessera.engines import definitions as defs
from tessera.engines.forms.search import ensure_search_index
from tessera.engines.messages import Phrase, _l, render
from tessera.platform import app_plans
from tessera.platform.app_plans import PlanLine
from tessera.platform.models import App, AppVersion, Department, Role, User, utcnow

EXPORT_FORMAT = "tessera.export/1"
PLATFORM_TABLES = defs.PlatformTables(users=User.__table__, departments=Department.__table__)  # type: ignore[arg-type]


class AppError(Exception):
    """A registry operation cannot be done; the message says why.

    ``template`` and ``params`` let the builder and the API say so in the reader's language
    (:func:`tessera.platform.i18n.error_text`); ``str()`` is the English sentence.  A message
    made elsewhere (a format error's) is its own template and is shown as it is."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params: dict[str, Any] = params
        super().__init__(render(template, params))

    @classmethod
    def said(cls, message: Phrase) -> AppError:
        """The error that says ``message``."""
        return cls(message.template, **message.params)


class AppNotFound(AppError):
    """No such app, or not published."""


#: what a version's note says when the registry wrote it (shown in the reader's language)
INSTALLED = _l("installed")
ROLLED_BACK = _l("rollback to version %(version)s")
_ROLLED_BACK = re.compile(r"^rollback to version (\d+)$")


@dataclass(frozen=True)
class PublishResult:
    """What a publish did (or would do): the plan's steps and the app's changes in words.

    ``plan`` and ``changes`` are their English lines (the CLI's); ``steps`` and ``changed``
    say the same in any language."""

    app: str
    version: int
    steps: tuple[PlanLine, ...]
    changed: tuple[defs.Change, ...]

    @property
    def plan(self) -> list[str]:
        return [str(line) for line in self.steps]

    @property
    def changes(self) -> list[str]:
        return [str(change) for change in self.changed]


@dataclass(frozen=True)
class PublishedApp:
    """The live version of an app, compiled once per process."""

    key: str
    version: int
    model: defs.AppModel
    metadata: sa.MetaData

    def table(self, entity: str) -> sa.Table:
        return self.metadata.tables[self.model.entity(entity).table]


# -- reading --------------------------------------------------------------------------------


def _app_row(conn: sa.Connection, key: str) -> sa.Row[Any]:
    row = conn.execute(sa.select(App.__table__).where(App.key == key)).first()
    if row is None:
        raise AppNotFound(_l("no app with the key “%(key)s” is installed"), key=key)
    return row


def _version_doc(conn: sa.Connection, app_id: int, version: int) -> dict[str, Any]:
    doc = conn.scalar(
        sa.select(AppVersion.definition).where(
            AppVersion.app_id == app_id, AppVersion.version == version
        )
    )
    if doc is None:
        raise AppError(_l("version %(version)s does not exist"), version=version)
    return dict(doc)


def list_apps(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every app with whether its draft differs from what is published, in one query."""
    apps = App.__table__
    versions = AppVersion.__table__
    rows = conn.execute(
        sa.select(apps, versions.c.definition.label("published_definition"))
        .select_from(apps)
        .outerjoin(
            versions,
            sa.and_(versions.c.app_id == apps.c.id, versions.c.version == apps.c.published_version),
        )
        .order_by(apps.c.key)
    ).all()
    return [
        {
            "key": r.key,
            "label": r.label,
            "published_version": r.published_version,
            "has_draft_changes": r.draft is not None
            and (r.published_version is None or r.draft != r.published_definition),
            "template": r.template,
        }
        for r in rows
    ]


def history(conn: sa.Connection, key: str) -> list[dict[str, Any]]:
    """Every version of ``key``, oldest first: number, time, publisher, note and ``plan`` (the
    steps applied, as :class:`~tessera.platform.app_plans.PlanLine`, whatever format stored
    them)."""
    app = _app_row(conn, key)
    rows = conn.execute(
        sa.select(AppVersion.version, AppVersion.published_at, AppVersion.published_by,
                  AppVersion.note, AppVersion.plan)
        .where(AppVersion.app_id == app.id)
        .order_by(AppVersion.version)
    ).all()  # fmt: skip
    return [dict(r._mapping) | {"plan": app_plans.read(r.plan)} for r in rows]


def note_message(note: str | None) -> Phrase | str | None:
    """A version's note as it is shown: the notes the registry writes (“installed”, “rollback to
    version 3”) as phrases in the reader's language, anything a person wrote as written."""
    if note == INSTALLED:
        return Phrase(INSTALLED)
    matched = _ROLLED_BACK.match(note or "")
    if matched:
        return Phrase(ROLLED_BACK, version=int(matched.group(1)))
    return note


def version_definition(conn: sa.Connection, key: str, version: int) -> dict[str, Any]:
    return _version_doc(conn, _app_row(conn, key).id, version)


def draft(conn: sa.Connection, key: str) -> dict[str, Any]:
    app = _app_row(conn, key)
    if app.draft is not None:
        return dict(app.draft)
    if app.published_version is None:
        raise AppError(_l("the app “%(key)s” has neither a draft nor a published version"), key=key)
    return _version_doc(conn, app.id, app.published_version)


def diff_versions(conn: sa.Connection, key: str, old: int, new: int) -> list[defs.Change]:
    """What changed from version ``old`` to ``new`` (``str()`` of each is its English)."""
    app = _app_row(conn, key)
    return defs.diff(_version_doc(conn, app.id, old), _version_doc(conn, app.id, new))


#: Compiled live versions by (database, app key, install time, version).  The database and the
#: install time are part of the key because one process may talk to several databases (tests,
#: tools) and an app may be removed and installed again under the same key.
_cache: dict[tuple[str, str, str, int], PublishedApp] = {}
_cache_lock = threading.Lock()


#: the registry columns :func:`published` reads, labelled for a statement that reads them
#: beside others (:func:`remember_live_row`)
LIVE_COLUMNS = (
    App.id.label("app_id"),
    App.published_version.label("app_published_version"),
    App.created_at.label("app_created_at"),
)
_LIVE_ROW = sa.select(*LIVE_COLUMNS).where(App.key == sa.bindparam("key"))
#: ``conn.info`` keys: the live versions already looked up in the connection's transaction,
#: and registry rows another statement of the transaction read
_MEMO = "tessera.published"
_PREFETCHED = "tessera.published.rows"
_databases: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()


def published(conn: sa.Connection, key: str) -> PublishedApp:
    """The live version of ``key`` (compiled model and tables), cached by version.

    Every process reads ``apps.published_version`` (one narrow row) to notice a publish made
    elsewhere, once per transaction: the answer is kept with the connection's transaction, so
    a request's permission hook and records service do not read it twice, and a transaction
    sees one version of the app throughout.
    """
    transaction = conn.get_transaction()
    memo: tuple[sa.RootTransaction, dict[str, PublishedApp]] | None = conn.info.get(_MEMO)
    if transaction is not None and memo is not None and memo[0] is transaction:
        kept: PublishedApp | None = memo[1].get(key)
        if kept is not None:
            return kept
    prefetched: tuple[sa.RootTransaction, dict[str, Any]] | None = conn.info.get(_PREFETCHED)
    if transaction is not None and prefetched is not None and prefetched[0] is transaction:
        app = prefetched[1].pop(key, None) or conn.execute(_LIVE_ROW, {"key": key}).first()
    else:
        app = conn.execute(_LIVE_ROW, {"key": key}).first()
    if app is None:
        raise AppNotFound(_l("no app with the key “%(key)s” is installed"), key=key)
    if app.app_published_version is None:
        raise AppNotFound(_l("the app “%(key)s” has not been published yet"), key=key)
    database = _databases.get(conn.engine)
    if database is None:
        database = _databases[conn.engine] = conn.engine.url.render_as_string(hide_password=True)
    cache_key = (database, key, str(app.app_created_at), int(app.app_published_version))
    with _cache_lock:
        hit = _cache.get(cache_key)
    if hit is None:
        model = defs.compile_app(_version_doc(conn, app.app_id, app.app_published_version))
        hit = PublishedApp(key, cache_key[3], model, defs.build_metadata(model, PLATFORM_TABLES))
        with _cache_lock:
            for stale in [k for k in _cache if k[:2] == cache_key[:2]]:
                del _cache[stale]
            _cache[cache_key] = hit
    if transaction is not None:
        if memo is None or memo[0] is not transaction:
            memo = conn.info[_MEMO] = (transaction, {})
        memo[1][key] = hit
    return hit


def remember_live_row(conn: sa.Connection, key: str, row: Any) -> None:
    """Keep the registry row of app ``key`` that another statement of this transaction read
    (``row`` has :data:`LIVE_COLUMNS`), so :func:`published` does not read it again.

    The API's token check reads it beside the token: on PostgreSQL that is one round trip of a
    request fewer.  A row without an app (``app_id`` None) is not kept: :func:`published`
    then reads the registry itself and says why the app cannot be used."""
    transaction = conn.get_transaction()
    if transaction is None or row.app_id is None:
        return
    kept: tuple[sa.RootTransaction, dict[str, Any]] | None = conn.info.get(_PREFETCHED)
    if kept is None or kept[0] is not transaction:
        kept = conn.info[_PREFETCHED] = (transaction, {})
    kept[1][key] = row


# -- changing -------------------------------------------------------------------------------


def _check(doc: Any) -> dict[str, Any]:
    """Upgrade and validate ``doc``; raise InvalidDefinition with every error."""
    try:
        upgraded = defs.upgrade(doc)
    except defs.FormatError as exc:
        raise defs.InvalidDefinition(
            [defs.DefinitionError(("format",), str(exc), "format")]
        ) from None
    errors = defs.validate(upgraded)
    if errors:
        raise defs.InvalidDefinition(errors)
    return dict(upgraded)


KEY_CHANGED = _l("the app key cannot change (from “%(old)s” to “%(new)s”)")


def create(
    conn: sa.Connection, doc: Any, *, template: str | None = None, actor_id: int | None = None
) -> str:
    """Add an app with ``doc`` as its draft (not yet published); returns its key."""
    upgraded = _check(doc)
    key = upgraded["key"]
    if conn.scalar(sa.select(App.id).where(App.key == key)) is not None:
        raise AppError(_l("an app with the key “%(key)s” is installed already"), key=key)
    conn.execute(
        sa.insert(App).values(
            key=key, label=upgraded["label"] if isinstance(upgraded["label"], dict)
            else {"en": upgraded["label"]},
            draft=upgraded, draft_updated_at=utcnow(), template=template, created_by=actor_id,
        )
    )  # fmt: skip
    return str(key)


def save_draft(conn: sa.Connection, key: str, doc: Any) -> list[defs.DefinitionError]:
    """Keep ``doc`` as the draft, even when it has errors, and return them (best first).

    The builder saves after every step so a draft survives a reload; an unfinished design is
    allowed to be wrong, and publishing refuses it until it is right.  What is refused here is
    only what would make the draft someone else's: a document that is not an object, or one
    whose app key differs.
    """
    app = _app_row(conn, key)
    if not isinstance(doc, dict):
        raise AppError(_l("a draft must be a JSON object"))
    if doc.get("key") != key:
        raise AppError(KEY_CHANGED, old=key, new=str(doc.get("key")))
    try:
        upgraded: dict[str, Any] = dict(defs.upgrade(doc))
    except defs.FormatError as exc:
        raise AppError(str(exc)) from None
    errors = defs.validate(upgraded)
    conn.execute(
        sa.update(App).where(App.id == app.id).values(draft=upgraded, draft_updated_at=utcnow())
    )
    return errors


def preview(conn: sa.Connection, key: str, doc: Mapping[str, Any] | None = None) -> PublishResult:
    """What publishing the draft (or ``doc``) would do, without doing it."""
    app = _app_row(conn, key)
    new_doc = _check(doc if doc is not None else draft(conn, key))
    old_doc = _version_doc(conn, app.id, app.published_version) if app.published_version else None
    old = defs.compile_app(old_doc) if old_doc else None
    version = (app.published_version or 0) + 1
    schema_plan = defs.plan(
        conn, old, defs.compile_app(new_doc), PLATFORM_TABLES, tag=f"v{version}"
    )
    changes = tuple(defs.diff(old_doc, new_doc)) if old_doc else ()
    return PublishResult(key, version, app_plans.lines_of(schema_plan), changes)


def publish(
    engine: sa.Engine,
    key: str,
    *,
    confirm_destructive: bool = False,
    actor_id: int | None = None,
    note: str | None = None,
    doc: Mapping[str, Any] | None = None,
) -> PublishResult:
    """Publish the draft (or ``doc``) as the next version, schema change included, atomically.

    Raises :class:`~tessera.engines.definitions.DestructiveChangeRefused` (nothing changed) when
    the change can lose data and ``confirm_destructive`` is false.
    """
    with defs.schema_transaction(engine) as conn:
        app = _app_row(conn, key)
        new_doc = _check(doc if doc is not None else draft(conn, key))
        if new_doc["key"] != key:
            raise AppError(KEY_CHANGED, old=key, new=str(new_doc["key"]))
        old_doc = (
            _version_doc(conn, app.id, app.published_version) if app.published_version else None
        )
        if old_doc is not None and not confirm_destructive:
            renamed = defs.key_changes_said(old_doc, new_doc)
            if renamed is not None:
                raise AppError.said(renamed)
        old = defs.compile_app(old_doc) if old_doc else None
        new = defs.compile_app(new_doc)
        version = (app.published_version or 0) + 1
        schema_plan = defs.plan(conn, old, new, PLATFORM_TABLES, tag=f"v{version}")
        defs.apply(conn, schema_plan, confirm_destructive=confirm_destructive)
        ensure_search_index(conn, new, schema_plan.metadata)
        changes = tuple(defs.diff(old_doc, new_doc)) if old_doc else ()
        steps = app_plans.lines_of(schema_plan)
        conn.execute(
            sa.insert(AppVersion).values(
                app_id=app.id, version=version, definition=new_doc, plan=app_plans.stored(steps),
                note=note, published_at=utcnow(), published_by=actor_id,
            )
        )  # fmt: skip
        label = new_doc["label"] if isinstance(new_doc["label"], dict) else {"en": new_doc["label"]}
        conn.execute(
            sa.update(App)
            .where(App.id == app.id)
            .values(
                published_version=version, draft=new_doc, draft_updated_at=utcnow(), label=label
            )
        )
        ensure_roles(conn, new_doc)
    return PublishResult(key, version, steps, changes)


def ensure_roles(conn: sa.Connection, doc: Mapping[str, Any]) -> list[str]:
    """Create a platform role for each role key the app declares that has none yet (labels from
    the definition), so administrators can assign users; existing roles are left alone."""
    wanted = {r["key"]: r.get("label") for r in doc.get("roles") or () if isinstance(r, Mapping)}
    if not wanted:
        return []
    existing = set(conn.scalars(sa.select(Role.key).where(Role.key.in_(sorted(wanted)))))
    created = [k for k in sorted(wanted) if k not in existing]
    for key in created:
        label = wanted[key]
        conn.execute(
            sa.insert(Role).values(
                key=key,
                label=label if isinstance(label, dict) else {"en": str(label or key)},
                created_at=utcnow(),
            )
        )
    return created


def rollback(
    engine: sa.Engine, key: str, version: int, *, confirm_destructive: bool = False,
    actor_id: int | None = None,
) -> PublishResult:  # fmt: skip
    """Publish version ``version``'s definition again, as a new version."""
    with engine.connect() as conn:
        doc = version_definition(conn, key, version)
    return publish(
        engine, key, doc=doc, confirm_destructive=confirm_destructive, actor_id=actor_id,
        note=render(ROLLED_BACK, {"version": version}),
    )  # fmt: skip


def template_path(name: str) -> Path | None:
    """The definition file of a shipped template (``crm``, ``ma``), if there is one."""
    if not name.replace("_", "").isalnum():
        return None
    candidate = resources.files("tessera") / "app_templates" / name / "app.json"
    path = Path(str(candidate))
    return path if path.is_file() else None


def read_definition(source: str) -> tuple[dict[str, Any], str | None]:
    """A definition from a template name or a JSON file; returns (document, template name)."""
    path = template_path(source)
    template = source if path else None
    path = path or Path(source)
    if not path.is_file():
        raise AppError(f"“{source}” is neither a template nor a file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AppError(f"{path} is not a JSON file: {exc}") from None
    if isinstance(doc, dict) and doc.get("format") == EXPORT_FORMAT:
        raise AppError(f"{path} is an export file; use 'tessera app import'")
    return doc, template


def install(
    engine: sa.Engine, doc: Any, *, template: str | None = None, actor_id: int | None = None
) -> PublishResult:
    """Create an app from ``doc`` and publish it as version 1, in one go."""
    with engine.begin() as conn:
        key = create(conn, doc, template=template, actor_id=actor_id)
    try:
        return publish(engine, key, actor_id=actor_id, note=INSTALLED)
    except Exception:
        with engine.begin() as conn:  # leave nothing half-installed
            conn.execute(sa.delete(App).where(App.key == key))
        raise
