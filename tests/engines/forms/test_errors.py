"""Records errors carry their message template and values, not only an English sentence."""

from __future__ import annotations

import pytest

from tessera.engines.forms.errors import FieldError, NotFound, PermissionDenied, ValidationFailed

NOT_A_DATE = "“%(value)s” is not a date"


def test_an_error_from_a_template_says_it_in_english_and_keeps_what_it_means() -> None:
    error = FieldError.of("due", NOT_A_DATE, "invalid", value="31/31")
    assert error.message == "“31/31” is not a date"
    assert (error.template, dict(error.params), error.code) == (
        NOT_A_DATE,
        {"value": "31/31"},
        "invalid",
    )


def test_a_plain_sentence_is_its_own_template() -> None:
    error = FieldError("", "give a list of records", "type")
    assert error.template == "give a list of records" and dict(error.params) == {}


def test_under_and_at_keep_template_and_params() -> None:
    error = FieldError.of("qty", "“%(value)s” is not a whole number", value="abc")
    deeper = error.under("lines[2]").under("[5]")
    assert deeper.path == "[5].lines[2].qty"
    assert (deeper.message, deeper.template, dict(deeper.params), deeper.code) == (
        error.message,
        error.template,
        {"value": "abc"},
        "invalid",
    )
    top = FieldError.of("", "“%(label)s” is required", "required", label="Name").under("[0]")
    assert top.path == "[0]" and dict(top.params) == {"label": "Name"}
    moved = error.at("create[3].qty")
    assert moved.path == "create[3].qty" and moved.template == error.template


def test_errors_stay_hashable_even_with_unhashable_values() -> None:
    one = FieldError.of("tags", "“%(value)s” is not a list of options", value={"a": 1})
    two = FieldError.of("tags", "“%(value)s” is not a list of options", value={"a": 1})
    assert one == two and len({one, two}) == 1
    with pytest.raises(AttributeError):
        one.path = "other"  # type: ignore[misc]


def test_params_are_a_copy_of_what_was_given() -> None:
    given = {"value": "x"}
    error = FieldError("due", "“x” is not a date", "invalid", NOT_A_DATE, given)
    given["value"] = "changed"
    assert dict(error.params) == {"value": "x"}


def test_validation_failed_one_builds_from_a_template() -> None:
    failed = ValidationFailed.one("limit", "the page size is 1 to %(max)s", "bad_limit", max=500)
    (error,) = failed.errors
    assert error.message == "the page size is 1 to 500" and dict(error.params) == {"max": 500}
    assert str(failed) == "limit: the page size is 1 to 500"


def test_not_found_and_permission_denied_carry_template_and_params() -> None:
    missing = NotFound("there is no %(entity)s #%(id)s", entity="Deal", id=7)
    assert str(missing) == "there is no Deal #7"
    assert missing.template == "there is no %(entity)s #%(id)s"
    assert missing.params == {"entity": "Deal", "id": 7}
    denied = PermissionDenied("rows of a child table are changed through their parent record")
    assert str(denied) == denied.template and denied.params == {}
