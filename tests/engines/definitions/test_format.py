"""The format version, the upgrade chain and frozen fixtures that must round-trip."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tessera.engines.definitions import FORMAT, FormatError, compile_app, upgrade, validate
from tessera.engines.definitions.format import app_schema, version_of

FIXTURES = Path(__file__).parent / "fixtures"


def test_schema_ships_in_the_package_and_is_valid_2020_12() -> None:
    text = (
        files("tessera.engines.definitions").joinpath("schema/app.schema.json").read_text("utf-8")
    )
    Draft202012Validator.check_schema(json.loads(text))
    assert app_schema()["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("path", sorted((FIXTURES / "v1").glob("*.json")), ids=lambda p: p.name)
def test_frozen_current_fixtures_round_trip_unchanged(path: Path) -> None:
    original = json.loads(path.read_text("utf-8"))
    assert upgrade(original) == original
    assert compile_app(original).to_doc() == original


def test_unversioned_draft_upgrades_to_current_format() -> None:
    old = json.loads((FIXTURES / "v0" / "unversioned.json").read_text("utf-8"))
    assert version_of(old) == 0
    new = upgrade(old)
    assert new["format"] == FORMAT
    assert new["label"] == {"en": "Notes"} and "name" not in new
    assert "format" not in old, "upgrade must not change its input"
    assert validate(new) == []
    assert upgrade(new) == new


def test_future_format_is_refused_with_a_clear_message() -> None:
    with pytest.raises(FormatError, match="newer than this release"):
        upgrade({"format": "tessera.app/99", "key": "x"})
    assert validate({"format": "nonsense"})[0].path == ("format",)
