"""docs/app-definitions.md stays honest: its example validates and publishes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlalchemy as sa

from tessera.engines.definitions import (
    PlatformTables,
    apply,
    compile_app,
    plan,
    schema_transaction,
    validate,
)

DOC = Path(__file__).parents[3] / "docs" / "app-definitions.md"


def example() -> dict:  # type: ignore[type-arg]
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert len(blocks) == 1
    result: dict = json.loads(blocks[0])  # type: ignore[type-arg]
    return result


def test_the_documented_example_validates() -> None:
    assert validate(example()) == []


def test_the_documented_example_publishes(engine: sa.Engine, platform: PlatformTables) -> None:
    app = compile_app(example())
    with schema_transaction(engine) as conn:
        apply(conn, plan(conn, None, app, platform))
    assert {"x_helpdesk__ticket", "x_helpdesk__ticket_step", "x_helpdesk___counters"} <= set(
        sa.inspect(engine).get_table_names()
    )
