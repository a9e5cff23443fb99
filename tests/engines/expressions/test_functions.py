"""Every function and operator, evaluated in Python and in SQL (SQLite and PostgreSQL).

Each case is run by the Python back end over dict records and by the SQL back end over the same
rows in a real database; both must give the expected value.  ``PY_ONLY`` functions are checked in
Python and must be refused by the checker for SQL contexts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.engines.expressions import (
    MAX_STEPS,
    REGISTRY,
    ConnectionLoader,
    EntitySpec,
    EvaluationError,
    ExpressionErrors,
    FieldSpec,
    check,
    compile_python,
    compile_sql,
    parse,
)

from .conftest import (
    CTX,
    SCHEMA,
    T_ACCOUNT,
    T_DEAL,
    T_DEAL_TAG,
    T_DEPT,
    T_LINE,
    T_TAG,
    T_USER,
    TABLES,
    DictLoader,
    py_eval,
    sql_eval,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal"
)

DEAL = {
    "id": 1,
    "name": "Acme Deal",
    "amount": 150000.0,
    "discount": Decimal("0.2500"),
    "price": Decimal("19.99"),
    "qty": 7,
    "stage": "won",
    "is_closed": True,
    "close_date": date(2025, 1, 31),
    "created_at": datetime(2025, 3, 13, 20, 15, 30, tzinfo=UTC),
    "owner": 1,
    "account": 2,
    "status": None,
    "state": None,
    "labels": ["vip", "new"],
}
BLANK_DEAL = {
    "id": 2,
    "name": None,
    "amount": None,
    "discount": None,
    "price": None,
    "qty": None,
    "stage": None,
    "is_closed": None,
    "close_date": None,
    "created_at": None,
    "owner": None,
    "account": None,
    "status": None,
    "state": None,
    "labels": None,
}
ACCOUNTS = {
    1: {"id": 1, "name": "Parent", "industry": "Tech", "parent": None},
    2: {"id": 2, "name": "Child", "industry": "Retail", "parent": 1},
}
LINES = {
    10: {"id": 10, "subtotal": Decimal("100.50"), "quantity": 3, "deal": 1},
    11: {"id": 11, "subtotal": Decimal("20.25"), "quantity": 12, "deal": 1},
    12: {"id": 12, "subtotal": None, "quantity": None, "deal": 1},
}
LOADER = DictLoader(
    {
        "deal": {1: DEAL, 2: BLANK_DEAL},
        "account": ACCOUNTS,
        "line_item": LINES,
        "tag": {1: {"id": 1, "name": "hot"}},
        "deal_tag": {0: {"deal_id": 1, "tag_id": 1}},
        "user": {1: {"id": 1, "name": "Ann", "department": 10}},
        "department": {10: {"id": 10, "name": "Sales"}},
    },
    {},
)

# (formula, expected for DEAL, expected for BLANK_DEAL)
CASES: list[tuple[str, Any, Any]] = [
    ('IF(AND(amount > 100000, discount > 0.2), "VP", "Manager")', "VP", "Manager"),
    ('IFS(amount > 200000, "A", amount > 100000, "B")', "B", None),
    ('SWITCH(stage, "won", 1, "lost", 0, 0.5)', 1, 0.5),
    ("OR(is_closed, amount < 0)", True, False),
    ("NOT(is_closed)", False, True),
    ("NOT is_closed", False, True),
    ("ISBLANK(name)", False, True),
    ("name = BLANK()", False, True),
    ("name <> BLANK()", True, False),
    ('COALESCE(status, name, "none")', "Acme Deal", "none"),
    ("amount + qty * 2", 150014, None),
    ("amount / 0", None, None),
    ("price * 2", Decimal("39.98"), None),
    ("amount > 1 OR amount <= 1", True, False),
    ("amount <> 5", True, True),
    ('stage IN ("won", "lost")', True, False),
    ('stage NOT IN ("won", "lost")', False, True),
    ('name & "!" & qty', "Acme Deal!7", "!"),
    ("ROUND(price * 1.005, 1)", Decimal("20.1"), None),
    ("ROUND(2.5)", 3, 3),
    ("ROUNDUP(price, 1)", Decimal("20.0"), None),
    ("ROUNDDOWN(0.29 * 100, 0)", 29, 29),
    ("ABS(-qty)", 7, None),
    ("MIN(qty, 3, amount)", 3, 3),
    ("MAX(qty, 3)", 7, 3),
    ("MOD(-qty, 3)", 2, None),
    ("POWER(2, qty)", 128, None),
    ("SQRT(qty * 7)", 7, None),
    ("CEILING(2.1)", 3, 3),
    ("FLOOR(-2.1)", -3, -3),
    ("INT(-2.7)", -2, -2),
    ("SIGN(-qty)", -1, None),
    ('CONCAT(name, "/", stage, "/", price)', "Acme Deal/won/19.99", "//"),
    ("LEFT(name, 4)", "Acme", ""),
    ("RIGHT(name, 4)", "Deal", ""),
    ("MID(name, 3, 4)", "me D", ""),
    ("LEN(name)", 9, 0),
    ("UPPER(name)", "ACME DEAL", ""),
    ("LOWER(name)", "acme deal", ""),
    ('TRIM("  x y  ")', "x y", "x y"),
    ('SUBSTITUTE(name, "e", "3")', "Acm3 D3al", ""),
    ('FIND("D", name)', 6, 0),
    ('CONTAINS(name, "Deal")', True, False),
    ('CONTAINS(labels, "vip")', True, False),
    ('CONTAINS(labels, "churn")', False, False),
    ("ISBLANK(labels)", False, True),
    ("labels = BLANK()", False, True),
    ('STARTSWITH(name, "Ac")', True, False),
    ('ENDSWITH(name, "al")', True, False),
    ("TEXT(amount / 4)", "37500", ""),
    ("TEXT(close_date)", "2025-01-31", ""),
    ("TEXT(created_at)", "2025-03-14 04:15:30", ""),
    ("TODAY()", date(2025, 3, 14), date(2025, 3, 14)),
    ("NOW() > created_at", True, False),
    ("DATE(2024, 14, 31)", date(2025, 3, 3), date(2025, 3, 3)),
    ("YEAR(close_date) * 100 + MONTH(close_date)", 202501, None),
    ("DAY(created_at)", 14, None),
    ("WEEKDAY(close_date)", 6, None),
    ("WEEKNUM(close_date)", 5, None),
    ("HOUR(created_at)", 4, None),
    ("MINUTE(created_at)", 15, None),
    ('DATEADD(close_date, 1, "month")', date(2025, 2, 28), None),
    ('DATEADD(close_date, -2, "week")', date(2025, 1, 17), None),
    ('DATEADD(created_at, 2, "hour") > created_at', True, False),
    ('DATEDIFF(TODAY(), close_date, "day")', 42, None),
    ("DATEDIFF(TODAY(), created_at)", 0, None),
    ('DATEDIFF(NOW(), created_at, "hour")', 13, None),
    ('DATEDIFF(TODAY(), close_date, "month")', 2, None),
    ("EOMONTH(close_date, 1)", date(2025, 2, 28), None),
    ("close_date + 1", date(2025, 2, 1), None),
    ("created_at >= TODAY()", True, False),
    ("SUM(line_items.subtotal)", Decimal("120.75"), Decimal(0)),
    ("AVG(line_items.quantity)", 7.5, None),
    ("COUNT(line_items)", 3, 0),
    ("COUNT(line_items.quantity)", 2, 0),
    ("COUNTIF(line_items, quantity > 5)", 1, 0),
    ("MAXOF(line_items.subtotal)", Decimal("100.50"), None),
    ("MINOF(line_items.quantity)", 3, None),
    ("COUNT(tags)", 1, 0),
    ('account.industry = "Retail"', True, False),
    ("account.parent.name", "Parent", None),
    ("owner = CURRENT_USER()", True, False),
    ("owner.department = CURRENT_DEPARTMENT()", True, False),
    ("RECORD_ID()", 1, 2),
    ("IF(amount > 0, amount, BLANK())", 150000, None),
]
PY_ONLY: list[tuple[str, Any]] = [
    ('REGEXMATCH(name, "^A.*l$")', True),
    ('REGEXMATCH(name, "(a+)+$")', False),
    ('VALUE(" 12.5 ")', 12.5),
    ("WORKDAY(close_date, 1)", date(2025, 2, 3)),
    ("NETWORKDAYS(close_date, DATE(2025, 2, 7))", 6),
]


def _close(a: Any, b: Any) -> bool:
    if (
        isinstance(a, int | float | Decimal)
        and isinstance(b, int | float | Decimal)
        and not isinstance(a, bool)
    ):
        return abs(Decimal(str(a)) - Decimal(str(b))) < Decimal("1e-9")
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return (bool(a == b) and type(a) is type(b)) or (a is None and b is None)


def test_registry_has_every_documented_function() -> None:
    assert len(REGISTRY) >= 60
    covered = " ".join(c[0] for c in CASES) + " ".join(c[0] for c in PY_ONLY)
    missing = [name for name in REGISTRY if f"{name}(" not in covered]
    assert missing == []


@pytest.mark.parametrize(("source", "on_deal", "on_blank"), CASES)
def test_python(source: str, on_deal: Any, on_blank: Any) -> None:
    assert _close(py_eval(source, DEAL, LOADER), on_deal), py_eval(source, DEAL, LOADER)
    assert _close(py_eval(source, BLANK_DEAL, LOADER), on_blank), py_eval(
        source, BLANK_DEAL, LOADER
    )


@pytest.mark.parametrize(("source", "expected"), PY_ONLY)
def test_python_only_functions(source: str, expected: Any) -> None:
    assert _close(py_eval(source, DEAL, LOADER), expected)
    with pytest.raises(ExpressionErrors) as info:
        check(parse(source), SCHEMA, "deal", need_sql=True, dialect="sqlite")
    assert info.value.errors[0].code == "no_sql"


def _fill(conn: sa.Connection) -> None:
    conn.execute(T_DEPT.insert(), [{"id": 10, "name": "Sales"}])
    conn.execute(T_USER.insert(), [{"id": 1, "name": "Ann", "department_id": 10}])
    conn.execute(
        T_ACCOUNT.insert(),
        [
            {"id": 1, "name": "Parent", "industry": "Tech", "parent_id": None},
            {"id": 2, "name": "Child", "industry": "Retail", "parent_id": 1},
        ],
    )
    cols = {fs.key: fs.column for fs in SCHEMA.entity("deal").fields.values() if fs.column}
    conn.execute(
        T_DEAL.insert(),
        [
            {cols[k]: v for k, v in r.items() if k in cols} | {"id": r["id"]}
            for r in (DEAL, BLANK_DEAL)
        ],
    )
    conn.execute(
        T_LINE.insert(),
        [
            {
                "id": r["id"],
                "subtotal": r["subtotal"],
                "quantity": r["quantity"],
                "deal_id": r["deal"],
            }
            for r in LINES.values()
        ],
    )
    conn.execute(T_TAG.insert(), [{"id": 1, "name": "hot"}])
    conn.execute(T_DEAL_TAG.insert(), [{"deal_id": 1, "tag_id": 1}])


def test_sql_agrees_on_every_case(db: sa.Connection) -> None:
    _fill(db)
    wrong = []
    for source, on_deal, on_blank in CASES:
        for rid, want in ((1, on_deal), (2, on_blank)):
            got = sql_eval(db, source, rid)
            if not _close(got, want) and not (isinstance(want, bool) and got == want):
                wrong.append((source, rid, want, got))
    assert wrong == []
    pg_only = [c for c in PY_ONLY if c[0].startswith(("REGEXMATCH", "VALUE"))]
    if db.dialect.name == "postgresql":
        assert [sql_eval(db, s, 1) for s, _ in pg_only] == [e for _, e in pg_only]


def test_connection_loader_matches_dict_loader(db: sa.Connection) -> None:
    _fill(db)
    loader = ConnectionLoader(db, TABLES)
    for source in (
        "SUM(line_items.subtotal)",
        "account.parent.name",
        "COUNT(tags)",
        "owner.department = CURRENT_DEPARTMENT()",
    ):
        assert _close(py_eval(source, DEAL, loader), py_eval(source, DEAL, LOADER))


def test_context_is_used_not_the_clock() -> None:
    assert py_eval("TODAY()", DEAL, ctx=CTX) == date(2025, 3, 14)


CONTEXT_CALLS = ["CURRENT_USER()", "CURRENT_DEPARTMENT()", "TODAY()", "NOW()", "RECORD_ID()"]
# Functions the database cannot run, by dialect; everything else must be accepted.
REFUSED = {
    "sqlite": {"VALUE", "REGEXMATCH", "WORKDAY", "NETWORKDAYS"},
    "postgresql": {"WORKDAY", "NETWORKDAYS"},
}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_need_sql_refuses_exactly_what_the_dialect_cannot_run(dialect: str) -> None:
    for source in CONTEXT_CALLS:
        check(parse(source), SCHEMA, "deal", need_sql=True, dialect=dialect)  # no error
    check(
        parse("owner = CURRENT_USER() AND created_at < NOW() AND close_date <= TODAY()"),
        SCHEMA,
        "deal",
        need_sql=True,
        dialect=dialect,
    )
    refused = set()
    for source, _ in PY_ONLY:
        name = source.split("(", 1)[0]
        try:
            check(parse(source), SCHEMA, "deal", need_sql=True, dialect=dialect)
        except ExpressionErrors as e:
            assert [x.code for x in e.errors] == ["no_sql"]
            assert e.errors[0].message == (
                f"{name} cannot run in the database on {dialect}, "
                "so it cannot be used in filters or measures"
            )
            refused.add(name)
    assert refused == REFUSED[dialect]
    # every registered function that is not refused has an SQL route on this dialect
    for name, fn in REGISTRY.items():
        assert fn.runs_in_sql(dialect) == (name not in REFUSED[dialect]), name


def test_need_sql_without_dialect_names_every_dialect_that_cannot() -> None:
    with pytest.raises(ExpressionErrors) as info:
        check(parse('VALUE("1")'), SCHEMA, "deal", need_sql=True)
    assert info.value.errors[0].message.startswith("VALUE cannot run in the database on sqlite,")
    with pytest.raises(ExpressionErrors) as info:
        check(parse("WORKDAY(close_date, 1)"), SCHEMA, "deal", need_sql=True)
    assert "on postgresql, sqlite," in info.value.errors[0].message
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        check(parse("1"), SCHEMA, "deal", need_sql=True, dialect="mysql")


def test_multiselect_contains_and_isblank(db: sa.Connection) -> None:
    rows = {
        1: ["vip"],
        2: ["new", "vip"],
        3: ["new"],
        4: [],
        5: None,  # stored as JSON null
        6: sa.null(),  # stored as SQL NULL
    }
    for rid, labels in rows.items():
        db.execute(T_DEAL.insert().values(id=rid, labels=labels))
    records = {rid: {"id": rid, "labels": None if v is sa.null() else v} for rid, v in rows.items()}
    expected = {
        'CONTAINS(labels, "vip")': {1, 2},
        'NOT CONTAINS(labels, "vip")': {3, 4, 5, 6},
        'CONTAINS(labels, "new") AND CONTAINS(labels, "vip")': {2},
        "ISBLANK(labels)": {4, 5, 6},
        "labels = BLANK()": {4, 5, 6},
        "labels <> BLANK()": {1, 2, 3},
        'CONTAINS(labels, LOWER("VIP"))': {1, 2},
    }
    for source, ids in expected.items():
        checked = check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
        evaluate = compile_python(checked)
        assert {rid for rid, r in records.items() if evaluate(r, CTX)} == ids, source
        where = compile_sql(checked, TABLES, CTX, db.dialect.name)
        assert set(db.execute(sa.select(T_DEAL.c.id).where(where)).scalars()) == ids, source


def test_multiselect_options_and_types_are_checked() -> None:
    with pytest.raises(ExpressionErrors) as info:
        check(parse('CONTAINS(labels, "vipp")'), SCHEMA, "deal")
    assert info.value.errors[0].code == "option"
    assert '"vipp" is not one of them' in info.value.errors[0].message
    with pytest.raises(ExpressionErrors) as info:
        check(parse('STARTSWITH(labels, "v")'), SCHEMA, "deal")
    assert "a multiple choice" in info.value.errors[0].message
    with pytest.raises(ExpressionErrors):
        check(parse('labels = "vip"'), SCHEMA, "deal")


class _ManyLines:
    """A loader with ``n`` line items for every deal (built lazily, never stored)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.loaded = 0

    def load_one(self, entity: EntitySpec, record_id: Any) -> Any:
        self.loaded += 1
        return {"id": record_id, "name": "x", "parent": record_id}

    def load_many(self, entity: EntitySpec, remote_column: str, record_id: Any) -> Any:
        self.loaded += self.n
        return [{"id": i, "quantity": 1, "deal": record_id} for i in range(self.n)]

    def load_linked(self, field: FieldSpec, target: EntitySpec, record_id: Any) -> Any:
        return []


