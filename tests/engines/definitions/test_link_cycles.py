"""Links that form cycles between tables: a pair, an entity linking itself, a ring of three.

Each shape is published, filled with rows that link both ways, changed (a new field and a type
conversion, which rebuilds a table on SQLite), rolled back, and dropped and purged, on SQLite
and PostgreSQL.  SQLAlchemy warns when it cannot order tables; every warning is an error here.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.definitions import (
    PlatformTables,
    build_metadata,
    compile_app,
    purge,
    schema_transaction,
)
from tessera.engines.definitions.tables import cycle_links

from .factories import Doc, app_doc, publish, tweak

pytestmark = pytest.mark.filterwarnings("error")


def _entity(key: str, *links: tuple[str, str]) -> Doc:
    return {
        "key": key,
        "title": "name",
        "fields": [
            {"key": "name", "type": "text"},
            {"key": "qty", "type": "integer"},
            *({"key": field, "type": "link", "entity": target} for field, target in links),
        ],
    }


def _app(*entities: Doc) -> Doc:
    # "keep" stays when the cycle's entities are dropped (an app needs one entity)
    return app_doc("cyc", "Cycles", *entities, _entity("keep"))


#: shape -> app document (each also has an unlinked entity "keep")
SHAPES: dict[str, Doc] = {
    "pair": _app(
        _entity("lead", ("contact", "contact")), _entity("contact", ("source_lead", "lead"))
    ),
    "self": _app(_entity("account", ("parent_account", "account"))),
    "ring": _app(
        _entity("alpha", ("next", "beta")),
        _entity("beta", ("next", "gamma")),
        _entity("gamma", ("next", "alpha")),
    ),
}


def links(doc: Doc) -> list[tuple[str, str, str]]:
    return [
        (e["key"], f["key"], f["entity"])
        for e in doc["entities"]
        for f in e["fields"]
        if f["type"] == "link"
    ]


def table(entity: str) -> str:
    return f"x_cyc__{entity}"


def foreign_keys(engine: sa.Engine, entity: str) -> set[tuple[str, str]]:
    """(column, referred table) of the app-level foreign keys of ``entity``'s table."""
    found = sa.inspect(engine).get_foreign_keys(table(entity))
    return {
        (fk["constrained_columns"][0], fk["referred_table"])
        for fk in found
        if fk["referred_table"].startswith("x_")
    }


Expected = dict[str, dict[int, dict[str, Any]]]


def fill(engine: sa.Engine, doc: Doc) -> Expected:
    """Two rows per entity, then every link set both ways: row 1 → row 2 of the target, row 2 →
    row 1.  Returns what each row should hold, by table and row id."""
    entities = [e["key"] for e in doc["entities"]]
    expected: Expected = {}
    with engine.begin() as conn:
        for entity in entities:
            t = sa.table(table(entity), sa.column("id"), sa.column("name"), sa.column("qty"))
            one, two = f"{entity} one", f"{entity} two"
            conn.execute(
                t.insert(), [{"id": 1, "name": one, "qty": 3}, {"id": 2, "name": two, "qty": 4}]
            )
            expected[entity] = {1: {"name": f"{entity} one"}, 2: {"name": f"{entity} two"}}
        for entity, field, _target in links(doc):
            t = sa.table(table(entity), sa.column("id"), sa.column(field))
            for row_id, target_id in ((1, 2), (2, 1)):
                conn.execute(t.update().where(t.c.id == row_id).values({field: target_id}))
                expected[entity][row_id][field] = target_id
    return expected


