"""Related lists on a record page (``form.sections[].related``) and view conditions (``where``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tessera.engines.definitions import compile_app, validate

from .factories import Doc, tweak

SALES = json.loads((Path(__file__).parent / "fixtures" / "v1" / "sales.json").read_text("utf-8"))
ACCOUNT = 0


def with_related(**related: Any) -> Doc:
    """The sales app with a related-list section on the account page."""

    def change(doc: Doc) -> None:
        doc["entities"][ACCOUNT]["form"] = {
            "sections": [
                {"label": "Account", "fields": ["name", "industry"]},
                {"label": "Deals", "related": [{"entity": "deal", "link": "account", **related}]},
            ]
        }

    return tweak(SALES, change)


def first_error(doc: Doc) -> tuple[str, str]:
    errors = validate(doc)
    assert errors, "expected an error"
    return errors[0].json_path, errors[0].code


def test_a_record_page_lists_records_that_link_here() -> None:
    doc = with_related(
        label={"en": "Deals", "zh-CN": "商机"},
        columns=["number", "name", "amount", "stage"],
        sort=[{"field": "close_on", "direction": "desc"}],
        limit=20,
    )
    assert validate(doc) == []
    compile_app(doc)  # and it compiles


def test_a_timeline_is_sorted_by_a_date_first() -> None:
    good = with_related(display="timeline", sort=[{"field": "close_on", "direction": "desc"}])
    assert validate(good) == []
    by_created = with_related(display="timeline", sort=[{"field": "created_at"}])
    assert validate(by_created) == []
    bad = with_related(display="timeline", sort=[{"field": "amount"}])
    assert first_error(bad) == ("$.entities[0].form.sections[1].related[0].sort", "bad_timeline")
    unsorted = with_related(display="timeline")
    assert first_error(unsorted)[1] == "bad_timeline"


@pytest.mark.parametrize(
    ("related", "path", "code"),
    [
        ({"entity": "ghost"}, "$.entities[0].form.sections[1].related[0].entity", "unknown_entity"),
        ({"link": "amount"}, "$.entities[0].form.sections[1].related[0].link", "bad_related_link"),
        ({"link": "nothing"}, "$.entities[0].form.sections[1].related[0].link", "bad_related_link"),
        (
            {"columns": ["name", "amont"]},
            "$.entities[0].form.sections[1].related[0].columns[1]",
            "unknown_field",
        ),
        (
            {"sort": [{"field": "nope"}]},
            "$.entities[0].form.sections[1].related[0].sort[0].field",
            "unknown_field",
        ),
        ({"limit": 0}, "$.entities[0].form.sections[1].related[0].limit", "range"),
        ({"display": "cards"}, "$.entities[0].form.sections[1].related[0].display", "not_allowed"),
    ],
)
def test_broken_related_lists_are_reported_with_their_path(
    related: Doc, path: str, code: str
) -> None:
    assert first_error(with_related(**related)) == (path, code)


def test_a_related_list_must_link_to_this_entity() -> None:
    """deal_line's rows are not linked to accounts by a link field: refused."""
    doc = with_related(entity="deal_line", link="product")
    assert first_error(doc) == (
        "$.entities[0].form.sections[1].related[0].link",
        "bad_related_link",
    )


def test_a_section_needs_fields_or_related_lists() -> None:
    doc = tweak(SALES, lambda d: d["entities"][ACCOUNT].update(form={"sections": [{"label": "x"}]}))
    assert validate(doc), "a section with neither fields nor related lists is refused"
    assert validate(with_related()) == []


def test_view_conditions_name_real_fields() -> None:
    def add_view(where: str) -> Doc:
        return tweak(
            SALES,
            lambda d: d["entities"][1]["views"].append(
                {"key": "mine", "type": "list", "where": where}
            ),
        )

    assert validate(add_view("owner = CURRENT_USER() AND amount > 1000")) == []
    errors = validate(add_view("owner = CURRENT_USER() AND amont > 1000"))
    assert errors[0].code == "unknown_field"
    assert errors[0].json_path.endswith(".where")
    assert "amont" in errors[0].message
