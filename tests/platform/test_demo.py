"""``tessera demo``'s data: the CRM installs from scratch and the small set is coherent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines import definitions as defs
from tessera.platform import apps, demo
from tessera.platform.models import AuditEntry, Department, Event, Role, RoleMembership, User
from tessera.platform.runtime import Platform

TODAY = dt.date(2025, 6, 30)
PROBABILITY = {"qualification": 10, "needs_analysis": 20, "proposal": 40, "negotiation": 70,
               "won": 100, "lost": 0}  # fmt: skip
NUMBERS = [("account", "KH-{000000}"), ("opportunity", "OP-{YYYY}-{00000}"),
           ("contract", "HT-{YYYY}-{0000}"), ("order", "SO-{YYYY}{MM}-{0000}"),
           ("payment", "HK-{YYYY}-{00000}"), ("ticket", "TK-{YYYY}-{000000}")]  # fmt: skip
PEOPLE = demo.People(
    reps={"south": [2, 3], "east": [4], "north": [5]}, managers=[6], support=[7], finance=[8]
)


def _aware(value: Any) -> Any:
    """SQLite hands back naive UTC date-times; PostgreSQL aware ones."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def rows(conn: sa.Connection, entity: str) -> list[dict[str, Any]]:
    table = apps.published(conn, "crm").table(entity)
    return [
        {k: _aware(v) for k, v in r._mapping.items()}
        for r in conn.execute(sa.select(table).order_by(table.c.id))
    ]


def test_the_crm_installs_from_scratch_and_its_tables_exist(platform: Platform) -> None:
    engine = platform.db.engine
    assert demo.install_crm(engine) is True
    assert demo.install_crm(engine) is False  # once only
    with engine.connect() as conn:
        live = apps.published(conn, "crm")
        assert live.version == 1
        names = set(sa.inspect(conn).get_table_names())
        for entity in live.model.entities:
            assert entity.table in names
        # a publish of the same definition plans nothing: the live schema matches
        plan = defs.plan(conn, live.model, live.model, apps.PLATFORM_TABLES, tag="v2")
        assert plan.describe() == []


@pytest.fixture
def loaded(platform: Platform) -> Platform:
    engine = platform.db.engine
    demo.install_crm(engine)
    people = demo.ensure_people(engine)
    demo.load(engine, size="small", seed=11, today=TODAY, people=people)
    return platform


def test_demo_people_have_departments_roles_and_one_password_hash(loaded: Platform) -> None:
    with loaded.db.engine.connect() as conn:
        users = conn.execute(sa.select(User.email, User.department_id, User.password_hash)).all()
        emails = {u.email for u in users}
        assert {"rep@example.com", "manager@example.com", "support@example.com"} <= emails
        assert all(u.department_id is not None for u in users)
        assert len({u.password_hash for u in users}) == 1  # hashed once
        from tessera.platform.passwords import verify_password

        assert verify_password(users[0].password_hash, demo.DEMO_PASSWORD)
        departments = dict(conn.execute(sa.select(Department.id, Department.name)).all())
        assert any("华南大区" in n for n in departments.values())
        rep_role = conn.execute(
            sa.select(User.email)
            .join(RoleMembership, RoleMembership.user_id == User.id)
            .join(Role, Role.id == RoleMembership.role_id)
            .where(Role.key == "sales_rep")
        ).scalars()
        assert "rep@example.com" in set(rep_role)
    # ensure_people is idempotent
    again = demo.ensure_people(loaded.db.engine)
    assert "rep@example.com" not in again.reps  # keyed by region
    assert sum(len(v) for v in again.reps.values()) >= 5


