"""App permissions on the platform side: who a caller is to an app's policy, and record sharing.

:func:`init_app` installs :func:`scope_provider` as the records service's permission hook
(``tessera.platform.records.set_scope_provider``), so every records service the API, the pages,
exports and imports build for a caller is scoped by the app's ``roles``.  The policy is compiled
once per published version (:func:`policy_of`); the caller's facts (department tree, role keys,
platform role) are read in the caller's connection.

* System administrators, and platform work that no user or rule started (an
  :class:`~tessera.engines.forms.Actor` with no user and ``via`` system), are not restricted.
* Automations (``Identity.automation``: ``automation:<rule key>``) are bound to their own app:
  there every record and field (or what the app roles they run with grant), elsewhere nothing.
* An app that declares no entity permissions keeps the open default: every member may do
  everything.  Once it declares some, a member with none of its roles sees nothing.

Record sharing (``record_shares``) adds single records to a user's scope: shared with the user or
with their department (or a department above it), to ``read`` or to ``edit``.  The API is
``POST``/``DELETE /api/v1/apps/<app>/<entity>/<id>/shares``; whoever may change a record may
share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, request

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import (
    Actor,
    DenyAll,
    NotFound,
    PermissionDenied,
    RecordService,
    Scope,
    ValidationFailed,
)
from tessera.engines.forms.compiled import compile_records, record_tables
from tessera.engines.forms.permissions import Facts, Policy, PolicyScope
from tessera.engines.memo import PerObject
from tessera.engines.messages import _l
from tessera.platform import apps, records
from tessera.platform.api import problems
from tessera.platform.identity.current import Identity
from tessera.platform.models import Department, RecordShare, Role, RoleMembership, User, utcnow
from tessera.platform.runtime import current_platform

SHARES: sa.Table = RecordShare.__table__  # type: ignore[assignment]
#: actors that are automations, not people: they run unrestricted (and are named in the audit)
AUTOMATION_VIAS = ("rule", "process", "system")

#: compiled policies by published model (each published version is compiled once per process)
_policies: PerObject[Policy] = PerObject(limit=64)


def policy_of(live: apps.PublishedApp) -> Policy:
    """The compiled permission model of a published version (cached with its model)."""
    return _policies.made(live.model, lambda: Policy.from_doc(live.model.to_doc()))


# -- who the caller is ---------------------------------------------------------------------------
def _departments(conn: sa.Connection) -> dict[int, int | None]:
    return {r.id: r.parent_id for r in conn.execute(sa.select(Department.id, Department.parent_id))}


def _tree(parents: Mapping[int, int | None], root: int) -> tuple[int, ...]:
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, queue = [root], [root]
    while queue:
        for child in children.get(queue.pop(0), ()):
            if child not in found:
                found.append(child)
                queue.append(child)
    return tuple(found)


def _above(parents: Mapping[int, int | None], start: int) -> tuple[int, ...]:
    chain: list[int] = []
    current: int | None = start
    while current is not None and current in parents and current not in chain:
        chain.append(current)
        current = parents[current]
    return tuple(chain)


class Caller:
    """A user as the permission engine sees them, read in the caller's connection."""

    def __init__(self, conn: sa.Connection, user_id: int | None) -> None:
        self.user_id = user_id
        self.platform_role = ""
        self.department_id: int | None = None
        self.ancestors: tuple[int, ...] = ()
        tree: tuple[int, ...] = ()
        roles: frozenset[str] = frozenset()
        row = None
        if user_id is not None:
            row = conn.execute(
                sa.select(User.platform_role, User.department_id, User.is_active).where(
                    User.id == user_id
                )
            ).first()
        if row is not None and row.is_active:
            self.platform_role = row.platform_role
            self.department_id = row.department_id
            roles = frozenset(
                conn.scalars(
                    sa.select(Role.key)
                    .join(RoleMembership, RoleMembership.role_id == Role.id)
                    .where(RoleMembership.user_id == user_id)
                )
            )
            if row.department_id is not None:
                parents = _departments(conn)
                tree = _tree(parents, row.department_id)
                self.ancestors = _above(parents, row.department_id)
        self.facts = Facts(
            user_id if row is not None and row.is_active else None,
            self.department_id, tree, roles,
        )  # fmt: skip

    @property
    def is_system_admin(self) -> bool:
        return self.platform_role == "system_admin"


