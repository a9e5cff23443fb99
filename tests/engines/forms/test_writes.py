"""Create, update, delete, restore and purge: validation, defaults, locking, audit and events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.forms import (
    Conflict,
    ListQuery,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tessera.platform.models import AuditEntry, Event
from tessera.platform.runtime import Platform


def audit(platform: Platform, **where: Any) -> list[Any]:
    with platform.db.engine.connect() as conn:
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return list(conn.execute(query).all())


def events(platform: Platform) -> list[Any]:
    with platform.db.engine.connect() as conn:
        return list(conn.execute(sa.select(Event).order_by(Event.id)).all())


def test_create_applies_defaults_and_returns_the_record(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME", "email": "Ops@ACME.COM"})
    assert customer["email"] == "Ops@acme.com"
    assert customer["tier"] == "b"
    assert customer["version"] == 1
    assert customer["owner"] == 1 and customer["created_by"] == 1
    assert customer["quotes"] == 0


def test_validation_collects_every_problem_with_paths(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        product = svc.create("product", {"name": "Bolt", "price": "2.50"})
        with pytest.raises(ValidationFailed) as caught:
            svc.create(
                "quote",
                {
                    "customer": 999,
                    "discount": "lots",
                    "total": 5,
                    "created_by": 2,
                    "nope": 1,
                    "lines": [{"product": product["id"], "qty": 2}, {"qty": 0}],
                },
            )
    paths = {(e.path, e.code) for e in caught.value.errors}
    assert ("discount", "invalid") in paths
    assert ("total", "read_only") in paths
    assert ("created_by", "read_only") in paths
    assert ("nope", "unknown_field") in paths
    assert ("lines[1].qty", "invalid") in paths
    del customer
    with open_service() as svc, pytest.raises(ValidationFailed) as caught:
        svc.create("quote", {"customer": 999, "lines": [{"qty": 1}]})
    paths = {(e.path, e.code) for e in caught.value.errors}
    assert ("lines[0].product", "required") in paths
    with open_service() as svc, pytest.raises(ValidationFailed) as caught:
        svc.create("quote", {"customer": 999})
    assert [(e.path, e.code) for e in caught.value.errors] == [("customer", "not_found")]


def test_required_and_unique(open_service: Any) -> None:
    with open_service() as svc:
        svc.create("customer", {"name": "ACME"})
        with pytest.raises(ValidationFailed) as caught:
            svc.create("customer", {"name": "ACME"})
        assert caught.value.errors[0].code == "unique"
        with pytest.raises(ValidationFailed) as caught:
            svc.create("customer", {"email": "x@example.com"})
        assert [(e.path, e.code) for e in caught.value.errors] == [("name", "required")]


def test_formula_rules_and_formula_defaults(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        quote = svc.create("quote", {"customer": customer["id"], "discount": 10})
        assert quote["valid_until"] == dt.date(2025, 4, 4)
        assert quote["number"] == "Q-2025-0001"
        with pytest.raises(ValidationFailed) as caught:
            svc.update("quote", quote["id"], {"discount": 60})
    error = caught.value.errors[0]
    assert (error.path, error.code) == ("discount", "rule:discount_cap")
    assert error.message == "A discount above 50% needs approval"


def test_stale_write_is_refused_with_the_fields_changed_since(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        quote = svc.create("quote", {"customer": customer["id"], "note": "first"})
    with open_service(user_id=2) as svc:
        svc.update(
            "quote",
            quote["id"],
            {"note": "second", "discount": 5},
            expected_version=quote["version"],
        )
    with open_service() as svc, pytest.raises(Conflict) as caught:
        svc.update("quote", quote["id"], {"note": "mine"}, expected_version=quote["version"])
    assert caught.value.changed_fields == ["discount", "label", "note"]  # label reads note
    assert caught.value.current_version == 2
    with open_service() as svc, pytest.raises(Conflict):
        svc.delete("quote", quote["id"], expected_version=1)


def test_audit_rows_hold_field_diffs_and_events_go_to_the_outbox(
    open_service: Any, sales: Platform
) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME", "api_key": "s3cret"})
        svc.update("customer", customer["id"], {"email": "a@acme.com", "api_key": "other"})
        svc.update("customer", customer["id"], {"email": "a@acme.com"})  # no change: no entry
    rows = audit(sales, entity="customer")
    assert [r.action for r in rows] == ["created", "updated"]
    created, updated = (r.changes for r in rows)
    assert created["name"] == [None, "ACME"]
    assert created["api_key"] == ["[redacted]", "[redacted]"]
    assert updated == {
        "email": [None, "a@acme.com"],
        "api_key": ["[redacted]", "[redacted]"],
        "version": [1, 2],
    }
    assert all(r.actor_id == 1 and r.via == "api" for r in rows)
    kinds = [(e.kind, e.entity, e.payload["changed"]) for e in events(sales)]
    assert kinds[-1] == ("updated", "customer", ["api_key", "email"])
    assert "s3cret" not in str([r.changes for r in audit(sales)])


def test_failed_write_leaves_no_audit_and_no_event(open_service: Any, sales: Platform) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
    before = (len(audit(sales)), len(events(sales)))
    with open_service() as svc:
        with pytest.raises(ValidationFailed):
            svc.create("quote", {"customer": customer["id"], "discount": 80})
        # the caller's transaction is still usable and clean after the refusal
        assert svc.count("quote") == 0
    assert (len(audit(sales)), len(events(sales))) == before


def test_trash_restore_and_purge(open_service: Any, sales: Platform) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        quote = svc.create("quote", {"customer": customer["id"]})
        assert svc.get("customer", customer["id"])["quotes"] == 1
        svc.delete("quote", quote["id"])
        with pytest.raises(NotFound):
            svc.get("quote", quote["id"])
        assert svc.get("quote", quote["id"], trashed=True)["deleted_at"] is not None
        assert svc.get("customer", customer["id"])["quotes"] == 0
        assert [r["id"] for r in svc.list("quote").records] == []
        restored = svc.restore("quote", quote["id"])
        assert restored["deleted_at"] is None and restored["version"] == 3
        assert svc.get("customer", customer["id"])["quotes"] == 1
        with pytest.raises(NotFound):
            svc.purge("quote", quote["id"])  # only what is in the trash can be purged
        svc.delete("quote", quote["id"])
        svc.purge("quote", quote["id"])
        with pytest.raises(NotFound):
            svc.get("quote", quote["id"], trashed=None)
    actions = [r.action for r in audit(sales, entity="quote")]
    assert actions == ["created", "deleted", "restored", "deleted", "purged"]


def test_purging_a_linked_record_clears_the_links(open_service: Any) -> None:
    with open_service() as svc:
        head = svc.create("customer", {"name": "Head"})
        branch = svc.create("customer", {"name": "Branch", "head_office": head["id"]})
        svc.delete("customer", head["id"])
        svc.purge("customer", head["id"])
        after = svc.get("customer", branch["id"])
    assert after["head_office"] is None and after["version"] == 2
    with open_service() as svc:
        timeline = svc.history("customer", branch["id"])
    assert [t.action for t in timeline] == ["created", "updated"]


def test_history_is_a_readable_timeline(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        quote = svc.create("quote", {"customer": customer["id"], "amount": "1200.5"})
    with open_service(user_id=2, via="page") as svc:
        svc.update("quote", quote["id"], {"amount": 1300})
        timeline = svc.history("quote", quote["id"], locale="en")
    assert [(t.action, t.actor_name, t.via) for t in timeline] == [
        ("created", "Ada", "api"),
        ("updated", "Lin Wei", "page"),
    ]
    amount = next(c for c in timeline[1].changes if c.field == "amount")
    assert (amount.old, amount.new) == ("1200.50", "1300.00")
    assert (amount.old_text, amount.new_text) == ("1,200.50", "1,300.00")
    assert "Lin Wei updated" in timeline[1].sentence()


def test_scope_hides_records_and_guards_fields(open_service: Any) -> None:
    class OwnOnly:
        def read_filter(self, entity: Any, table: sa.Table) -> Any:
            return table.c.owner_id == 2

        def can(self, action: str, entity: Any, record: Any) -> bool:
            return action != "delete"

        def writable_fields(self, entity: Any) -> set[str] | None:
            return {"name", "email", "head_office"}

        def refused(self, action: str, entity: Any, records: Any) -> list[Any]:
            return [r["id"] for r in records if not self.can(action, entity, r)]

    with open_service() as svc:
        mine = svc.create("customer", {"name": "Mine", "owner": 2})
        theirs = svc.create("customer", {"name": "Theirs"})
    with open_service(user_id=2, scope=OwnOnly()) as svc:
        assert [r["name"] for r in svc.list("customer").records] == ["Mine"]
        with pytest.raises(NotFound):
            svc.get("customer", theirs["id"])
        with pytest.raises(NotFound):
            svc.update("customer", theirs["id"], {"name": "Hacked"})
        with pytest.raises(ValidationFailed) as caught:
            svc.update("customer", mine["id"], {"owner": 1, "tier": "a"})
        assert {e.code for e in caught.value.errors} == {"not_writable"}
        with pytest.raises(PermissionDenied):
            svc.delete("customer", mine["id"])
        with pytest.raises(ValidationFailed) as caught:  # cannot link to what it cannot see
            svc.create("customer", {"name": "Branch", "head_office": theirs["id"]})
        assert caught.value.errors[0].code == "not_found"
        assert svc.list("customer", ListQuery(search="Theirs")).records == []
        assert svc.count("customer") == 1


def test_values_round_trip(open_service: Any) -> None:
    with open_service() as svc:
        product = svc.create(
            "product", {"name": "Bolt", "price": "¥1,234.5", "tags": ["hot", "new"]}
        )
    assert product["price"] == Decimal("1234.50")
    assert product["tags"] == ["new", "hot"]


def test_a_blank_written_over_a_blank_is_no_change(open_service: Any, sales: Platform) -> None:
    """A form sends ``[]`` for an empty tag field and ``""`` for an empty box: over a value
    never set, that changes nothing — no new version, no audit row, no event."""
    with open_service() as svc:
        product = svc.create("product", {"name": "Bolt"})
        assert product["tags"] in (None, [])
        same = svc.update("product", product["id"], {"tags": [], "price": None})
        assert same["version"] == 1
        svc.update("product", product["id"], {"tags": ["hot"]})
        cleared = svc.update("product", product["id"], {"tags": []})
    assert cleared["version"] == 3 and cleared["tags"] in (None, [])
    updates = audit(sales, entity="product", action="updated")
    assert [row.changes["tags"] for row in updates] == [
        [product["tags"], ["hot"]],
        [["hot"], cleared["tags"]],
    ]
