"""How a version keeps its schema plan: phrases in a versioned JSON form, read back in any
language; the English lines earlier releases stored still read."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tessera.engines.messages import Localised, Phrase
from tessera.platform import app_plans, apps
from tessera.platform.app_plans import PlanLine
from tessera.platform.i18n import error_text
from tessera.platform.models import AppVersion
from tessera.platform.runtime import Platform
from tests.platform.test_apps import shop


def test_lines_round_trip_through_the_stored_form() -> None:
    order = Localised.of({"en": "Order", "zh-CN": "订单"}, "Order")
    lines = [
        PlanLine(Phrase("Create the table for the %(what)s", what=Phrase(
            "entity “%(entity)s” (%(table)s)", entity=order, table="x_shop__order"))),
        PlanLine(Phrase("Drop the %(what)s: its values are kept in the column %(aside)s until "
                        "purged", what="column a of x_shop__order", aside="_trash_a_v2"), True),
    ]  # fmt: skip
    stored = json.loads(json.dumps(app_plans.stored(lines)))
    assert stored["format"] == "tessera.plan/2"
    assert stored["steps"][1]["text"].startswith("Drop the column a of x_shop__order")
    back = app_plans.read(stored)
    assert back == lines
    assert [str(line) for line in back] == [
        "Create the table for the entity “Order” (x_shop__order)",
        "⚠ Drop the column a of x_shop__order: its values are kept in the column _trash_a_v2 "
        "until purged",
    ]
    assert error_text(back[0].message, "zh-CN") == "创建数据表：实体“订单”（x_shop__order）"


def test_english_lines_of_earlier_releases_are_version_one() -> None:
    old = ["Create the table for the entity “Order” (x_shop__order)", "⚠ Drop the field “A”"]
    assert app_plans.version_of(old) == 1
    back = app_plans.read(old)
    assert back == [PlanLine(old[0]), PlanLine("Drop the field “A”", True)]
    assert [str(line) for line in back] == old
    assert error_text(back[1].message, "zh-CN") == "Drop the field “A”"  # shown as written
    assert app_plans.read([]) == app_plans.read(None) == []


def test_an_unknown_or_newer_format_is_refused() -> None:
    with pytest.raises(ValueError, match="newer"):
        app_plans.read({"format": "tessera.plan/99", "steps": []})
    with pytest.raises(ValueError, match="not a stored plan"):
        app_plans.read({"steps": []})


def test_a_publish_stores_the_current_format(platform: Platform) -> None:
    result = apps.install(platform.db.engine, shop())
    with platform.db.engine.connect() as conn:
        stored = conn.scalar(sa.select(AppVersion.plan).where(AppVersion.version == 1))
        (version,) = apps.history(conn, "shop")
    assert isinstance(stored, dict) and stored["format"] == app_plans.FORMAT
    assert [step["text"] for step in stored["steps"]] == result.plan
    assert [str(line) for line in version["plan"]] == result.plan
    assert all(isinstance(line.message, Phrase) for line in version["plan"])