def may_open(conn: sa.Connection, app_key: str, identity: Identity) -> bool:
    """Whether ``identity`` may open the published app (``open_app`` of one of its roles)."""
    if identity.is_system_admin:
        return True
    live = apps.published(conn, app_key)
    policy = policy_of(live)
    facts = Facts(identity.user_id, identity.department_id, (), identity.role_keys)
    return policy.may_open(facts)


def may_build(conn: sa.Connection, app_key: str, identity: Identity) -> bool:
    """Whether ``identity`` may open ``app_key`` in the builder and change it.

    System administrators always.  When a role of the published version says ``build_app``,
    exactly the holders of such a role (whatever their platform role: the definition delegates
    building that one app); otherwise every app builder.  A draft never published belongs to
    the app builders.  Building implies seeing every record (a builder can publish any role),
    so this is also the right to export the app with its data.
    """
    if identity.is_system_admin:
        return True
    try:
        live = apps.published(conn, app_key)
    except apps.AppError:
        return identity.has_platform_role("app_builder")
    policy = policy_of(live)
    if policy.restricts_building:
        facts = Facts(identity.user_id, identity.department_id, (), identity.role_keys)
        return policy.may_build(facts)
    return identity.has_platform_role("app_builder")


def buildable_apps(conn: sa.Connection, identity: Identity) -> set[str]:
    """The keys of the apps ``identity`` may build (for the app manager)."""
    return {a["key"] for a in apps.list_apps(conn) if may_build(conn, a["key"], identity)}


# -- the scope --------------------------------------------------------------------------------
def automation_actor(identity: Identity) -> Actor:
    """The records service's actor for an automation identity (``Identity.automation``)."""
    if not identity.is_automation or identity.automation_app is None:
        raise ValueError("not an automation identity: build one with Identity.automation")
    via: Any = identity.via
    return Actor(
        user_id=None, via=via, name=identity.name, key=identity.actor_key,
        app=identity.automation_app, roles=identity.role_keys, time_zone=identity.time_zone,
        locale=identity.locale,
    )  # fmt: skip


def scope_provider(conn: sa.Connection, app_key: str, actor: Actor) -> Scope | None:
    """The records service's scope for ``actor`` (None: unrestricted)."""
    if actor.is_automation:
        return automation_scope(conn, app_key, actor)
    if actor.user_id is None and actor.via == "system":
        return None
    if actor.user_id is None and actor.via in AUTOMATION_VIAS:
        return DenyAll()  # a rule or process acts as its named automation identity, or not at all
    live = apps.published(conn, app_key)
    policy = policy_of(live)
    if not policy.enabled:
        return None
    caller = Caller(conn, actor.user_id)
    if caller.is_system_admin:
        return None
    return _scope(conn, live, policy, caller, actor)


def automation_scope(conn: sa.Connection, app_key: str, actor: Actor) -> Scope | None:
    """An automation's scope: nothing outside its own app; in it, everything unless it runs
    with app roles, then what they grant to a user with no department who owns nothing."""
    if actor.app != app_key:
        return DenyAll()
    if not actor.roles:
        return None
    live = apps.published(conn, app_key)
    policy = policy_of(live)
    if not policy.enabled:
        return None
    import tessera.engines.expressions as ex

    context = ex.EvalContext(
        now=utcnow(), user_id=None, department_id=None, time_zone=actor.time_zone,
        locale=actor.locale,
    )  # fmt: skip
    return policy.scope(
        Facts(None, None, (), actor.roles), conn=conn, app=live.model,
        tables=record_tables(live.metadata, live.model), schema=compile_records(live.model).schema,
        context=context, shared=None,
    )  # fmt: skip


