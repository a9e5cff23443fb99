"""Personal API tokens: shown once, stored hashed, scoped, expiring, revocable, audited."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from sqlalchemy.dialects import postgresql, sqlite

from tessera.platform.config import Settings
from tessera.platform.identity import tokens
from tessera.platform.identity.current import (
    current_identity,
    load_identity,
    require_token_scope,
)
from tessera.platform.models import (
    ApiToken,
    AuditEntry,
    Department,
    Role,
    RoleMembership,
    User,
    utcnow,
)
from tessera.platform.runtime import Platform
from tests.conftest import Web


def _token(platform: Platform, user: User, scopes: list[str], days: int = 30) -> str:
    with platform.db.session() as db:
        _, raw = tokens.create(
            db, user_id=user.id, name="script", scopes=scopes, days=days, actor_id=user.id
        )
    return raw


def _me(client: FlaskClient, raw: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code


@pytest.fixture
def scoped_app(app: Flask) -> Iterator[Flask]:
    """The app plus two API routes guarded by require_token_scope, as the records API will be."""
    probe = Blueprint("probe", __name__, url_prefix="/api/probe")

    @probe.get("/read")
    @require_token_scope("records:read")
    def read() -> object:
        identity = current_identity()
        return jsonify(user=identity.user_id if identity else None)

    @probe.get("/admin")
    @require_token_scope("admin")
    def admin() -> object:
        return jsonify(ok=True)

    app.register_blueprint(probe)
    yield app


def test_token_is_shown_once_and_stored_hashed(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory()
    web.sign_in(user.email)
    page = web.post(
        "/profile/tokens",
        {"name": "ERP sync", "scopes": ["records:read", "records:write"], "days": "90"},
    )
    assert page.status_code == 200
    raw = re.search(r'data-test="new-token">([^<]+)<', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert raw.startswith("tsr_") and len(raw) > 50
    with platform.db.session() as db:
        row = db.scalars(sa.select(ApiToken)).one()
    assert raw.startswith(row.prefix + "_")
    assert row.secret_hash == hashlib.sha256(raw.split("_", 2)[2].encode()).hexdigest()
    assert row.scopes == ["records:read", "records:write"]
    assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
    again = web.client.get("/profile/tokens").get_data(as_text=True)
    assert raw not in again and row.prefix in again
    assert _me(web.client.application.test_client(), raw) == 200


def test_bearer_token_authenticates_the_api_only(
    app: Flask, platform: Platform, user_factory: Callable[..., User]
) -> None:
    user = user_factory(name="Li Na")
    raw = _token(platform, user, ["records:read"])
    client = app.test_client()
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert (
        body["user_id"] == user.id and body["via"] == "api" and body["scopes"] == ["records:read"]
    )
    # A token never signs in a page.
    page = client.get("/profile", headers={"Authorization": f"Bearer {raw}"})
    assert page.status_code == 302


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # wrong secret
        lambda raw: raw.split("_", 2)[0] + "_" + raw.split("_", 2)[1],  # no secret
        lambda raw: "tsr_0000000000_" + raw.split("_", 2)[2],  # unknown id
        lambda raw: raw + "x" * 300,  # oversized
        lambda raw: "Basic " + raw,  # wrong scheme (sent as is)
        lambda raw: "",
    ],
)
def test_malformed_or_wrong_tokens_are_refused(
    app: Flask, platform: Platform, user_factory: Callable[..., User], mangle: Callable[[str], str]
) -> None:
    raw = _token(platform, user_factory(), ["records:read"])
    response = app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {mangle(raw)}"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_revoked_and_deactivated_tokens_stop_working(
    app: Flask, platform: Platform, user_factory: Callable[..., User]
) -> None:
    client = app.test_client()
    expired_user, revoked_user, inactive_user = user_factory(), user_factory(), user_factory()
    expired = _token(platform, expired_user, ["records:read"])
    revoked = _token(platform, revoked_user, ["records:read"])
    inactive = _token(platform, inactive_user, ["records:read"])
    assert {_me(client, expired), _me(client, revoked), _me(client, inactive)} == {200}
    with platform.db.session() as db:
        db.execute(
            sa.update(ApiToken)
            .where(ApiToken.user_id == expired_user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        token = db.scalars(sa.select(ApiToken).where(ApiToken.user_id == revoked_user.id)).one()
        assert tokens.revoke(db, token, actor_id=revoked_user.id)
        assert not tokens.revoke(db, token, actor_id=revoked_user.id)  # once only
        db.execute(sa.update(User).where(User.id == inactive_user.id).values(is_active=False))
    assert (_me(client, expired), _me(client, revoked), _me(client, inactive)) == (401, 401, 401)


def test_scopes_are_enforced(
    scoped_app: Flask, platform: Platform, user_factory: Callable[..., User]
) -> None:
    client = scoped_app.test_client()
    user = user_factory(platform_role="system_admin")
    reader = _token(platform, user, ["records:read"])
    writer = _token(platform, user, ["records:write"])
    admin = _token(platform, user, ["admin"])

    def get(path: str, raw: str) -> int:
        return client.get(path, headers={"Authorization": f"Bearer {raw}"}).status_code

    assert get("/api/probe/read", reader) == 200
    assert get("/api/probe/read", writer) == 200  # write implies read
    assert get("/api/probe/read", admin) == 403  # admin is not a records scope
    assert get("/api/probe/admin", reader) == 403
    assert get("/api/probe/admin", admin) == 200
    refused = client.get("/api/probe/admin", headers={"Authorization": f"Bearer {reader}"})
    assert refused.get_json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert client.get("/api/probe/read").status_code == 401


def test_token_creation_is_validated(platform: Platform, user_factory: Callable[..., User]) -> None:
    user = user_factory()
    with platform.db.session() as db:
        for bad in (
            {"scopes": ["records:delete"], "days": 30, "name": "x"},
            {"scopes": [], "days": 30, "name": "x"},
            {"scopes": ["records:read"], "days": 3650, "name": "x"},
            {"scopes": ["records:read"], "days": 30, "name": "   "},
        ):
            with pytest.raises(tokens.TokenError):
                tokens.create(db, user_id=user.id, actor_id=user.id, **bad)  # type: ignore[arg-type]


def test_members_cannot_mint_admin_tokens(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    member = user_factory()
    web.sign_in(member.email)
    page = web.post("/profile/tokens", {"name": "x", "scopes": ["admin"], "days": "30"})
    assert "Only system administrators" in page.get_data(as_text=True)
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def _token_uses(platform: Platform) -> int:
    with platform.db.session() as db:
        query = sa.select(sa.func.count()).where(AuditEntry.action == "token.used")
        return int(db.scalar(query) or 0)


def test_last_used_at_is_written_at_most_once_a_minute(
    platform: Platform, user_factory: Callable[..., User]
) -> None:
    """The check reads the token in one query and writes only when a minute has passed;
    ``token.used`` is audited on the first note of each clock hour."""
    raw = _token(platform, user_factory(), ["records:read"])
    hour = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    written = []
    for offset in (5, 35, 66, 70, 3600 + 10):
        now = hour + timedelta(seconds=offset)
        with platform.db.engine.begin() as conn:
            assert tokens.authenticate(conn, raw, now=now, rides=False) is not None
            written.append(conn.scalar(sa.select(ApiToken.last_used_at)) == now)
    assert written == [True, False, True, False, True]
    assert _token_uses(platform) == 2  # the first use, then the first note of the next hour


def test_a_failed_request_still_notes_the_use(
    app: Flask, platform: Platform, user_factory: Callable[..., User]
) -> None:
    """The note rides the request's transaction; when that rolls back it is written again."""
    raw = _token(platform, user_factory(), ["records:write"])
    response = app.test_client().post(
        "/api/v1/apps/nothing/here", json={}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 404
    with platform.db.session() as db:
        assert db.scalar(sa.select(ApiToken.last_used_at)) is not None
    assert _token_uses(platform) == 1


@pytest.fixture
def other_process(settings: Settings) -> Iterator[Platform]:
    """A second platform on the same database: another web process, with its own pool."""
    other = Platform(settings)
    try:
        yield other
    finally:
        other.close()


def _records_api(app: Flask, raw: str) -> int:
    """A call through the records API's path (the check inside the request's transaction)."""
    return (
        app.test_client()
        .get("/api/v1/apps/none/thing", headers={"Authorization": f"Bearer {raw}"})
        .status_code
    )


@pytest.mark.parametrize("change", ["revoke", "expire", "deactivate"])
def test_a_token_is_refused_at_once_after_a_change_made_elsewhere(
    app: Flask,
    platform: Platform,
    other_process: Platform,
    user_factory: Callable[..., User],
    change: str,
) -> None:
    """Revocation, expiry and deactivation made by another process take effect on the very
    next request: nothing about a token or its user is cached between requests."""
    user = user_factory()
    raw = _token(platform, user, ["records:read"])
    client = app.test_client()
    assert _me(client, raw) == 200
    assert _records_api(app, raw) == 404  # authenticated; the app does not exist
    with other_process.db.session() as db:
        if change == "revoke":
            token = db.scalars(sa.select(ApiToken)).one()
            assert tokens.revoke(db, token, actor_id=user.id)
        elif change == "expire":
            db.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        else:
            db.execute(sa.update(User).where(User.id == user.id).values(is_active=False))
    assert _me(client, raw) == 401
    assert _records_api(app, raw) == 401


def test_an_expired_token_is_refused(platform: Platform, user_factory: Callable[..., User]) -> None:
    raw = _token(platform, user_factory(), ["records:read"], days=7)
    with platform.db.engine.begin() as conn:
        assert tokens.authenticate(conn, raw, now=utcnow() + timedelta(days=6)) is not None
        assert tokens.authenticate(conn, raw, now=utcnow() + timedelta(days=7, seconds=1)) is None


def test_the_identity_of_a_token_carries_roles_and_departments(
    platform: Platform, user_factory: Callable[..., User]
) -> None:
    """One query gives what load_identity gives: roles, department tree, managed departments."""
    with platform.db.session() as db:
        top = Department(name="Sales")
        db.add(top)
        db.flush()
        east = Department(name="East", parent_id=top.id)
        db.add(east)
        db.flush()
        team = Department(name="East team", parent_id=east.id)
        role = Role(key="sales_rep", label={"en": "Rep"})
        db.add_all([team, role])
        db.flush()
        ids = (top.id, east.id, team.id)
    user = user_factory(department_id=ids[1])
    with platform.db.session() as db:
        db.add(RoleMembership(user_id=user.id, role_id=role.id))
        db.execute(sa.update(Department).where(Department.id == ids[0]).values(manager_id=user.id))
    raw = _token(platform, user, ["records:read"])
    with platform.db.engine.begin() as conn:
        identity = tokens.authenticate(conn, raw, rides=False)
        expected = load_identity(conn, user.id, via="api")
    assert identity is not None and expected is not None
    assert identity.role_keys == {"sales_rep"}
    assert identity.ancestor_department_ids == (ids[1], ids[0])
    assert identity.descendant_department_ids == (ids[1], ids[2])
    assert identity.managed_department_ids == ids
    assert identity.scopes == frozenset({"records:read"})
    assert (identity.role_keys, identity.managed_department_ids) == (
        expected.role_keys,
        expected.managed_department_ids,
    )


def test_users_cannot_revoke_each_others_tokens(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    owner, other = user_factory(), user_factory()
    _token(platform, owner, ["records:read"])
    with platform.db.session() as db:
        token_id = db.scalar(sa.select(ApiToken.id))
    web.sign_in(other.email)
    response = web.post(f"/profile/tokens/{token_id}/revoke", token_from="/profile/tokens")
    assert response.status_code == 404
    with platform.db.session() as db:
        assert db.get(ApiToken, token_id).revoked_at is None  # type: ignore[union-attr]


def test_admins_list_and_revoke_any_token(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin, owner = user_factory(platform_role="system_admin"), user_factory(name="Owner Wang")
    raw = _token(platform, owner, ["records:read"])
    web.sign_in(admin.email)
    listing = web.client.get("/admin/tokens").get_data(as_text=True)
    assert "Owner Wang" in listing and raw not in listing
    with platform.db.session() as db:
        token_id = db.scalar(sa.select(ApiToken.id))
    web.post(f"/admin/tokens/{token_id}/revoke", token_from="/admin/tokens")
    assert _me(web.client.application.test_client(), raw) == 401
    with platform.db.session() as db:
        entry = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "token.revoked")).one()
    assert entry.actor_id == admin.id and entry.record_id == token_id


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_the_token_query_is_rendered_once_not_per_request(dialect: sa.Dialect) -> None:
    """No post-compile parameters (SQLAlchemy's ``aggregate_strings`` separator was one): they
    make every execution render the statement's SQL again, most of the query's cost."""
    compiled = tokens.TOKEN_QUERY.compile(dialect=dialect)
    assert not compiled.literal_execute_params and "POSTCOMPILE" not in str(compiled)
