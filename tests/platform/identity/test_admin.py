"""The admin area and the profile page under hostile input: mass assignment, IDOR, XSS, and the
guards that keep at least one administrator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tessera.platform.models import (
    AuditEntry,
    AuthSession,
    Department,
    Mail,
    Role,
    RoleMembership,
    User,
)
from tessera.platform.runtime import Platform
from tests.conftest import Web

XSS = '<img src=x onerror=alert(1)><script>alert("x")</script>'


def _user(platform: Platform, user_id: int) -> User:
    with platform.db.session() as db:
        user = db.get(User, user_id)
        assert user is not None
        return user


def test_members_cannot_grant_themselves_anything_through_their_profile(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    with platform.db.session() as db:
        department = Department(name="Finance")
        role = Role(key="cfo", label={"en": "CFO"})
        db.add_all([department, role])
        db.flush()
        department_id, role_id = department.id, role.id
    member, other = user_factory(), user_factory()
    web.sign_in(member.email)
    response = web.post(
        "/profile",
        {
            "name": "Still Me",
            "phone": "+86 138 0000 0000",
            "locale": "zh-CN",
            "time_zone": "Asia/Shanghai",
            # Everything below must be ignored:
            "platform_role": "system_admin",
            "is_active": "n",
            "department_id": str(department_id),
            "roles": str(role_id),
            "email": other.email,
            "id": str(other.id),
            "user_id": str(other.id),
            "password_hash": "x",
        },
    )
    assert response.status_code == 302
    me, them = _user(platform, member.id), _user(platform, other.id)
    assert (me.name, me.phone, me.locale, me.time_zone) == (
        "Still Me",
        "+86 138 0000 0000",
        "zh-CN",
        "Asia/Shanghai",
    )
    assert (me.platform_role, me.is_active, me.department_id, me.email) == (
        "member",
        True,
        None,
        member.email,
    )
    assert me.password_hash == member.password_hash
    assert them.name == other.name and them.email == other.email
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(RoleMembership)) == 0
    assert web.client.get("/admin/users").status_code == 403


ADMIN_PAGES = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("GET", "/admin/users/{victim}"),
    ("POST", "/admin/users/{victim}"),
    ("POST", "/admin/users/{victim}/send-reset"),
    ("GET", "/admin/departments"),
    ("GET", "/admin/roles"),
    ("GET", "/admin/tokens"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/mail"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
def test_admin_pages_are_for_system_admins_only(
    web: Web, platform: Platform, user_factory: Callable[..., User], method: str, path: str
) -> None:
    builder = user_factory(platform_role="app_builder")
    victim = user_factory()
    url = path.format(victim=victim.id)
    # Anonymous: sent to sign in.
    anonymous = web.client.open(url, method=method)
    assert anonymous.status_code in (302, 403)
    web.sign_in(builder.email)
    if method == "POST":
        response = web.post(
            url,
            {"platform_role": "system_admin", "name": "x", "email": "x@x.io"},
            token_from="/profile",
        )
    else:
        response = web.client.get(url)
    assert response.status_code == 403
    assert _user(platform, victim.id).platform_role == "member"
    with platform.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Mail)) == 0


def test_names_are_escaped_everywhere_they_are_shown(
    web: Web, user_factory: Callable[..., User]
) -> None:
    admin = user_factory(platform_role="system_admin", name=XSS)
    user_factory(name=XSS, email="xss@example.com")
    web.sign_in(admin.email)
    for path in ("/", "/admin/users", "/profile", "/admin/departments"):
        html = web.client.get(path).get_data(as_text=True)
        assert "<img src=x" not in html and "<script>alert" not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html or path == "/admin/departments", path


def test_admin_creates_a_user_with_department_and_roles(
    web: Web, platform: Platform, user_factory: Callable[..., User], smtp: object
) -> None:
    admin = user_factory(platform_role="system_admin")
    with platform.db.session() as db:
        sales = Department(name="销售部")
        role = Role(key="sales_director", label={"en": "Sales director", "zh-CN": "销售总监"})
        db.add_all([sales, role])
        db.flush()
        sales_id, role_id = sales.id, role.id
    web.sign_in(admin.email)
    response = web.post(
        "/admin/users/new",
        {
            "name": "王芳",
            "email": "Wang.Fang@Example.cn",
            "locale": "zh-CN",
            "time_zone": "Asia/Shanghai",
            "platform_role": "member",
            "department_id": str(sales_id),
            "roles": [str(role_id)],
            "is_active": "y",
            "send_invite": "y",
        },
    )
    assert response.status_code == 302
    with platform.db.session() as db:
        user = db.scalars(sa.select(User).where(User.email == "wang.fang@example.cn")).one()
        assert (user.department_id, user.password_hash) == (sales_id, None)
        assert db.scalars(
            sa.select(RoleMembership.role_id).where(RoleMembership.user_id == user.id)
        ).all() == [role_id]
        invite = db.scalars(sa.select(Mail)).one()
        assert invite.kind == "password_invite" and invite.to_address == "wang.fang@example.cn"
        assert invite.subject == "设置您的 Tessera 密码"  # in the new user's language
        created = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "user.created")).one()
        assert created.actor_id == admin.id and created.changes["role_ids"] == [role_id]


def test_role_changes_are_audited_as_permission_changes(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin = user_factory(platform_role="system_admin")
    member = user_factory()
    with platform.db.session() as db:
        role = Role(key="approver", label={"en": "Approver"})
        db.add(role)
        db.flush()
        role_id = role.id
    web.sign_in(admin.email)
    form = {
        "name": member.name,
        "email": member.email,
        "locale": "en",
        "time_zone": "UTC",
        "platform_role": "app_builder",
        "department_id": "",
        "roles": [str(role_id)],
        "is_active": "y",
    }
    assert web.post(f"/admin/users/{member.id}", form).status_code == 302
    with platform.db.session() as db:
        entry = db.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "user.permissions_changed")
        ).one()
    assert entry.record_id == member.id and entry.actor_id == admin.id
    assert entry.changes == {
        "platform_role": ["member", "app_builder"],
        "role_ids": [[], [role_id]],
    }


def test_deactivating_a_user_signs_them_out(
    web: Web, other_web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin, member = user_factory(platform_role="system_admin"), user_factory()
    other_web.sign_in(member.email)
    web.sign_in(admin.email)
    form = {
        "name": member.name,
        "email": member.email,
        "locale": "en",
        "time_zone": "UTC",
        "platform_role": "member",
        "department_id": "",
    }  # is_active unchecked
    assert web.post(f"/admin/users/{member.id}", form).status_code == 302
    assert other_web.client.get("/profile").status_code == 302
    with platform.db.session() as db:
        assert (
            db.scalar(sa.select(AuthSession.revoked_at).where(AuthSession.user_id == member.id))
            is not None
        )


def test_the_last_administrator_stays(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin = user_factory(platform_role="system_admin")
    web.sign_in(admin.email)
    demote = {
        "name": admin.name,
        "email": admin.email,
        "locale": "en",
        "time_zone": "UTC",
        "platform_role": "member",
        "department_id": "",
        "is_active": "y",
    }
    assert web.post(f"/admin/users/{admin.id}", demote).status_code == 409
    assert _user(platform, admin.id).platform_role == "system_admin"
    other_admin = user_factory(platform_role="system_admin")
    demote_other = {**demote, "name": other_admin.name, "email": other_admin.email}
    assert web.post(f"/admin/users/{other_admin.id}", demote_other).status_code == 302
    assert _user(platform, other_admin.id).platform_role == "member"


def test_emails_stay_unique(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin, member = user_factory(platform_role="system_admin"), user_factory()
    web.sign_in(admin.email)
    form = {
        "name": member.name,
        "email": admin.email.upper(),
        "locale": "en",
        "time_zone": "UTC",
        "platform_role": "member",
        "department_id": "",
        "is_active": "y",
    }
    page = web.post(f"/admin/users/{member.id}", form)
    assert page.status_code == 200 and "exists already" in page.get_data(as_text=True)
    assert _user(platform, member.id).email == member.email


def test_crafted_choices_are_rejected(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin, member = user_factory(platform_role="system_admin"), user_factory()
    web.sign_in(admin.email)
    base = {
        "name": member.name,
        "email": member.email,
        "locale": "en",
        "time_zone": "UTC",
        "platform_role": "member",
        "department_id": "",
        "is_active": "y",
    }
    for bad in (
        {"platform_role": "root"},
        {"department_id": "999"},
        {"roles": ["999"]},
        {"locale": "fr"},
        {"time_zone": "../../etc/passwd"},
    ):
        page = web.post(f"/admin/users/{member.id}", {**base, **bad})
        assert page.status_code == 200, bad  # re-shown with an error, nothing saved
    assert _user(platform, member.id).platform_role == "member"


def test_departments_form_a_tree_without_cycles(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin = user_factory(platform_role="system_admin")
    web.sign_in(admin.email)
    web.post("/admin/departments", {"name": "总部", "parent_id": "", "manager_id": str(admin.id)})
    with platform.db.session() as db:
        hq = db.scalars(sa.select(Department)).one()
    web.post("/admin/departments", {"name": "华东区", "parent_id": str(hq.id), "manager_id": ""})
    with platform.db.session() as db:
        east = db.scalars(sa.select(Department).where(Department.name == "华东区")).one()
    # Moving HQ under its own child is refused (the child is not even offered as a choice).
    page = web.post(
        f"/admin/departments/{hq.id}", {"name": "总部", "parent_id": str(east.id), "manager_id": ""}
    )
    assert page.status_code == 200
    with platform.db.session() as db:
        assert db.get(Department, hq.id).parent_id is None  # type: ignore[union-attr]
    tree = web.client.get("/admin/departments").get_data(as_text=True)
    assert tree.index("总部") < tree.index("华东区") and "tree-depth-1" in tree
    # A department with children cannot be deleted.
    web.post(f"/admin/departments/{hq.id}/delete", token_from="/admin/departments")
    with platform.db.session() as db:
        assert db.get(Department, hq.id) is not None
        actions = db.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("department.created") == 2


def test_role_keys_cannot_be_changed(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin = user_factory(platform_role="system_admin")
    web.sign_in(admin.email)
    web.post(
        "/admin/roles",
        {"key": "sales_director", "label_en": "Sales director", "label_zh": "销售总监"},
    )
    with platform.db.session() as db:
        role = db.scalars(sa.select(Role)).one()
    assert role.label == {"en": "Sales director", "zh-CN": "销售总监"}
    web.post(
        f"/admin/roles/{role.id}", {"key": "admin", "label_en": "Head of sales", "label_zh": ""}
    )
    with platform.db.session() as db:
        role = db.get(Role, role.id)  # type: ignore[assignment]
    assert role.key == "sales_director" and role.label == {"en": "Head of sales"}
    bad = web.post("/admin/roles", {"key": "Bad Key!", "label_en": "x"})
    assert bad.status_code == 200 and "Lower-case letters" in bad.get_data(as_text=True)


def test_edits_are_audited_field_by_field_and_unchanged_saves_leave_no_row(
    web: Web, platform: Platform, user_factory: Callable[..., User]
) -> None:
    admin = user_factory(platform_role="system_admin", phone=None)
    web.sign_in(admin.email)
    web.post("/admin/roles", {"key": "buyer", "label_en": "Buyer", "description": "  "})
    with platform.db.session() as db:
        role = db.scalars(sa.select(Role)).one()
    assert role.description is None  # blank free text is stored as None
    edit = {"key": "buyer", "label_en": "Buyer", "label_zh": "采购", "description": " Buys "}
    web.post(f"/admin/roles/{role.id}", edit)
    web.post(f"/admin/roles/{role.id}", edit)  # the same again: nothing changed
    profile = {"name": " Ada ", "phone": " 123 ", "locale": "en", "time_zone": "UTC"}
    web.post("/profile", profile)
    with platform.db.session() as db:
        rows = db.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action.in_(["role.updated", "user.updated"]))
            .order_by(AuditEntry.id)
        ).all()
    assert [(r.action, r.record_id, r.changes) for r in rows] == [
        (
            "role.updated",
            role.id,
            {
                "description": [None, "Buys"],
                "label": [{"en": "Buyer"}, {"en": "Buyer", "zh-CN": "采购"}],
            },
        ),
        ("user.updated", admin.id, {"name": [admin.name, "Ada"], "phone": [None, "123"]}),
    ]