def _scope(
    conn: sa.Connection,
    live: apps.PublishedApp,
    policy: Policy,
    caller: Caller,
    actor: Actor,
) -> PolicyScope:
    import tessera.engines.expressions as ex

    def shared(entity: str, access: str) -> sa.Select[Any] | None:
        if caller.facts.user_id is None:
            return None
        grantee = SHARES.c.user_id == caller.facts.user_id
        if caller.ancestors:
            grantee = sa.or_(grantee, SHARES.c.department_id.in_(caller.ancestors))
        query = sa.select(SHARES.c.record_id).where(
            SHARES.c.app == live.key, SHARES.c.entity == entity, grantee
        )
        if access == "edit":
            query = query.where(SHARES.c.access == "edit")
        return query

    context = ex.EvalContext(
        now=utcnow(), user_id=caller.facts.user_id, department_id=caller.facts.department_id,
        time_zone=actor.time_zone, locale=actor.locale,
    )  # fmt: skip
    return policy.scope(
        caller.facts,
        conn=conn,
        app=live.model,
        tables=record_tables(live.metadata, live.model),
        schema=compile_records(live.model).schema,
        context=context,
        shared=shared,
    )


# -- sharing ------------------------------------------------------------------------------------
def _shared_record(
    conn: sa.Connection,
    app_key: str,
    entity: str,
    record_id: int,
    actor: Actor,
    *,
    refuse_child: bool = True,
) -> tuple[RecordService, EntityModel, sa.RowMapping]:
    """The records service of ``actor``, the entity and the row of the record whose shares are
    read or changed (NotFound for a record ``actor`` may not see).  A child table's rows are
    never shared: reading or adding their shares is refused (withdrawing finds nothing)."""
    service = records.service_for(
        conn, app_key, actor, scope=records.scope_for(conn, app_key, actor)
    )
    model = service.entity(entity)
    if refuse_child and model.child:
        raise NotFound(_l("there is no entity “%(key)s”"), key=entity[:40])
    return service, model, service.row(model, record_id)


def _check_may_share(
    conn: sa.Connection, app_key: str, entity: str, record_id: int, actor: Actor, *, adding: bool
) -> None:
    """Sharing a record, or withdrawing a share, needs the right to change it."""
    service, model, row = _shared_record(
        conn, app_key, entity, record_id, actor, refuse_child=adding
    )
    if not service.scope.can("update", model, {**row, "id": record_id}):
        raise PermissionDenied(_l("you may not share this %(entity)s"), entity=model.named())


def share(
    conn: sa.Connection,
    app_key: str,
    entity: str,
    record_id: int,
    actor: Actor,
    *,
    user_id: int | None = None,
    department_id: int | None = None,
    access: Any = "read",
) -> dict[str, Any]:
    """Share a record the actor may change with a user or a department; returns the share."""
    if access not in ("read", "edit"):  # also refuses anything that is not text
        raise ValidationFailed.one("access", _l("access is read or edit"), "bad_value")
    if (user_id is None) == (department_id is None):
        raise ValidationFailed.one("", _l("share with exactly one user or department"), "bad_body")
    _check_may_share(conn, app_key, entity, record_id, actor, adding=True)
    if (
        user_id is not None
        and conn.scalar(sa.select(User.id).where(User.id == user_id, User.is_active.is_(True)))
        is None
    ):
        raise ValidationFailed.one("user", _l("there is no user #%(id)s"), "not_found", id=user_id)
    if (
        department_id is not None
        and conn.scalar(sa.select(Department.id).where(Department.id == department_id)) is None
    ):
        raise ValidationFailed.one(
            "department", _l("there is no department #%(id)s"), "not_found", id=department_id
        )
    grantee = (
        SHARES.c.user_id == user_id
        if user_id is not None
        else SHARES.c.department_id == department_id
    )
    where = (
        SHARES.c.app == app_key,
        SHARES.c.entity == entity,
        SHARES.c.record_id == record_id,
        grantee,
    )
    conn.execute(sa.delete(SHARES).where(*where))
    values = {
        "app": app_key, "entity": entity, "record_id": record_id, "user_id": user_id,
        "department_id": department_id, "access": access, "created_by": actor.user_id,
        "created_at": utcnow(),
    }  # fmt: skip
    share_id = conn.execute(sa.insert(SHARES).values(**values).returning(SHARES.c.id)).scalar_one()
    return {"id": int(share_id), **{k: v for k, v in values.items() if k != "created_at"}}


