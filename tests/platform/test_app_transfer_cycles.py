"""Export and import of an app whose links form a cycle between tables (lead ↔ contact)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines import definitions as defs
from tessera.platform import app_transfer, apps
from tessera.platform.models import App, AppVersion
from tessera.platform.runtime import Platform

pytestmark = pytest.mark.filterwarnings("error")

DOC: dict[str, Any] = {
    "format": "tessera.app/1",
    "key": "sales",
    "label": "Sales",
    "entities": [
        {
            "key": "lead",
            "title": "name",
            "fields": [
                {"key": "name", "type": "text"},
                {"key": "converted_contact", "type": "link", "entity": "contact"},
            ],
        },
        {
            "key": "contact",
            "title": "name",
            "fields": [
                {"key": "name", "type": "text"},
                {"key": "source_lead", "type": "link", "entity": "lead"},
            ],
        },
    ],
}


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        live = apps.published(conn, "sales")
        return {
            e: [tuple(r) for r in conn.execute(sa.select(live.table(e)).order_by(sa.text("id")))]
            for e in ("lead", "contact")
        }


def test_an_app_with_a_link_cycle_exports_and_imports_with_its_data(platform: Platform) -> None:
    engine = platform.db.engine
    apps.install(engine, copy.deepcopy(DOC))
    with engine.begin() as conn:
        live = apps.published(conn, "sales")
        lead, contact = live.table("lead"), live.table("contact")
        conn.execute(sa.insert(lead), [{"id": 1, "name": "Wang"}, {"id": 2, "name": "Li"}])
        conn.execute(sa.insert(contact), [{"id": 1, "name": "Wang", "source_lead": 1}])
        conn.execute(sa.update(lead).where(lead.c.id == 1).values(converted_contact=1))
    with engine.connect() as conn:
        document = app_transfer.export_app(conn, "sales", with_data=True)
    before = snapshot(engine)
    with defs.schema_transaction(engine) as conn:
        apps.published(conn, "sales").metadata.drop_all(conn)
        conn.execute(sa.delete(AppVersion))
        conn.execute(sa.delete(App))
    app_transfer.import_app(engine, copy.deepcopy(document))
    assert snapshot(engine) == before
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the keys are back
        conn.execute(sa.text("UPDATE x_sales__contact SET source_lead = 42 WHERE id = 1"))
