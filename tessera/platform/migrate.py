"""Running the platform's Alembic migrations from code, the CLI and the tests.

The migration scripts live in ``migrations/`` at the top of the repository and are packed into
the wheel as ``tessera/_migrations`` (see pyproject.toml), so ``tessera db upgrade`` works from an
installed wheel as well as from a checkout.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def migrations_path() -> Path:
    """The folder with env.py: inside the installed package, else the checkout's ``migrations``."""
    packaged = _PACKAGE_DIR / "_migrations"
    if (packaged / "env.py").exists():
        return packaged
    return _PACKAGE_DIR.parent / "migrations"


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: sa.Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_up_to_date(engine: sa.Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
