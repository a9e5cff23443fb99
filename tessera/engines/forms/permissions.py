"""The permission model of an app definition, compiled once, and the scope it gives one user.

A definition's ``roles`` declare, per role and entity, which actions the role may take and on
which records (the *record scope*), and per field whether it is hidden or read-only:

    {"key": "sales_rep", "open_app": true, "build_app": false,
     "entities": {"lead": {"read": "own", "create": "own", "update": "own",
                           "fields": {"score": "read_only"}}}}

Record scopes: ``own`` (the record's owner is the user), ``department`` (the owner is in the
user's department), ``department_tree`` (… or in a department below it), ``all``, or
``{"formula": "…"}`` (a yes/no formula over the record, with ``CURRENT_USER()`` and
``CURRENT_DEPARTMENT()`` bound to the user).  A user with several roles gets the union: a record
is visible when any role's scope takes it in; a field is hidden or read-only only when every
role that grants the entity says so.  Records shared with the user or their department
(``shared`` below) are added to the read scope, and to the update scope for ``edit`` shares.

:class:`Policy` is pure (built from the document); :meth:`Policy.scope` builds the
:class:`~.context.Scope` the records service asks, with conditions in SQLAlchemy Core — never
names pasted into SQL.  An app whose roles declare no entity permissions at all has no policy
(``Policy.enabled`` is False): every signed-in member may do everything, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.definitions import AppModel, EntityModel, FieldModel
from tessera.engines.forms.context import Action
from tessera.engines.forms.errors import ValidationFailed
from tessera.engines.forms.filters import FilterCompiler

ACTIONS = ("create", "read", "update", "delete", "import", "export")
SCOPES = ("own", "department", "department_tree", "all")
FIELD_RULES = ("hidden", "read_only")
#: the service's actions as the definition names them
_ACTION_OF: dict[str, str] = {"restore": "delete", "purge": "delete"}

#: ``shared(entity_key, access) -> ids subquery or None``: records shared with the user for
#: ``read`` (any share) or ``edit``.
Shared = Callable[[str, str], sa.Select[Any] | None]


@dataclass(frozen=True)
class Facts:
    """What the policy needs to know about a user (the platform fills it from its identity)."""

    user_id: int | None
    department_id: int | None = None
    #: the user's department and every department below it
    department_tree: tuple[int, ...] = ()
    role_keys: frozenset[str] = frozenset()
    time_zone: str = "UTC"
    locale: str = "en"


@dataclass(frozen=True)
class EntityGrant:
    """One role's rights on one entity: action -> scope, field -> hidden | read_only."""

    actions: Mapping[str, str | Mapping[str, str]]
    fields: Mapping[str, str]


@dataclass(frozen=True)
class RoleGrant:
    key: str
    open_app: bool
    build_app: bool
    entities: Mapping[str, EntityGrant]


@dataclass(frozen=True)
class Policy:
    """The compiled ``roles`` of one app version."""

    roles: Mapping[str, RoleGrant] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Policy:
        roles: dict[str, RoleGrant] = {}
        for role in doc.get("roles") or ():
            if not isinstance(role, Mapping) or not isinstance(role.get("key"), str):
                continue
            entities = {
                str(key): EntityGrant(
                    {a: spec[a] for a in ACTIONS if a in spec},
                    dict(spec.get("fields") or {}),
                )
                for key, spec in (role.get("entities") or {}).items()
                if isinstance(spec, Mapping)
            }
            roles[role["key"]] = RoleGrant(
                role["key"], bool(role.get("open_app", True)), bool(role.get("build_app", False)),
                entities,
            )  # fmt: skip
        return cls(roles)

    @property
    def enabled(self) -> bool:
        """Whether the app declares any entity permission (else: no restrictions)."""
        return any(r.entities for r in self.roles.values())

    def held(self, facts: Facts) -> list[RoleGrant]:
        return [r for key, r in self.roles.items() if key in facts.role_keys]

    def may_open(self, facts: Facts) -> bool:
        if not self.enabled:
            return True
        return any(r.open_app for r in self.held(facts))

    @property
    def restricts_building(self) -> bool:
        """Whether some role says ``build_app``: then only its holders may build the app."""
        return any(r.build_app for r in self.roles.values())

    def may_build(self, facts: Facts) -> bool:
        return any(r.build_app for r in self.held(facts))

    def scope(
        self,
        facts: Facts,
        *,
        conn: sa.Connection,
        app: AppModel,
        tables: Mapping[str, sa.Table],
        schema: ex.ExprSchema,
        context: ex.EvalContext,
        shared: Shared | None = None,
    ) -> PolicyScope:
        return PolicyScope(self, facts, conn, app, tables, schema, context, shared)


