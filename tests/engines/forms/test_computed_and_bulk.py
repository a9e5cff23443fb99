"""Computed fields across records, bulk writes (all or nothing), auto numbers under concurrency."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.forms import Actor, ValidationFailed
from tessera.platform.models import AuditEntry, Event
from tessera.platform.records import service_for
from tessera.platform.runtime import Platform


def test_line_items_keep_the_quote_and_the_customer_current(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME", "email": "ops@acme.com"})
        bolt = svc.create("product", {"name": "Bolt"})
        quote = svc.create(
            "quote",
            {"customer": customer["id"],
             "lines": [{"product": bolt["id"], "qty": 2, "price": "10.00"},
                       {"product": bolt["id"], "qty": 1, "price": "5.50"}]},
        )  # fmt: skip
        assert [line["subtotal"] for line in quote["lines"]] == [Decimal("20.00"), Decimal("5.50")]
        assert quote["total"] == Decimal("25.50")
        assert quote["tax"] == Decimal("2.55")
        assert quote["customer_email"] == "ops@acme.com"
        assert svc.get("customer", customer["id"])["quoted"] == Decimal("25.50")
        # change one line, drop the other, add a new one
        first = quote["lines"][0]
        updated = svc.update(
            "quote", quote["id"],
            {"lines": [{"id": first["id"], "qty": 3},
                       {"product": bolt["id"], "qty": 1, "price": 1}]},
            expected_version=quote["version"],
        )  # fmt: skip
        assert [(line["qty"], line["subtotal"]) for line in updated["lines"]] == [
            (3, Decimal("30.00")), (1, Decimal("1.00"))
        ]  # fmt: skip
        assert updated["total"] == Decimal("31.00") and updated["tax"] == Decimal("3.10")
        assert svc.get("customer", customer["id"])["quoted"] == Decimal("31.00")
        # a change on the linked customer reaches the quote's lookup
        svc.update("customer", customer["id"], {"email": "sales@acme.com"})
        again = svc.get("quote", quote["id"])
        assert again["customer_email"] == "sales@acme.com"
        assert again["version"] == updated["version"]  # recomputation is not an edit
        # moving the quote to another customer recomputes both customers
        other = svc.create("customer", {"name": "Globex"})
        svc.update("quote", quote["id"], {"customer": other["id"]})
        assert svc.get("customer", customer["id"])["quoted"] == Decimal("0")
        assert svc.get("customer", other["id"])["quoted"] == Decimal("31.00")
        assert svc.get("customer", other["id"])["quotes"] == 1


def test_a_row_id_of_another_record_is_refused(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        bolt = svc.create("product", {"name": "Bolt"})
        one = svc.create("quote", {"customer": customer["id"],
                                   "lines": [{"product": bolt["id"], "qty": 1}]})  # fmt: skip
        two = svc.create("quote", {"customer": customer["id"]})
        with pytest.raises(ValidationFailed) as caught:
            svc.update("quote", two["id"], {"lines": [{"id": one["lines"][0]["id"], "qty": 9}]})
    assert [(e.path, e.code) for e in caught.value.errors] == [("lines[0].id", "not_found")]


def test_bulk_create_writes_everything_in_chunks(open_service: Any, sales: Platform) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        ids = svc.bulk_create(
            "quote", [{"customer": customer["id"], "amount": i} for i in range(1203)]
        )
        numbers = [svc.get("quote", i)["number"] for i in (ids[0], ids[-1])]
        assert numbers == ["Q-2025-0001", "Q-2025-1203"]
        assert svc.get("customer", customer["id"])["quotes"] == 1203
        svc.bulk_update("quote", [(ids[0], {"note": "x"}, 1), (ids[1], {"note": "y"}, None)])
        svc.bulk_delete("quote", ids[:10])
        assert svc.get("customer", customer["id"])["quotes"] == 1193
    with sales.db.engine.connect() as conn:
        created = conn.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "created")
        )
        deleted = conn.scalar(
            sa.select(sa.func.count()).select_from(Event).where(Event.kind == "deleted")
        )
    assert (created, deleted) == (1204, 10)


def test_a_failed_bulk_write_leaves_nothing_behind(open_service: Any, sales: Platform) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
    rows: list[dict[str, Any]] = [{"customer": customer["id"]} for _ in range(700)]
    rows[650]["discount"] = 90  # breaks a validation rule, found only after the rows are written
    with open_service() as svc:
        with pytest.raises(ValidationFailed) as caught:
            svc.bulk_create("quote", rows)
        assert [(e.path, e.code) for e in caught.value.errors] == [
            ("[650].discount", "rule:discount_cap")
        ]
        assert svc.count("quote") == 0
        assert svc.get("customer", customer["id"])["quotes"] == 0
        with pytest.raises(ValidationFailed) as caught:
            svc.bulk_create(
                "customer", [{"name": "A"}, {"name": "B", "email": "bad"}, {"name": "A"}]
            )
        assert {(e.path, e.code) for e in caught.value.errors} == {
            ("[1].email", "invalid"),
        }
        with pytest.raises(ValidationFailed) as caught:
            svc.bulk_create("customer", [{"name": "A"}, {"name": "ACME"}, {"name": "A"}])
        assert {(e.path, e.code) for e in caught.value.errors} == {
            ("[1].name", "unique"), ("[2].name", "unique"),
        }  # fmt: skip
    with sales.db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1
        assert conn.scalar(sa.select(sa.func.count()).select_from(Event)) == 1
        counters = conn.execute(sa.text("SELECT count(*) FROM x_sales___counters")).scalar()
    assert counters == 0  # the counter upsert was rolled back with the rest


def test_concurrent_writers_never_share_an_auto_number(open_service: Any, sales: Platform) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with sales.db.engine.begin() as conn:
                    svc = service_for(conn, "sales", Actor(user_id=1, via="api"))
                    if i % 5 == 0:
                        svc.bulk_create("quote", [{"customer": customer["id"]}] * 3)
                    else:
                        svc.create("quote", {"customer": customer["id"], "note": f"{n}-{i}"})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sales.db.engine.connect() as conn:
        numbers = list(conn.execute(sa.text("SELECT number FROM x_sales__quote")).scalars())
    assert len(numbers) == 4 * (12 + 3 * 3)
    assert len(set(numbers)) == len(numbers)
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, len(numbers) + 1))
