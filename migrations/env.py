"""Alembic environment for the platform's own tables.

The engine is handed in through ``config.attributes["engine"]`` by ``tessera.platform.migrate``;
there is no alembic.ini and no URL here, so migrations always run against the configured database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from tessera.platform.models import Base

config = context.config
target_metadata = Base.metadata


def _platform_tables_only(name: str | None, type_: str, parent_names: object) -> bool:
    # App tables (x_*, and xt_* moved aside by a drop) belong to the definitions engine.
    return not (type_ == "table" and name is not None and name.startswith(("x_", "xt_")))


def run_migrations_online() -> None:
    engine: sa.Engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=_platform_tables_only,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
