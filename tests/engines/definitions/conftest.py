from __future__ import annotations

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import PlatformTables

from .factories import platform_stand_ins


@pytest.fixture
def platform(engine: sa.Engine) -> PlatformTables:
    """The platform's users/departments stand-ins, created in the test database."""
    with engine.begin() as conn:
        return platform_stand_ins(conn)
