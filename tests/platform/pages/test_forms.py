"""Create and edit forms: every input read back, errors beside their fields, conditions
re-checked on save, optimistic locking, and fields a crafted POST must not reach."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from tessera.platform.models import User
from tessera.platform.runtime import Platform
from tests.conftest import Web

from . import factories

DEALS = "/apps/fieldtest/deal/"


def post_form(web: Web, path: str, fields: dict[str, Any], **kwargs: Any) -> Any:
    return web.post(path, fields, token_from=path, content_type="multipart/form-data", **kwargs)


def test_a_form_with_every_kind_of_input_creates_the_record(
    fieldtest: Platform, signed_in: Web
) -> None:
    acme = factories.create(fieldtest, "company", {"name": "Acme", "city": "Xi'an"})
    beta = factories.create(fieldtest, "company", {"name": "Beta"})
    response = post_form(
        signed_in,
        DEALS + "new",
        {
            "name": "Everything",
            "stage": "qualified",
            "tags.present": "1",
            "tags": ["hot", "vip"],
            "company": str(acme["id"]),
            "partners.present": "1",
            "partners": [str(beta["id"])],
            "amount": "¥1,234.50",
            "quantity": "3",
            "weight": "2.5",
            "discount": "12.5%",
            "signed.present": "1",
            "close_date": "2026-11-20",
            "meeting_at": "2026-11-20T09:30",
            "call_time": "14:15",
            "effort": "1:30",
            "contact_email": "a@b.cn",
            "phone": "+86 10 1234 5678",
            "website": "https://example.cn",
            "score": "4",
            "rep": "",
            "team": "",
            "notes": "two\nlines",
            "summary": "<p>ok<script>alert(1)</script></p>",
            "site.lat": "31.23",
            "site.lng": "121.47",
            "extra": '{"k": [1, 2]}',
            "lines.present": "1",
            "lines.0.product": "Router",
            "lines.0.qty": "2",
            "lines.0.price": "10",
            "lines.0.supplier": str(beta["id"]),
            "lines.1.product": "",
            "lines.1.qty": "",
            "files.present": "1",
            "files.upload": (io.BytesIO(b"plan\n"), "plan.txt"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    record = factories.get(fieldtest, "deal", int(response.headers["Location"].rsplit("/", 1)[1]))
    assert record["tags"] == ["hot", "vip"] and record["partners"] == [beta["id"]]
    assert str(record["amount"]) == "1234.50" and str(record["discount"]) == "12.50"
    assert record["signed"] is False and record["score"] == 4 and record["effort"] == 5400
    assert record["meeting_at"].isoformat() == "2026-11-20T09:30:00+00:00"  # the user's zone is UTC
    assert "<script>" not in record["summary"]
    assert record["site"] == {"lat": 31.23, "lng": 121.47} and record["extra"] == {"k": [1, 2]}
    assert [(r["product"], r["qty"]) for r in record["lines"]] == [
        ("Router", 2)
    ]  # the blank row is dropped
    assert [f["name"] for f in record["files"]] == ["plan.txt"] and record["files"][0][
        "mime"
    ] == "text/plain"
    assert (
        record["total"] is not None
        and record["line_count"] == 1
        and record["company_city"] == "Xi'an"
    )
    detail = signed_in.client.get(f"{DEALS}{record['id']}").get_data(as_text=True)
    assert "Acme" in detail and "plan.txt" in detail and "created this record" in detail


def test_errors_are_shown_beside_their_fields(fieldtest: Platform, signed_in: Web) -> None:
    response = post_form(
        signed_in,
        DEALS + "new",
        {
            "name": "",
            "quantity": "lots",
            "extra": "{not json",
            "lines.present": "1",
            "lines.0.product": "",
            "lines.0.qty": "0",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-extra-error"' in html and "not valid JSON" in html
    html = post_form(signed_in, DEALS + "new", {"name": ""}).get_data(as_text=True)
    assert 'id="f-name-error"' in html and "is required" in html
    html = post_form(signed_in, DEALS + "new", {"name": "x", "quantity": "lots"}).get_data(
        as_text=True
    )
    assert 'id="f-quantity-error"' in html and "whole number" in html
    assert 'value="lots"' in html  # what the user typed stays in the form


def test_conditions_are_checked_again_on_save(fieldtest: Platform, signed_in: Web) -> None:
    # close_date is visible only when stage <> "lost"; discount is read-only once signed
    response = post_form(
        signed_in,
        DEALS + "new",
        {
            "name": "Lost one",
            "stage": "lost",
            "close_date": "2026-01-01",
            "signed.present": "1",
            "signed": "1",
            "discount": "40",
        },
    )
    assert response.status_code == 302
    record = factories.get(fieldtest, "deal", 1)
    assert record["close_date"] is None and record["discount"] is None and record["signed"] is True


def test_a_crafted_post_cannot_reach_computed_system_or_unknown_fields(
    fieldtest: Platform, signed_in: Web
) -> None:
    response = post_form(
        signed_in,
        DEALS + "new",
        {
            "name": "Crafted",
            "total": "999",
            "number": "X-1",
            "owner": "999",
            "created_by": "5",
            "version": "77",
            "line_count": "9",
            "nonexistent": "x",
        },
    )
    assert response.status_code == 302
    record = factories.get(fieldtest, "deal", 1)
    assert record["number"] == "D-0001" and record["total"] is None and record["version"] == 1


def test_a_stale_edit_is_refused_and_keeps_the_users_values(
    fieldtest: Platform, signed_in: Web
) -> None:
    deal = factories.create(fieldtest, "deal", {"name": "Shared deal"})
    edit = f"{DEALS}{deal['id']}/edit"
    ok = post_form(signed_in, edit, {"name": "First save", "version": "1"})
    assert ok.status_code == 302
    stale = post_form(signed_in, edit, {"name": "Second save", "version": "1"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Someone else saved this record" in html
    assert 'value="Second save"' in html
    assert factories.get(fieldtest, "deal", deal["id"])["name"] == "First save"


def test_files_of_other_users_cannot_be_attached(
    fieldtest: Platform, signed_in: Web, user_factory: Callable[..., User], other_web: Web
) -> None:
    other = user_factory(name="Mallory")
    other_web.sign_in(other.email)
    theirs = post_form(
        other_web,
        DEALS + "new",
        {
            "name": "Theirs",
            "files.present": "1",
            "files.upload": (io.BytesIO(b"secret"), "secret.txt"),
        },
    )
    assert theirs.status_code == 302
    file_id = factories.get(fieldtest, "deal", 1)["files"][0]["id"]
    response = post_form(
        signed_in, DEALS + "new", {"name": "Mine", "files.present": "1", "files": file_id}
    )
    assert response.status_code == 422 and "could not be attached" in response.get_data(
        as_text=True
    )


def test_quick_add_prefills_the_link(fieldtest: Platform, page: Callable[..., Any]) -> None:
    acme = factories.create(fieldtest, "company", {"name": "Acme"})
    status, html = page(f"{DEALS}new?company={acme['id']}")
    assert (
        status == 200 and 'value="Acme"' in html and f'name="company" value="{acme["id"]}"' in html
    )


def test_field_errors_are_shown_in_the_users_language(
    fieldtest: Platform, web: Web, user_factory: Callable[..., User]
) -> None:
    web.sign_in(user_factory(name="Wang", locale="zh-CN").email)
    response = post_form(web, DEALS + "new", {"name": "", "quantity": "lots", "effort": "soon"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-quantity-error"' in html and "“lots”不是整数" in html
    assert "“soon”不是时长；请写成 1:30 或 2h 15m 的形式" in html
    assert 'value="soon"' in html  # shown again as typed (this used to fail with a 500)
    html = post_form(web, DEALS + "new", {"name": ""}).get_data(as_text=True)
    assert 'id="f-name-error"' in html and "“名称”为必填项" in html and "is required" not in html
