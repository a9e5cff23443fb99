"""Statements run on SQLite's driver answer exactly what SQLAlchemy would: the same values of
the same types (aware datetimes, parsed JSON, booleans, NULLs, labels), with literals of the
statement (``coalesce(x, '')``, casts) sent as SQLAlchemy sends them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines import driver
from tessera.engines.sqltypes import Json, UtcDateTime

metadata = sa.MetaData()
PEOPLE = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("active", sa.Boolean),
    sa.Column("seen_at", UtcDateTime),
    sa.Column("tags", Json),
    sa.Column("boss_id", sa.Integer, sa.ForeignKey("people.id")),
)
BOSS = PEOPLE.alias("boss")
QUERY = (
    sa.select(
        PEOPLE.c.id.label("person_id"),
        PEOPLE.c.name,
        PEOPLE.c.active,
        PEOPLE.c.seen_at,
        PEOPLE.c.tags,
        (sa.cast(PEOPLE.c.id, sa.String) + ":" + sa.func.coalesce(BOSS.c.name, "")).label("pair"),
        BOSS.c.seen_at.label("boss_seen_at"),
    )
    .select_from(PEOPLE.outerjoin(BOSS, BOSS.c.id == PEOPLE.c.boss_id))
    .where(PEOPLE.c.name == sa.bindparam("name"))
)
SEEN = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def people(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(PEOPLE),
            [
                {"id": 1, "name": "Wang Fang 王芳", "active": True, "seen_at": SEEN,
                 "tags": {"vip": [1, None, "二"]}, "boss_id": None},
                {"id": 2, "name": "Li Wei", "active": False, "seen_at": None, "tags": None,
                 "boss_id": 1},
            ],
        )  # fmt: skip
    return engine


@pytest.mark.parametrize("name", ["Wang Fang 王芳", "Li Wei", "nobody"])
def test_first_answers_what_sqlalchemy_answers(people: sa.Engine, name: str) -> None:
    with people.begin() as conn:
        expected = conn.execute(QUERY, {"name": name}).first()
        got: Any = driver.first(conn, QUERY, {"name": name})
    if expected is None:
        assert got is None
        return
    assert tuple(got) == tuple(expected)
    assert [type(v) for v in got] == [type(v) for v in expected]
    assert got._fields == tuple(expected._fields)
    assert got.pair == expected.pair and got.person_id == expected.person_id


def test_first_on_sqlite_goes_to_the_driver_and_reads_the_open_transaction(
    people: sa.Engine,
) -> None:
    """No SQLAlchemy statement is run (the point of it), and a row written earlier in the same
    transaction is seen (it is the same connection)."""
    if people.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps SQLAlchemy's path")
    statements: list[str] = []
    sa.event.listen(people, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with people.begin() as conn:
        conn.execute(sa.insert(PEOPLE).values(id=3, name="Zhao Lei", active=True))
        statements.clear()
        row = driver.first(conn, QUERY, {"name": "Zhao Lei"})
    assert row is not None and row.active is True and row.pair == "3:"
    assert statements == []


def test_the_literal_of_a_statement_is_sent_as_sqlalchemy_sends_it(people: sa.Engine) -> None:
    """``coalesce(boss.name, '')`` carries its '' as a bound literal, not a parameter of ours."""
    with people.begin() as conn:
        row = driver.first(conn, QUERY, {"name": "Li Wei"})
    assert row.pair == "2:Wang Fang 王芳" and row.boss_seen_at == SEEN
