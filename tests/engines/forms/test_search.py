"""The search objects themselves (the searches are in test_reads): how they are made and kept."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import naming
from tessera.engines.forms import ListQuery
from tessera.engines.forms.search import ensure_search_index, text_columns
from tessera.platform import apps
from tessera.platform.runtime import Platform


def _fts_sql(conn: sa.Connection) -> str:
    fts = naming.search_name(apps.published(conn, "sales").model.entity("customer").table)
    return str(
        conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?", (fts,)).scalar()
    )


def test_an_index_made_with_other_options_is_made_again_and_filled(
    sales: Platform, open_service: Any
) -> None:
    """SQLite: an index of an earlier release (with per-row column sizes) is replaced at the
    next publish, and the records already there are found through the new one."""
    with sales.db.engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            pytest.skip("FTS5 is SQLite's")
        assert "columnsize=0" in _fts_sql(conn)
        live = apps.published(conn, "sales")
        entity = live.model.entity("customer")
        fts, columns = naming.search_name(entity.table), ", ".join(text_columns(entity))
        conn.exec_driver_sql(f'DROP TABLE "{fts}"')  # as the earlier release made it:
        conn.exec_driver_sql(
            f'CREATE VIRTUAL TABLE "{fts}" USING fts5({columns}, content="{entity.table}", '
            "content_rowid='id', tokenize='trigram')"
        )
    with open_service() as svc:
        svc.create("customer", {"name": "深圳华为技术有限公司"})
    with sales.db.engine.begin() as conn:
        assert "columnsize=0" not in _fts_sql(conn)
        ensure_search_index(conn, live.model, live.metadata)
        assert "columnsize=0" in _fts_sql(conn)
    with open_service() as svc:
        assert [r["name"] for r in svc.list("customer", ListQuery(search="华为")).records] == [
            "深圳华为技术有限公司"
        ]
        svc.create("customer", {"name": "Li Wei Trading"})
        assert len(svc.list("customer", ListQuery(search="Wei Tra")).records) == 1