def test_the_small_set_is_coherent(loaded: Platform) -> None:
    with loaded.db.engine.connect() as conn:
        data = {e.key: rows(conn, e.key) for e in apps.published(conn, "crm").model.entities}
    counts = {k: len(v) for k, v in data.items()}
    assert counts["account"] == 100 and counts["lead"] == 200
    assert counts["activity"] == 600 and counts["ticket"] == 60 and counts["product"] == 30
    assert 150 <= counts["contact"] <= 400
    assert 60 <= counts["opportunity"] <= 250
    assert counts["quote"] > 20 and counts["quote_item"] >= counts["quote"]
    assert counts["contract"] > 5 and counts["order"] > 5 and counts["payment"] > 5

    by_id = {k: {r["id"]: r for r in v} for k, v in data.items()}
    accounts = by_id["account"]
    for contact in data["contact"]:
        assert contact["account"] in accounts
        assert contact["created_at"] >= accounts[contact["account"]]["created_at"]
    for opp in data["opportunity"]:
        assert opp["account"] in accounts
        assert opp["probability"] == PROBABILITY[opp["stage"]]
        assert opp["weighted_amount"] == pytest.approx(opp["amount"] * opp["probability"] / 100)
        assert (opp["closed_on"] is not None) == (opp["stage"] in ("won", "lost"))
        assert opp["closed_on"] is None or opp["closed_on"] <= TODAY
    for item in data["quote_item"]:
        assert item["parent_id"] in by_id["quote"] and item["product"] in by_id["product"]
        expected = item["quantity"] * item["unit_price"] * (1 - item["discount"] / 100)
        assert item["subtotal"] == pytest.approx(expected, abs=Decimal("0.01"))
    for quote in data["quote"]:
        lines = [i for i in data["quote_item"] if i["parent_id"] == quote["id"]]
        assert quote["item_count"] == len(lines)
        assert quote["total"] == pytest.approx(sum(i["subtotal"] for i in lines))
        assert by_id["opportunity"][quote["opportunity"]]["account"] == quote["account"]
        assert quote["number"].startswith(f"QT-{quote['quote_date'].year}-")
    for entity, pattern in NUMBERS:  # drawn by the service, in the period of creation
        numbers = [r["number"] for r in data[entity]]
        assert len(set(numbers)) == len(numbers) and None not in numbers
        if "{YYYY}" in pattern:
            prefix = pattern.split("{")[0]
            assert all(
                r["number"].startswith(f"{prefix}{r['created_at'].year}") for r in data[entity]
            ), entity
    won = {o["id"] for o in data["opportunity"] if o["stage"] == "won"}
    assert won and {c["opportunity"] for c in data["contract"]} <= won
    assert {c["opportunity"] for c in data["contract"]} == won  # every won deal has a contract
    for order in data["order"]:
        paid = [p["amount"] for p in data["payment"] if p["order"] == order["id"]]
        assert sum(paid) <= order["amount"]
        assert order["paid_amount"] == pytest.approx(sum(paid))
        assert order["balance"] == pytest.approx(order["amount"] - sum(paid))
        assert order["opportunity"] in won
        assert order["order_date"] <= TODAY
    for payment in data["payment"]:
        assert by_id["order"][payment["order"]]["account"] == payment["account"]
        assert payment["paid_on"] >= by_id["order"][payment["order"]]["order_date"]
    for activity in data["activity"]:
        links = [activity[k] for k in ("lead", "account", "contact", "opportunity")]
        assert any(links)
        if activity["contact"]:
            assert by_id["contact"][activity["contact"]]["account"] == activity["account"]
        if activity["opportunity"]:
            assert (
                activity["start_at"] >= by_id["opportunity"][activity["opportunity"]]["created_at"]
            )
        if activity["lead"]:
            assert activity["start_at"] >= by_id["lead"][activity["lead"]]["created_at"]
        assert (activity["status"] == "planned") == (activity["start_at"] > _now())
    for ticket in data["ticket"]:
        assert ticket["resolution_due"] > ticket["first_response_due"] > ticket["created_at"]
        assert ticket["resolved_late"] == (
            ticket["resolved_at"] is not None and ticket["resolved_at"] > ticket["resolution_due"]
        )
    for account in data["account"]:
        mine = [c for c in data["contact"] if c["account"] == account["id"]]
        assert account["contact_count"] == len(mine)
    industries = {c["account_industry"] for c in data["contact"]}
    assert industries <= {a["industry"] for a in data["account"]} and len(industries) > 3
    # pool and owners
    pool = [lead for lead in data["lead"] if lead["in_public_pool"]]
    assert pool and all(lead["owner_id"] is None for lead in pool)
    assert all(lead["owner_id"] is not None for lead in data["lead"] if not lead["in_public_pool"])
    # names in both languages
    names = [a["name"] for a in data["account"]] + [c["name"] for c in data["contact"]]
    assert any(n.endswith("有限公司") for n in names)
    assert any(n.isascii() and " " in n for n in names)
    assert len({a["name"] for a in data["account"]}) == 100