def unshare(
    conn: sa.Connection,
    app_key: str,
    entity: str,
    record_id: int,
    actor: Actor,
    *,
    user_id: int | None = None,
    department_id: int | None = None,
) -> int:
    """Withdraw a share; returns how many shares were removed."""
    _check_may_share(conn, app_key, entity, record_id, actor, adding=False)
    where = [SHARES.c.app == app_key, SHARES.c.entity == entity, SHARES.c.record_id == record_id]
    if user_id is not None:
        where.append(SHARES.c.user_id == user_id)
    if department_id is not None:
        where.append(SHARES.c.department_id == department_id)
    return int(conn.execute(sa.delete(SHARES).where(*where)).rowcount or 0)


def shares_of(
    conn: sa.Connection, app_key: str, entity: str, record_id: int
) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(SHARES)
        .where(SHARES.c.app == app_key, SHARES.c.entity == entity, SHARES.c.record_id == record_id)
        .order_by(SHARES.c.id)
    ).mappings()
    return [dict(r) for r in rows]


# -- HTTP ----------------------------------------------------------------------------------------
blueprint = Blueprint("record_shares", __name__, url_prefix="/api/v1")
problems.register(blueprint)


def _id(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise ValidationFailed.one(path, _l("give an id (a positive whole number)"), "type")
    return value


@blueprint.route("/apps/<app>/<entity>/<record>/shares", methods=["GET", "POST", "DELETE"])
def shares_view(app: str, entity: str, record: str) -> Response:
    """List (GET), add (POST ``{"user": 7, "access": "edit"}`` or ``{"department": 3}``) or
    withdraw (DELETE, same body without access) the shares of one record."""
    from tessera.platform.api import records as api

    identity = api.require("records:read" if request.method == "GET" else "records:write")
    number = api.record_id(record)
    actor = identity.actor("api")
    body = api.body_object() if request.method != "GET" else {}
    unknown = sorted(set(body) - {"user", "department", "access"})
    if unknown:
        raise problems.bad_body(
            f"unknown key “{str(unknown[0])[:40]}”; use user, department and access"
        )
    user_id = _id(body.get("user"), "user")
    department_id = _id(body.get("department"), "department")
    access = body.get("access", "read")
    with current_platform().db.engine.begin() as conn:
        apps.published(conn, app)
        if request.method == "GET":
            _shared_record(conn, app, entity, number, actor)  # one the actor may see
            return api.json_response({"shares": shares_of(conn, app, entity, number)})
        if request.method == "POST":
            made = share(
                conn, app, entity, number, actor, user_id=user_id,
                department_id=department_id, access=access,
            )  # fmt: skip
            return api.json_response(made, 201)
        removed = unshare(
            conn, app, entity, number, actor, user_id=user_id, department_id=department_id
        )
        return api.json_response({"removed": removed})


def init_app(app: Flask) -> None:
    """Install the permission hook for every records service, and the sharing API."""
    records.set_scope_provider(scope_provider)
    app.register_blueprint(blueprint)
