import sqlalchemy as sa


def test_engine_runs_a_transaction(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(sa.text("INSERT INTO probe (id, name) VALUES (1, 'a')"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM probe")).scalar_one() == "a"
