"""Lists: JSON and formula filters, sorts, keyset pages, totals, search, hostile input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tessera.engines.forms import ListQuery, ValidationFailed, parse_sort


@pytest.fixture
def customers(open_service: Any) -> list[dict[str, Any]]:
    names = ["深圳华为技术有限公司", "Li Wei Trading", "Acme 100% Ltd", "Globex", "Initech",
             "北京小米科技", "Umbrella_Corp"]  # fmt: skip
    with open_service() as svc:
        head = svc.create("customer", {"name": "Head office", "tier": "a"})
        made = [
            svc.create("customer", {"name": n, "tier": "a" if i % 2 else "b",
                                    "email": f"c{i}@example.com" if i % 3 else None,
                                    "head_office": head["id"] if i < 3 else None})
            for i, n in enumerate(names)
        ]  # fmt: skip
    return [head, *made]


def names(page: Any) -> list[str]:
    return [r["name"] for r in page.records]


def test_json_and_formula_filters_agree(open_service: Any, customers: Any) -> None:
    with open_service() as svc:
        by_json = svc.list("customer", ListQuery(
            filter={"and": [{"field": "tier", "op": "eq", "value": "a"},
                            {"or": [{"field": "email", "op": "is_empty"},
                                    {"field": "name", "op": "contains", "value": "li"}]}]},
            sort=[("name", "asc")]))  # fmt: skip
        by_formula = svc.list("customer", ListQuery(
            filter='tier = "a" AND (ISBLANK(email) OR CONTAINS(LOWER(name), "li"))',
            sort=[("name", "asc")]))  # fmt: skip
        assert names(by_json) == names(by_formula)
        assert "Li Wei Trading" in names(by_json)
        linked = svc.list("customer", ListQuery(filter='head_office.name = "Head office"'))
        assert len(linked.records) == 3
        escaped = svc.list(
            "customer", ListQuery(filter={"field": "name", "op": "contains", "value": "0%"})
        )
        assert names(escaped) == ["Acme 100% Ltd"]
        underscore = svc.list(
            "customer", ListQuery(filter={"field": "name", "op": "contains", "value": "a_C"})
        )
        assert names(underscore) == ["Umbrella_Corp"]


def test_keyset_pages_walk_the_whole_list_in_order(open_service: Any) -> None:
    with open_service() as svc:
        customer = svc.create("customer", {"name": "ACME"})
        amounts = [None if i % 7 == 0 else Decimal(i % 10) for i in range(53)]
        svc.bulk_create("quote", [{"customer": customer["id"], "amount": a, "note": f"n{i % 4}"}
                                  for i, a in enumerate(amounts)])  # fmt: skip
        for sort in (
            [("amount", "asc")],
            [("amount", "desc"), ("note", "asc")],
            [("note", "desc")],
            [],
        ):
            seen: list[dict[str, Any]] = []
            cursor = None
            pages = 0
            while True:
                page = svc.list(
                    "quote", ListQuery(sort=sort, limit=10, after=cursor, with_total=True)
                )
                assert page.total == 53
                seen += page.records
                pages += 1
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert pages == 6 and len({r["id"] for r in seen}) == 53
            everything = svc.list("quote", ListQuery(sort=sort, limit=500)).records
            assert [r["id"] for r in seen] == [r["id"] for r in everything]
            if sort and sort[0][0] == "amount":
                values = [r["amount"] for r in seen]
                present = [v for v in values if v is not None]
                assert values[len(present) :] == [None] * (53 - len(present))  # blanks last
                assert present == sorted(present, reverse=sort[0][1] == "desc")


def test_hostile_sorts_filters_and_cursors_are_refused_with_paths(
    open_service: Any, customers: Any
) -> None:
    with open_service() as svc:
        with pytest.raises(ValidationFailed) as caught:
            parse_sort("name, (select sleep(5))")
        assert caught.value.errors[0].path == "sort[1]"
        with pytest.raises(ValidationFailed) as caught:
            svc.list("customer", ListQuery(sort=[("name; drop table users", "asc")]))
        assert caught.value.errors[0].path == "sort[0]"
        with pytest.raises(ValidationFailed) as caught:
            svc.list(
                "customer",
                ListQuery(filter={"or": [{"field": "x`) or 1=1--", "op": "eq", "value": 1}]}),
            )
        assert (caught.value.errors[0].path, caught.value.errors[0].code) == (
            "filter.or[0].field", "unknown_field"
        )  # fmt: skip
        with pytest.raises(ValidationFailed) as caught:
            svc.list("customer", ListQuery(filter={"field": "tier", "op": "gt", "value": "a"}))
        assert caught.value.errors[0].path == "filter.op"
        with pytest.raises(ValidationFailed) as caught:
            svc.list("customer", ListQuery(filter={"field": "tier", "op": "eq", "value": "zzz"}))
        assert caught.value.errors[0].path == "filter.value"
        with pytest.raises(ValidationFailed) as caught:
            svc.list("customer", ListQuery(filter='name = "x" OR 1=1; --'))
        assert caught.value.errors[0].path == "filter"
        with pytest.raises(ValidationFailed) as caught:
            svc.list("customer", ListQuery(filter="().__class__.__bases__[0]"))
        assert caught.value.errors[0].path == "filter"
        with pytest.raises(ValidationFailed):
            svc.list("customer", ListQuery(sort=[("tier", "asc")], after="bm90IGEgY3Vyc29y"))
        page = svc.list("customer", ListQuery(sort=[("name", "asc")], limit=2))
        with pytest.raises(ValidationFailed):  # a cursor belongs to its own sort and filter
            svc.list("customer", ListQuery(sort=[("tier", "asc")], after=page.next_cursor))
        with pytest.raises(ValidationFailed) as caught:
            svc.get("customer", customers[0]["id"], fields=["name", "password_hash"])
        assert caught.value.errors[0].path == "fields[1]"


def test_signed_cursors_cannot_be_forged(open_service: Any, customers: Any) -> None:
    with open_service(cursor_key=b"k" * 32) as svc:
        page = svc.list("customer", ListQuery(sort=[("name", "asc")], limit=2))
        assert page.next_cursor is not None and "." in page.next_cursor
        body, _, _ = page.next_cursor.partition(".")
        with pytest.raises(ValidationFailed):
            svc.list("customer", ListQuery(sort=[("name", "asc")], limit=2, after=body + ".00"))
        again = svc.list(
            "customer", ListQuery(sort=[("name", "asc")], limit=2, after=page.next_cursor)
        )
        assert names(again) and names(again)[0] > names(page)[-1]


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("华为", ["深圳华为技术有限公司"]),
        ("华为技术", ["深圳华为技术有限公司"]),
        ("li", ["Li Wei Trading"]),
        ("LI WEI", ["Li Wei Trading"]),
        ("trading wei", ["Li Wei Trading"]),
        ("100%", ["Acme 100% Ltd"]),
        ("c1@example", ["Li Wei Trading"]),  # emails are searched too
        ("小米", ["北京小米科技"]),
        ('"; drop', []),
    ],
)
def test_search_finds_substrings_in_chinese_and_english(
    open_service: Any, customers: Any, term: str, found: list[str]
) -> None:
    with open_service() as svc:
        assert sorted(names(svc.list("customer", ListQuery(search=term)))) == sorted(found)


def test_search_follows_writes(open_service: Any, customers: Any) -> None:
    with open_service() as svc:
        target = customers[1]
        svc.update("customer", target["id"], {"name": "腾讯控股"})
        assert names(svc.list("customer", ListQuery(search="腾讯控股"))) == ["腾讯控股"]
        assert names(svc.list("customer", ListQuery(search="华为技术"))) == []
        svc.delete("customer", target["id"])
        assert names(svc.list("customer", ListQuery(search="腾讯控股"))) == []
        assert names(svc.list("customer", ListQuery(search="腾讯控股", trashed=True))) == [
            "腾讯控股"
        ]


def test_fields_and_expand(open_service: Any, customers: Any) -> None:
    head, first = customers[0], customers[1]
    with open_service() as svc:
        record = svc.get("customer", first["id"], fields=["name"], expand=["head_office"])
        assert set(record) >= {"id", "version", "name"} and "email" not in record
        page = svc.list("customer", ListQuery(
            filter={"field": "head_office", "op": "eq", "value": head["id"]},
            fields=["name", "head_office"], expand=["head_office"]))  # fmt: skip
        assert {r["head_office"]["name"] for r in page.records} == {"Head office"}
        with pytest.raises(ValidationFailed):
            svc.get("customer", first["id"], expand=["name"])
