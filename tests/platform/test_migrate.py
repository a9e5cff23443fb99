"""The migrations create exactly the tables the models describe, and downgrade cleanly."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tessera.platform import migrate
from tessera.platform.models import Base


def test_upgrade_matches_the_models(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_removes_every_table_and_upgrade_again_works(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    assert names == set()
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