def check(engine: sa.Engine, expected: Expected) -> None:
    with engine.connect() as conn:
        for entity, wanted in expected.items():
            got = {
                r["id"]: {k: r[k] for k in wanted[r["id"]]}
                for r in conn.execute(sa.text(f"SELECT * FROM {table(entity)}")).mappings()
            }
            assert got == wanted, entity
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def v2_change(doc: Doc) -> None:
    """A new field everywhere and integer → decimal (rebuilds each table on SQLite)."""
    for entity in doc["entities"]:
        for f in entity["fields"]:
            if f["key"] == "qty":
                f["type"] = "decimal"
        entity["fields"].append({"key": "note", "type": "text"})


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_cycles_publish_change_roll_back_and_drop(
    engine: sa.Engine, platform: PlatformTables, shape: str
) -> None:
    doc = SHAPES[shape]
    v1, v2 = compile_app(doc), compile_app(tweak(doc, v2_change))
    cycle = [e["key"] for e in doc["entities"] if e["key"] != "keep"]

    words = publish(engine, None, v1, platform, "v1")
    deferred = cycle_links(v1)
    if shape == "self":
        assert deferred == frozenset()  # a table may always reference itself
    else:
        assert len(deferred) == 1  # one key breaks the cycle: the last in document order
        (late,) = deferred
        assert late == (links(doc)[-1][0], links(doc)[-1][1])
        on_postgres = engine.dialect.name == "postgresql"
        added_later = [w for w in words if w.startswith("Add the link")]
        assert len(added_later) == (1 if on_postgres else 0), words
    for entity, field, target in links(doc):
        assert (field, table(target)) in foreign_keys(engine, entity)

    expected = fill(engine, doc)
    check(engine, expected)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the keys hold
        entity, field, _ = links(doc)[0]
        conn.execute(sa.text(f"UPDATE {table(entity)} SET {field} = 99 WHERE id = 1"))

    words = publish(engine, v1, v2, platform, "v2")
    assert sum(w.startswith("Convert the field “Qty”") for w in words) == len(cycle) + 1
    check(engine, expected)
    for entity, field, target in links(doc):
        assert (field, table(target)) in foreign_keys(engine, entity)

    publish(engine, v2, v1, platform, "v3", confirm=True)  # roll back to version 1
    check(engine, expected)
    with engine.connect() as conn:
        assert conn.scalar(sa.text(f"SELECT qty FROM {table(cycle[0])} WHERE id = 2")) == 4

    only_keep = compile_app(
        tweak(doc, lambda d: d.update(entities=[e for e in d["entities"] if e["key"] == "keep"]))
    )
    words = publish(engine, v1, only_keep, platform, "v4", confirm=True)
    assert sum(w.startswith("⚠ Drop the entity") for w in words) == len(cycle)
    names = set(sa.inspect(engine).get_table_names())
    assert {f"xt_v4_cyc__{e}" for e in cycle} <= names

    with schema_transaction(engine) as conn:
        removed = purge(conn, "cyc")
    assert {f"xt_v4_cyc__{e}" for e in cycle} <= set(removed)
    names = set(sa.inspect(engine).get_table_names())
    assert not [n for n in names if n.startswith("xt_")]
    assert table("keep") in names


def test_a_link_added_later_closes_a_cycle_with_an_old_and_a_new_table(
    engine: sa.Engine, platform: PlatformTables
) -> None:
    """Version 2 links contact back to lead (both exist) and adds deal, which links lead while
    lead gains a link to deal: the new table and the new column need each other."""
    v1_doc = _app(_entity("lead", ("contact", "contact")), _entity("contact"))
    v2_doc = tweak(
        v1_doc,
        lambda d: (
            d["entities"][0]["fields"].append({"key": "deal", "type": "link", "entity": "deal"}),
            d["entities"][1]["fields"].append(
                {"key": "source_lead", "type": "link", "entity": "lead"}
            ),
            d["entities"].append(_entity("deal", ("lead", "lead"))),
        ),
    )
    v1, v2 = compile_app(v1_doc), compile_app(v2_doc)
    assert cycle_links(v2) == {("contact", "source_lead"), ("deal", "lead")}
    publish(engine, None, v1, platform, "v1")
    expected = fill(engine, v1_doc)
    publish(engine, v1, v2, platform, "v2")
    assert ("source_lead", "x_cyc__lead") in foreign_keys(engine, "contact")
    assert ("lead", "x_cyc__lead") in foreign_keys(engine, "deal")
    assert ("deal", "x_cyc__deal") in foreign_keys(engine, "lead")
    check(engine, expected)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO x_cyc__deal (id, name, lead) VALUES (1, 'big', 2)"))
        conn.execute(sa.text("UPDATE x_cyc__lead SET deal = 1 WHERE id = 2"))
        conn.execute(sa.text("UPDATE x_cyc__contact SET source_lead = 2 WHERE id = 1"))
    publish(engine, v2, v1, platform, "v3", confirm=True)  # roll back: deal and links go aside
    check(engine, expected)
    assert "xt_v3_cyc__deal" in sa.inspect(engine).get_table_names()
    with schema_transaction(engine) as conn:
        removed = purge(conn, "cyc")
    assert "xt_v3_cyc__deal" in removed and "x_cyc__lead._trash_deal_v3" in removed


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_whole_schema_creates_and_drops_in_order(
    engine: sa.Engine, platform: PlatformTables, shape: str
) -> None:
    """``MetaData.create_all``/``drop_all`` (the app's tables with rows linking both ways)."""
    doc = SHAPES[shape]
    metadata = build_metadata(compile_app(doc), platform)
    with schema_transaction(engine) as conn:
        metadata.create_all(conn)
    fill(engine, doc)
    with schema_transaction(engine) as conn:
        metadata.drop_all(conn)
    assert not [n for n in sa.inspect(engine).get_table_names() if n.startswith("x_")]