def test_converted_leads_and_what_they_became_link_both_ways(loaded: Platform) -> None:
    """A converted lead names its account, contact and opportunity; that contact and that
    opportunity name the lead back (one each), and nothing else claims to come from a lead."""
    with loaded.db.engine.connect() as conn:
        data = {e: rows(conn, e) for e in ("lead", "contact", "opportunity", "account")}
    leads = {r["id"]: r for r in data["lead"]}
    contacts = {r["id"]: r for r in data["contact"]}
    opps = {r["id"]: r for r in data["opportunity"]}
    converted = [r for r in data["lead"] if r["status"] == "converted"]
    assert len(converted) >= 10
    for lead in converted:
        contact = contacts[lead["converted_contact"]]
        assert contact["source_lead"] == lead["id"]
        assert contact["account"] == lead["converted_account"]
        assert contact["created_at"] >= lead["created_at"]
        assert lead["converted_at"] is not None
        if lead["converted_opp"] is not None:
            opp = opps[lead["converted_opp"]]
            assert opp["lead"] == lead["id"] and opp["account"] == lead["converted_account"]
            assert opp["created_at"] >= lead["created_at"]
    assert sum(lead["converted_opp"] is not None for lead in converted) >= 5
    for lead in data["lead"]:
        if lead["status"] != "converted":
            assert lead["converted_contact"] is lead["converted_opp"] is None
            assert lead["converted_account"] is None
    sourced = [c for c in data["contact"] if c["source_lead"] is not None]
    assert len(sourced) == len(converted)
    for contact in sourced:
        assert leads[contact["source_lead"]]["converted_contact"] == contact["id"]
    for opp in data["opportunity"]:
        if opp["lead"] is not None:
            assert leads[opp["lead"]]["converted_opp"] == opp["id"]


def test_last_contact_and_last_activity_agree_with_the_activities(loaded: Platform) -> None:
    with loaded.db.engine.connect() as conn:
        data = {e: rows(conn, e) for e in ("lead", "account", "activity")}
    leads = {r["id"]: r for r in data["lead"]}
    latest: dict[int, dt.datetime] = {}
    for activity in data["activity"]:
        if activity["lead"] is not None:
            last = leads[activity["lead"]]["last_contact_at"]
            if last is None:  # never contacted: only planned follow-ups
                assert activity["status"] == "planned"
            elif activity["status"] == "done":
                assert activity["start_at"] <= last
        if activity["account"] is not None and activity["status"] == "done":
            account = activity["account"]
            latest[account] = max(activity["start_at"], latest.get(account, activity["start_at"]))
    assert latest
    for account in data["account"]:
        assert account["last_activity_at"] == latest.get(account["id"])


def test_demo_records_have_their_history_audit_and_quiet_events(loaded: Platform) -> None:
    """Written by the service as the system: one audit entry per record, events marked
    dispatched (no automation reacts), creation times and creators from the generator."""
    with loaded.db.engine.connect() as conn:
        live = apps.published(conn, "crm")
        created = dict(
            conn.execute(
                sa.select(AuditEntry.entity, sa.func.count())
                .where(AuditEntry.app == "crm", AuditEntry.action == "created")
                .group_by(AuditEntry.entity)
            ).all()
        )
        vias = set(conn.scalars(sa.select(AuditEntry.via).where(AuditEntry.app == "crm")))
        waiting = conn.scalar(
            sa.select(sa.func.count()).where(Event.app == "crm", Event.dispatched_at.is_(None))
        )
        accounts = rows(conn, "account")
        items = rows(conn, "quote_item")
        quotes = {r["id"]: r for r in rows(conn, "quote")}
        for entity in live.model.entities:
            count = conn.scalar(sa.select(sa.func.count()).select_from(live.table(entity.key)))
            assert created.get(entity.key, 0) == (0 if entity.child else count), entity.key
    assert vias == {"system"} and waiting == 0
    assert len({a["created_at"].date() for a in accounts}) > 50  # spread over two years
    assert all(a["created_at"] < _now() - dt.timedelta(days=29) for a in accounts)
    assert all(a["created_by"] == a["owner_id"] for a in accounts)
    for item in items:
        assert item["created_at"] == quotes[item["parent_id"]]["created_at"]


def _now() -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(18, 0), tzinfo=dt.UTC)


def test_auto_numbers_continue_after_the_demo_data(loaded: Platform) -> None:
    with loaded.db.engine.begin() as conn:
        live = apps.published(conn, "crm")
        counters = live.metadata.tables["x_crm___counters"]
        last = max(r["number"] for r in rows(conn, "ticket") if r["number"].startswith("TK-2025"))
        following = defs.next_number(
            conn, counters, "ticket", "number", "TK-{YYYY}-{000000}", dt.date(2025, 6, 30)
        )
        assert following > last and following.startswith("TK-2025-")


def generate(seed: int) -> list[demo.Chunk]:
    generator = demo.Generator(demo.SIZES["small"], PEOPLE, seed=seed, today=TODAY)
    return list(generator.chunks())


def test_generation_is_deterministic_for_a_seed() -> None:
    first, second, other = generate(5), generate(5), generate(6)
    assert first == second
    assert first != other
    entities = [c.entity for c in first if not c.update]
    assert entities.index("account") < entities.index("contact") < entities.index("opportunity")
    assert entities.index("quote") < entities.index("quote_item") < entities.index("activity")
    changes = [c.entity for c in first if c.update]  # what is known last comes last
    assert set(changes) == {"contact", "lead", "account"} and first[-1].update