def _run(source: str, loader: Any) -> Any:
    checked = check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    return compile_python(checked)(DEAL, CTX, loader)


def test_step_limit_stops_runaway_evaluation() -> None:
    assert _run("SUM(line_items.quantity)", _ManyLines(1000)) == 1000
    with pytest.raises(EvaluationError) as info:
        _run("SUM(line_items.quantity)", _ManyLines(MAX_STEPS + 1))
    assert info.value.code == "too_many_steps"
    assert str(info.value) == f"the formula took more than {MAX_STEPS} steps"
    # COUNTIF pays for its condition on every record: 20 000 records x 6 parts is too many
    with pytest.raises(EvaluationError, match="more than 100000 steps"):
        _run("COUNTIF(line_items, quantity > 1 AND quantity < 5)", _ManyLines(20_000))
    assert _run("COUNTIF(line_items, quantity > 0)", _ManyLines(20_000)) == 20_000


def test_step_limit_counts_links_and_aggregates_across_one_evaluation() -> None:
    # Each SUM reads 40 000 records: two fit in the budget, three do not.
    two = "SUM(line_items.quantity) + SUM(line_items.quantity)"
    assert _run(two, _ManyLines(40_000)) == 80_000
    with pytest.raises(EvaluationError, match="more than 100000 steps"):
        _run(two + " + SUM(line_items.quantity)", _ManyLines(40_000))
    # the budget is per evaluation, not per compiled formula
    checked = check(parse(two, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    evaluate = compile_python(checked)
    for _ in range(3):
        assert evaluate(DEAL, CTX, _ManyLines(40_000)) == 80_000