class PolicyScope:
    """The :class:`~.context.Scope` of one user in one app (see the module docstring)."""

    def __init__(
        self,
        policy: Policy,
        facts: Facts,
        conn: sa.Connection,
        app: AppModel,
        tables: Mapping[str, sa.Table],
        schema: ex.ExprSchema,
        context: ex.EvalContext,
        shared: Shared | None,
    ) -> None:
        self.policy, self.facts, self.conn, self.app = policy, facts, conn, app
        self.tables, self.schema, self.context, self.shared = tables, schema, context, shared
        self.roles = policy.held(facts)
        self._hidden: dict[str, set[str]] = {}

    # -- grants ----------------------------------------------------------------------------
    def grants(self, entity: EntityModel) -> list[EntityGrant]:
        return [r.entities[entity.key] for r in self.roles if entity.key in r.entities]

    def specs(self, action: str, entity: EntityModel) -> list[str | Mapping[str, str]]:
        wanted = _ACTION_OF.get(action, action)
        return [g.actions[wanted] for g in self.grants(entity) if wanted in g.actions]

    # -- conditions --------------------------------------------------------------------------
    def condition(self, action: str, entity: EntityModel, table: sa.Table) -> Any:
        """The rows ``action`` may touch: None for every row, else a Core condition."""
        parts: list[Any] = []
        for spec in self.specs(action, entity):
            part = self._one(spec, entity, table)
            if part is None:
                return None
            parts.append(part)
        access = "edit" if action in ("update", "delete", "restore", "purge") else "read"
        if self.shared is not None and action in ("read", "update"):
            ids = self.shared(entity.key, access)
            if ids is not None:
                parts.append(table.c.id.in_(ids))
        return sa.or_(*parts) if parts else sa.false()

    def _one(self, spec: str | Mapping[str, str], entity: EntityModel, table: sa.Table) -> Any:
        user, facts = self.facts.user_id, self.facts
        if spec == "all":
            return None
        if user is None:
            return sa.false()
        own = table.c.owner_id == user
        if spec == "own" or (spec in ("department", "department_tree") and not facts.department_id):
            return own
        users = self.tables["users"]
        if spec == "department":
            team = sa.select(users.c.id).where(users.c.department_id == facts.department_id)
            return sa.or_(own, table.c.owner_id.in_(team))
        if spec == "department_tree":
            tree = facts.department_tree or (facts.department_id,)
            team = sa.select(users.c.id).where(users.c.department_id.in_(tree))
            return sa.or_(own, table.c.owner_id.in_(team))
        if isinstance(spec, Mapping) and isinstance(spec.get("formula"), str):
            compiler = FilterCompiler(
                self.app, entity, table, self.tables, self.schema, self.context,
                self.conn.dialect.name,
            )  # fmt: skip
            try:
                return compiler.formula(spec["formula"], "scope")
            except ValidationFailed:
                return sa.false()  # a broken scope formula shows nothing (fail closed)
        return sa.false()

    # -- the Scope protocol ------------------------------------------------------------------
    def read_filter(self, entity: EntityModel, table: sa.Table) -> sa.ColumnElement[bool] | None:
        if entity.child:
            return None  # child rows are reached through their parent, which is scoped
        condition: sa.ColumnElement[bool] | None = self.condition("read", entity, table)
        return condition

    def can(self, action: Action, entity: EntityModel, record: Mapping[str, Any] | None) -> bool:
        if entity.child:
            return True
        if not self.specs(action, entity):
            return False
        if record is None or action == "read":
            return True  # reads of one record went through read_filter already
        table = self.tables[entity.key]
        condition = self.condition(action, entity, table)
        if condition is None:
            return True
        found = self.conn.scalar(
            sa.select(table.c.id).where(table.c.id == record.get("id"), condition)
        )
        return found is not None

    def refused(
        self, action: Action, entity: EntityModel, records: Sequence[Mapping[str, Any]]
    ) -> list[Any]:
        """:meth:`can` for many stored records: one query for the lot."""
        ids = [r.get("id") for r in records]
        if entity.child or not ids:
            return []
        if not self.specs(action, entity):
            return ids
        table = self.tables[entity.key]
        condition = self.condition(action, entity, table)
        if condition is None:
            return []
        query = sa.select(table.c.id).where(table.c.id.in_(ids), condition)
        allowed = set(self.conn.scalars(query))
        return [i for i in ids if i not in allowed]

    def may(self, action: str, entity: EntityModel) -> bool:
        """Whether any role grants ``action`` (import, export …) on ``entity`` at all."""
        return entity.child or bool(self.specs(action, entity))

    def hidden_fields(self, entity: EntityModel) -> set[str]:
        """Fields every granting role hides (all of them when no role grants the entity), and
        the computed fields that read a hidden one: a lookup, rollup or formula whose source is
        a field marked hidden for the user (here or on a linked entity) is hidden too, so a
        hidden value is not reachable through a computed copy of it.  A rollup over records of
        an entity no role grants (an account's order total for someone who may not open
        orders) is shown: it reads no field a role marked hidden, and the builder chose to show
        the total by adding it."""
        if entity.child:
            return set()
        if not self.grants(entity):
            return {f.key for f in entity.fields}
        return self._marked(entity)

    def _marked(self, entity: EntityModel) -> set[str]:
        """Fields marked hidden by every granting role, plus computed fields reading one."""
        found = self._hidden.get(entity.key)
        if found is not None:
            return found
        grants = self.grants(entity)
        hidden: set[str] = (
            set.intersection(*({k for k, v in g.fields.items() if v == "hidden"} for g in grants))
            if grants and not entity.child
            else set()
        )
        self._hidden[entity.key] = hidden  # the declared ones first (also stops lookup cycles)
        for f in entity.fields:
            if f.key not in hidden and self._reads_hidden(entity, f):
                hidden.add(f.key)
        return hidden

    def _reads_hidden(self, entity: EntityModel, f: FieldModel) -> bool:
        spec = f.spec
        if f.type == "lookup":
            key = str(spec.get("link"))
            link = entity.field(key) if entity.has_field(key) else None
            source = str(link.target) if link is not None and link.target else None
        elif f.type == "rollup":
            where = str(spec.get("source", ""))
            if "." in where:
                source = where.split(".")[0]
            else:
                many = entity.field(where) if entity.has_field(where) else None
                source = str(many.target) if many is not None and many.target else None
        elif f.type == "formula" and isinstance(spec.get("formula"), str):
            paths = referenced_fields(spec["formula"], self.schema, entity.key)
            return any(hidden_path(self.app, entity, p, self._marked) for p in paths)
        else:
            return False
        if source is None or not self.app.has_entity(source) or "field" not in spec:
            return False
        return str(spec["field"]) in self._marked(self.app.entity(source))

    def writable_fields(self, entity: EntityModel) -> set[str] | None:
        if entity.child:
            return None
        writers = [g for g in self.grants(entity) if "create" in g.actions or "update" in g.actions]
        if not writers:
            return set()
        keys = {f.key for f in entity.fields}
        writable: set[str] = set()
        for g in writers:
            writable |= {k for k in keys if k not in g.fields}
        if any(g.actions.get("update") == "all" for g in writers):
            writable.add("owner")  # handing records over belongs to roles that see them all
        return writable


def referenced_fields(formula: str, schema: ex.ExprSchema, entity: str) -> list[tuple[str, ...]]:
    """The field paths a formula reads (for refusing filters on hidden fields)."""
    try:
        return sorted(ex.references(ex.parse(formula, schema=schema, entity=entity)))
    except ex.ExpressionErrors:
        return []


def hidden_path(
    app: AppModel,
    entity: EntityModel,
    path: Sequence[str],
    hidden: Callable[[EntityModel], set[str]],
) -> str | None:
    """The first hidden field along a formula path (``account.annual_revenue``), or None."""
    current = entity
    for key in path:
        if not current.has_field(key):
            return None
        if key in hidden(current):
            return key
        target = current.field(key).target
        if target is None or not app.has_entity(str(target)):
            return None
        current = app.entity(str(target))
    return None
