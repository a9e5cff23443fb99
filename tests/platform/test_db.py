import sqlalchemy as sa


def test_engine_runs_a_transaction(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(sa.text("INSERT INTO probe (id, name) VALUES (1, 'a')"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM probe")).scalar_one() == "a"


def test_sqlite_writers_queue_for_the_write_lock_and_a_refusal_is_sqlalchemys_error(
    engine: sa.Engine,
) -> None:
    """SQLite transactions begin with BEGIN IMMEDIATE (sent to the driver directly): a second
    writer waits for the lock up front, and when it gives up the error is SQLAlchemy's
    OperationalError with the statement, like any other database error; a read-only
    connection begins with a plain BEGIN and reads beside the writer."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
    with engine.connect() as writer, engine.connect() as other:
        writer.begin()
        writer.execute(sa.text("INSERT INTO probe (id) VALUES (1)"))
        driver = other.connection.dbapi_connection
        assert driver is not None
        driver.execute("PRAGMA busy_timeout=0")  # give up at once instead of waiting
        try:
            other.begin()
        except sa.exc.OperationalError as refused:
            assert "locked" in str(refused.orig) and refused.statement == "BEGIN IMMEDIATE"
        else:
            raise AssertionError("a second writer got the write lock")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO probe (id) VALUES (2)"))
    with engine.connect().execution_options(tessera_read_only=True) as reader:
        reader.begin()
        assert reader.scalar(sa.text("SELECT count(*) FROM probe")) == 1
