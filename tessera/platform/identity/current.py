"""Who is acting: the :class:`Identity` of a request or a job, and the guards that check it.

A request is authenticated once, on first use, either by a Bearer token (``/api/`` only, and
then the session cookie is ignored) or by the session cookie.  The permission engine, the records
service and the audit log all read the same :class:`Identity`; jobs build one with
:func:`load_identity` for the user they act for, or use :data:`SYSTEM` for automations.

Platform roles are ordered: ``member`` < ``app_builder`` < ``system_admin``;
``require_platform_role("app_builder")`` admits builders and system administrators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, g, has_request_context, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

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


#: The actor of automations and scheduled work that no user started.  Its ``user_id`` is None,
#: which audit rows record as "system"; it is not a system administrator of the platform.
SYSTEM = Identity(
    user_id=None, name="System", email="", platform_role="system", via="system", locale="en"
)


def load_identity(
    session: Session,
    user_id: int,
    *,
    via: str = "job",
    token_id: int | None = None,
    scopes: frozenset[str] | None = None,
    auth_session_id: int | None = None,
) -> Identity | None:
    """The identity of an active user, or None if there is no such active user."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    role_keys = session.scalars(
        sa.select(Role.key)
        .join(RoleMembership, RoleMembership.role_id == Role.id)
        .where(RoleMembership.user_id == user_id)
    ).all()
    parents = departments.parent_map(session)
    managed_roots = session.scalars(
        sa.select(Department.id).where(Department.manager_id == user_id)
    ).all()
    managed: list[int] = []
    for root in managed_roots:
        managed.extend(d for d in departments.descendants(parents, root) if d not in managed)
    dept = user.department_id
    return Identity(
        user_id=user.id,
        name=user.name,
        email=user.email,
        platform_role=user.platform_role,
        department_id=dept,
        ancestor_department_ids=departments.ancestors(parents, dept) if dept else (),
        descendant_department_ids=departments.descendants(parents, dept) if dept else (),
        managed_department_ids=tuple(managed),
        role_keys=frozenset(role_keys),
        locale=user.locale,
        time_zone=user.time_zone,
        via=via,
        token_id=token_id,
        scopes=scopes,
        auth_session_id=auth_session_id,
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


def current_identity() -> Identity | None:
    """The identity of the current request (authenticated on first call), or None."""
    if not has_request_context():
        return None
    cached = g.get("_tessera_identity", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    from tessera.platform.identity import sessions, tokens
    from tessera.platform.runtime import current_platform

    g._tessera_identity = None  # guards against re-entry while loading
    identity: Identity | None
    with current_platform().db.session() as db:
        raw = bearer_token()
        if raw is not None:
            identity = tokens.authenticate(db, raw)
        elif request.headers.get("Authorization") and is_api_request():
            identity = None
        else:
            identity = sessions.authenticate(db)
    g._tessera_identity = identity
    return identity


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
