"""Who is acting: the :class:`Identity` of a request or a job, and the guards that check it.

A request is authenticated once, on first use, either by a Bearer token (``/api/`` only, and
then the session cookie is ignored) or by the session cookie.  The permission engine, the records
service and the audit log all read the same :class:`Identity`; jobs build one with
:func:`load_identity` for the user they act for, or use :data:`SYSTEM` for automations.

Platform roles are ordered: ``member`` < ``app_builder`` < ``system_admin``;
``require_platform_role("app_builder")`` admits builders and system administrators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, g, has_request_context, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from tessera.engines.forms import Actor
from tessera.engines.forms.context import Via
from tessera.platform.identity import departments
from tessera.platform.models import Department, Role, RoleMembership, User

PLATFORM_ROLES = ("member", "app_builder", "system_admin")
SCOPES = ("records:read", "records:write", "admin")
#: A scope also grants the scopes listed here.
SCOPE_IMPLIES = {"records:write": ("records:read",)}

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Identity:
    """Everything permission checks need about the actor, read once per request or job."""

    user_id: int | None
    name: str
    email: str
    platform_role: str
    department_id: int | None = None
    #: The user's department and every department above it (nearest first).
    ancestor_department_ids: tuple[int, ...] = ()
    #: The user's department and every department below it.
    descendant_department_ids: tuple[int, ...] = ()
    #: Departments this user manages (``departments.manager_id``), each with everything below.
    managed_department_ids: tuple[int, ...] = ()
    role_keys: frozenset[str] = frozenset()
    locale: str = "en"
    time_zone: str = "UTC"
    #: web (session cookie), api (Bearer token), job or system.
    via: str = "web"
    #: Set for token requests: what the token may do; None means "no token limits".
    token_id: int | None = None
    scopes: frozenset[str] | None = None
    auth_session_id: int | None = field(default=None, compare=False)
    #: An actor that is not a user: ``automation:<rule key>`` (see :meth:`automation`).
    actor_key: str = ""
    #: The one app an automation belongs to.
    automation_app: str | None = None

    @classmethod
    def automation(
        cls,
        app: str,
        rule: str,
        name: str = "",
        *,
        via: str = "rule",
        roles: Iterable[str] = (),
        locale: str = "en",
        time_zone: str = "UTC",
    ) -> Identity:
        """The identity a rule (``via="rule"``) or process (``"process"``) of ``app`` acts as.

        It is no user: the audit trail records it as ``automation:<rule>`` with ``name``, and
        a record's history shows "Automation: <name>".  Its scope (``permissions.scope_provider``)
        is every record and field of ``app`` when ``roles`` is empty, else what those app roles
        grant to someone with no department who owns nothing; in any other app, nothing.  It has
        no platform role, so it passes no ``require_platform_role`` check.
        """
        if via not in ("rule", "process"):
            raise ValueError(f"an automation acts via rule or process, not {via!r}")
        if not rule or len(rule) > 100:
            raise ValueError("an automation needs its rule's key (at most 100 characters)")
        return cls(
            user_id=None, name=(name or rule)[:200], email="", platform_role="automation",
            role_keys=frozenset(roles), locale=locale, time_zone=time_zone, via=via,
            actor_key=f"automation:{rule}", automation_app=app,
        )  # fmt: skip

    @property
    def is_automation(self) -> bool:
        return self.actor_key.startswith("automation:")

    @property
    def is_system_admin(self) -> bool:
        return self.platform_role == "system_admin"

    def has_platform_role(self, role: str) -> bool:
        """At least ``role`` in the order member < app_builder < system_admin."""
        if role not in PLATFORM_ROLES or self.platform_role not in PLATFORM_ROLES:
            return False
        return PLATFORM_ROLES.index(self.platform_role) >= PLATFORM_ROLES.index(role)

    def has_role(self, key: str) -> bool:
        return key in self.role_keys

    def has_scope(self, scope: str) -> bool:
        if self.scopes is None:
            return True
        granted = set(self.scopes)
        for held in self.scopes:
            granted.update(SCOPE_IMPLIES.get(held, ()))
        return scope in granted

    def actor(self, via: Via, *, locale: str | None = None) -> Actor:
        """The records service's actor for this user, writing through ``via`` (a page, the API,
        an import); ``locale``, the language of its messages, is the user's own unless the
        caller knows better (a page speaks the request's language)."""
        return Actor(
            user_id=self.user_id,
            via=via,
            name=self.name,
            department_id=self.department_id,
            time_zone=self.time_zone or "UTC",
            locale=(self.locale or "en") if locale is None else locale,
        )


#: The actor of automations and scheduled work that no user started.  Its ``user_id`` is None,
#: which audit rows record as "system"; it is not a system administrator of the platform.
SYSTEM = Identity(
    user_id=None, name="System", email="", platform_role="system", via="system", locale="en"
)


USERS: sa.Table = User.__table__  # type: ignore[assignment]
DEPARTMENTS: sa.Table = Department.__table__  # type: ignore[assignment]


class comma_joined(FunctionElement[str]):
    """``aggregate_strings(value, ",")`` with the comma written into the SQL.

    SQLAlchemy's own ``aggregate_strings`` sends its separator as a post-compile parameter,
    which makes it render the statement's SQL again on every execution: for the token query
    that is three quarters of its cost on SQLite (about 70 of 96 µs)."""

    type = sa.String()
    inherit_cache = True


@compiles(comma_joined)
def _string_agg(element: comma_joined, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(comma_joined, "sqlite")
def _group_concat(element: comma_joined, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


def identity_columns() -> list[Any]:
    """The columns an :class:`Identity` is built from, for one query over ``users``.

    Role keys and managed departments come as aggregated text of correlated subqueries; the
    department parent map (``id:parent,…``; a company has tens or hundreds of departments) only
    for users in or managing a department.  One round trip, no cache to go stale: a changed
    role, department or active flag shows on the next request in every process.
    """
    role_keys = (
        sa.select(comma_joined(Role.key))
        .join_from(RoleMembership, Role, RoleMembership.role_id == Role.id)
        .where(RoleMembership.user_id == USERS.c.id)
        .scalar_subquery()
    )
    managed = (
        sa.select(comma_joined(sa.cast(DEPARTMENTS.c.id, sa.String)))
        .where(DEPARTMENTS.c.manager_id == USERS.c.id)
        .scalar_subquery()
    )
    pair = (
        sa.cast(DEPARTMENTS.c.id, sa.String)
        + ":"
        + sa.func.coalesce(sa.cast(DEPARTMENTS.c.parent_id, sa.String), "")
    )
    tree = sa.case(
        (
            sa.or_(USERS.c.department_id.is_not(None), managed.is_not(None)),
            sa.select(comma_joined(pair)).scalar_subquery(),
        ),
        else_=sa.null(),
    )
    return [
        USERS.c.id.label("user_id"), USERS.c.name, USERS.c.email, USERS.c.platform_role,
        USERS.c.department_id, USERS.c.is_active, USERS.c.locale, USERS.c.time_zone,
        role_keys.label("role_keys"), managed.label("managed_ids"), tree.label("departments"),
    ]  # fmt: skip


#: One user's identity facts in one statement (see :func:`identity_columns`).
IDENTITY_QUERY = sa.select(*identity_columns()).where(USERS.c.id == sa.bindparam("user_id"))


def identity_from_row(
    row: Any,
    *,
    via: str,
    token_id: int | None = None,
    scopes: frozenset[str] | None = None,
    auth_session_id: int | None = None,
) -> Identity | None:
    """The :class:`Identity` of a row with :func:`identity_columns`; None if inactive."""
    if row is None or not row.is_active:
        return None
    parents: dict[int, int | None] = {}
    for item in (row.departments or "").split(","):
        if item:
            child, _, parent = item.partition(":")
            parents[int(child)] = int(parent) if parent else None
    managed: list[int] = []
    for root in sorted(int(i) for i in (row.managed_ids or "").split(",") if i):
        managed.extend(d for d in departments.descendants(parents, root) if d not in managed)
    dept = row.department_id
    return Identity(
        user_id=row.user_id,
        name=row.name,
        email=row.email,
        platform_role=row.platform_role,
        department_id=dept,
        ancestor_department_ids=departments.ancestors(parents, dept) if dept else (),
        descendant_department_ids=departments.descendants(parents, dept) if dept else (),
        managed_department_ids=tuple(managed),
        role_keys=frozenset(k for k in (row.role_keys or "").split(",") if k),
        locale=row.locale,
        time_zone=row.time_zone,
        via=via,
        token_id=token_id,
        scopes=scopes,
        auth_session_id=auth_session_id,
    )


def load_identity(
    session: Session | sa.Connection,
    user_id: int,
    *,
    via: str = "job",
    token_id: int | None = None,
    scopes: frozenset[str] | None = None,
    auth_session_id: int | None = None,
) -> Identity | None:
    """The identity of an active user, or None if there is no such active user."""
    row = session.execute(IDENTITY_QUERY, {"user_id": user_id}).first()
    return identity_from_row(
        row, via=via, token_id=token_id, scopes=scopes, auth_session_id=auth_session_id
    )


_UNSET = object()


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def bearer_token() -> str | None:
    """The Bearer token of an ``/api/`` request; other paths never authenticate by header."""
    if not is_api_request():
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_identity(conn: sa.Connection | None = None, app: str | None = None) -> Identity | None:
    """The identity of the current request (authenticated on first call), or None.

    An API view that has opened the request's transaction passes its connection, so a Bearer
    token is checked (one query) and its use noted in that transaction; without one, the check
    runs in a short transaction of its own.  A view about one app names it (``app``): the token
    query then reads the app's registry row too (:func:`tokens.authenticate`).
    """
    if not has_request_context():
        return None
    cached = g.get("_tessera_identity", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    from tessera.platform.identity import sessions, tokens
    from tessera.platform.runtime import current_platform

    g._tessera_identity = None  # guards against re-entry while loading
    identity: Identity | None
    raw = bearer_token()
    if raw is not None:
        if conn is not None:
            identity = tokens.authenticate(conn, raw, app=app)
        else:
            with current_platform().db.engine.begin() as own:
                identity = tokens.authenticate(own, raw, rides=False)
    elif request.headers.get("Authorization") and is_api_request():
        identity = None
    elif conn is not None:
        # a cookie request inside the request's transaction (which on SQLite holds the one
        # write lock): the session check joins it through a SAVEPOINT
        with Session(bind=conn, join_transaction_mode="create_savepoint") as db:
            identity = sessions.authenticate(db)
            db.commit()
    else:
        with current_platform().db.session() as db:
            identity = sessions.authenticate(db)
    g._tessera_identity = identity
    return identity


def act_as(identity: Identity | None) -> None:
    """From here on this request acts for ``identity`` (sign-in, sign-out).

    The identity is read once per request and kept; a request that signs someone in or out
    must replace it, and the locale chosen from it, or the rest of the request (its flash
    messages, the page it renders) would still speak for whoever came in.
    """
    import flask_babel

    g._tessera_identity = identity
    flask_babel.refresh()


def require_identity() -> Identity:
    """The current identity; aborts with 401 when nobody is signed in."""
    identity = current_identity()
    if identity is None:
        abort(401)
    return identity


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t"):
        return None
    return target


def _unauthenticated() -> ResponseReturnValue:
    if is_api_request():
        response = jsonify({"error": "unauthorized", "message": "a valid API token is required"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="tessera"'
        return response
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=safe_next(target)))


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Signed-in users only: pages redirect to sign-in, the API answers 401."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if current_identity() is None:
            return _unauthenticated()
        return view(*args, **kwargs)

    return wrapped


def require_platform_role(
    role: str,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """At least ``role`` (member < app_builder < system_admin); 403 otherwise."""
    if role not in PLATFORM_ROLES:
        raise ValueError(f"unknown platform role {role!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            identity = current_identity()
            if identity is None:
                return _unauthenticated()
            if not identity.has_platform_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def require_token_scope(
    scope: str,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """For API views: a token request needs ``scope``; a signed-in browser passes (its user's
    own permissions still apply further in)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown token scope {scope!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            identity = current_identity()
            if identity is None:
                return _unauthenticated()
            if not identity.has_scope(scope):
                response = jsonify(
                    {"error": "insufficient_scope", "message": f"the token lacks {scope}"}
                )
                response.status_code = 403
                response.headers["WWW-Authenticate"] = (
                    f'Bearer realm="tessera", error="insufficient_scope", scope="{scope}"'
                )
                return response
            return view(*args, **kwargs)

        return wrapped

    return decorate


def identity_json(identity: Identity) -> dict[str, Any]:
    return {
        "user_id": identity.user_id,
        "name": identity.name,
        "email": identity.email,
        "platform_role": identity.platform_role,
        "department_id": identity.department_id,
        "roles": sorted(identity.role_keys),
        "locale": identity.locale,
        "time_zone": identity.time_zone,
        "via": identity.via,
        "scopes": sorted(identity.scopes) if identity.scopes is not None else None,
    }
