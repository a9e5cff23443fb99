"""Property: for well-typed generated formulas and records, Python and SQL give the same value.

Numbers are compared with a relative tolerance of 1e-9: SQLite computes in binary floating point
where Python and PostgreSQL use exact decimals for decimal fields (documented in formulas.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.engines.expressions import check, compile_python, compile_sql, parse

from .conftest import COLUMNS, CTX, SCHEMA, T_ACCOUNT, T_DEAL, T_LINE, TABLES, DictLoader

pytestmark = pytest.mark.filterwarnings(
    "ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal"
)

small_int = st.integers(-50, 50).map(str)
num_leaf = st.one_of(
    st.sampled_from(["amount", "qty", "discount", "price"]),
    small_int,
    st.sampled_from(["0.5", "2.25"]),
)
text_leaf = st.one_of(
    st.sampled_from(["name", "stage"]), st.sampled_from(['"won"', '"new"', '"lost"'])
)


def _num(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: f"({p[0]} + {p[1]})"),
        pair.map(lambda p: f"({p[0]} - {p[1]})"),
        pair.map(lambda p: f"({p[0]} * {p[1]})"),
        pair.map(lambda p: f"({p[0]} / {p[1]})"),
        children.map(lambda c: f"ABS({c})"),
        children.map(lambda c: f"ROUND({c}, 2)"),
        pair.map(lambda p: f"MAX({p[0]}, {p[1]})"),
        pair.map(lambda p: f"COALESCE({p[0]}, {p[1]})"),
        text_leaf.map(lambda t: f"LEN({t})"),
    )


num_expr = st.recursive(num_leaf, _num, max_leaves=6)
text_expr = st.one_of(
    text_leaf,
    st.tuples(text_leaf, num_expr).map(lambda p: f"{p[0]} & {p[1]}"),
    st.tuples(text_leaf, st.integers(0, 5)).map(lambda p: f"LEFT({p[0]}, {p[1]})"),
    text_leaf.map(lambda t: f"UPPER({t})"),
)
cmp = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
bool_leaf = st.one_of(
    st.tuples(num_expr, cmp, num_expr).map(" ".join),
    st.tuples(text_leaf, st.sampled_from(["=", "<>"]), text_leaf).map(" ".join),
    st.sampled_from(
        [
            'name = "Ab c"',
            'name < "b"',
            'name >= ""',
            "is_closed",
            "ISBLANK(name)",
            "amount = BLANK()",
            'stage IN ("won", "lost")',
            'CONTAINS(name, "b")',
        ]
    ),
)
bool_expr = st.recursive(
    bool_leaf,
    lambda c: st.one_of(
        st.tuples(c, c).map(lambda p: f"({p[0]} AND {p[1]})"),
        st.tuples(c, c).map(lambda p: f"({p[0]} OR {p[1]})"),
        c.map(lambda x: f"NOT ({x})"),
    ),
    max_leaves=4,
)
any_expr = st.one_of(
    num_expr,
    bool_expr,
    text_expr,
    st.tuples(bool_expr, num_expr, num_expr).map(lambda p: f"IF({p[0]}, {p[1]}, {p[2]})"),
)

ascii_text = st.text(alphabet="abAB c", max_size=6)
record = st.fixed_dictionaries(
    {
        "name": st.none() | ascii_text,
        "amount": st.none() | st.floats(-1000, 1000, allow_nan=False).map(lambda f: round(f, 3)),
        "qty": st.none() | st.integers(-100, 100),
        "discount": st.none()
        | st.decimals(-10, 10, places=4, allow_nan=False, allow_infinity=False),
        "price": st.none()
        | st.decimals(-1000, 1000, places=2, allow_nan=False, allow_infinity=False),
        "stage": st.none() | st.sampled_from(["new", "won", "lost"]),
        "is_closed": st.none() | st.booleans(),
    }
)


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, datetime) and isinstance(b, datetime):
        # SQLite hands back naive UTC datetimes
        return a.replace(tzinfo=a.tzinfo or UTC) == b.replace(tzinfo=b.tzinfo or UTC)
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        x, y = float(a), float(b)
        return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
    return bool(a == b)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=any_expr, rows=st.lists(record, min_size=1, max_size=4))
def test_python_equals_sql(db: sa.Connection, source: str, rows: list[dict[str, Any]]) -> None:
    checked = check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    evaluate = compile_python(checked)
    expr = compile_sql(checked, TABLES, CTX, db.dialect.name)
    db.execute(T_DEAL.delete())
    db.execute(
        T_DEAL.insert(),
        [{COLUMNS[k]: v for k, v in r.items()} | {"id": i} for i, r in enumerate(rows, 1)],
    )
    got = {rid: v for rid, v in db.execute(sa.select(T_DEAL.c.id, expr).order_by(T_DEAL.c.id))}
    for i, row in enumerate(rows, 1):
        # The Python side reads the row back as the database stores it (rounded decimals).
        want = evaluate({**row, "id": i}, CTX)
        assert same(want, got[i]), (source, row, want, got[i])
    if checked.type.kind.value == "boolean":
        ids = set(db.execute(sa.select(T_DEAL.c.id).where(expr)).scalars())
        assert ids == {i for i, row in enumerate(rows, 1) if evaluate({**row, "id": i}, CTX)}


# --- dates, links and related records --------------------------------------------------------

days = st.integers(-400, 400).map(str)
date_leaf = st.one_of(
    st.sampled_from(["close_date", "TODAY()", "DATE(2025, 2, 28)"]),
    st.tuples(st.integers(1990, 2040), st.integers(-2, 15), st.integers(0, 40)).map(
        lambda p: f"DATE({p[0]}, {p[1]}, {p[2]})"
    ),
)
date_expr = st.one_of(
    date_leaf,
    st.tuples(date_leaf, days).map(lambda p: f'DATEADD({p[0]}, {p[1]}, "day")'),
    st.tuples(date_leaf, st.sampled_from(["+", "-"]), days).map(" ".join),
)
datetime_expr = st.one_of(
    st.just("created_at"),
    st.just("NOW()"),
    days.map(lambda n: f'DATEADD(created_at, {n}, "day")'),
)
temporal = st.one_of(date_expr, datetime_expr)
date_num = st.one_of(
    st.tuples(temporal, temporal).map(lambda p: f"DATEDIFF({p[0]}, {p[1]})"),
    st.tuples(temporal, temporal).map(lambda p: f'DATEDIFF({p[0]}, {p[1]}, "day")'),
    st.tuples(st.sampled_from(["YEAR", "MONTH", "DAY"]), temporal).map(lambda p: f"{p[0]}({p[1]})"),
)
aggregate = st.sampled_from(
    [
        "SUM(line_items.subtotal)",
        "SUM(line_items.quantity)",
        "COUNT(line_items)",
        "COUNT(line_items.quantity)",
        "MAXOF(line_items.quantity)",
        "MAXOF(line_items.subtotal)",
        "MINOF(line_items.subtotal)",
        "COUNTIF(line_items, quantity > 2)",
        "COUNT(account.deals)",
        "SUM(account.deals.amount)",
    ]
)
industry = st.sampled_from(['"Retail"', '"Tech"'])
link_text = st.sampled_from(
    ["account.name", "account.industry", "account.parent.name", "account.parent.industry"]
)
num2 = st.recursive(
    st.one_of(num_leaf, date_num, aggregate, link_text.map(lambda t: f"LEN({t})")),
    lambda c: st.one_of(
        st.tuples(c, c).map(lambda p: f"({p[0]} + {p[1]})"),
        st.tuples(c, c).map(lambda p: f"({p[0]} * {p[1]})"),
        st.tuples(c, c).map(lambda p: f"MAX({p[0]}, {p[1]})"),
    ),
    max_leaves=3,
)
bool2_leaf = st.one_of(
    st.tuples(num2, cmp, num2).map(" ".join),
    st.tuples(temporal, cmp, temporal).map(" ".join),
    st.tuples(link_text, st.sampled_from(["=", "<>", "<"]), st.one_of(link_text, industry)).map(
        " ".join
    ),
    st.sampled_from(
        [
            'account.industry = "Retail"',
            "account.parent = account",
            "ISBLANK(account.parent.name)",
            'CONTAINS(labels, "vip")',
            'NOT CONTAINS(labels, "new")',
            "ISBLANK(labels)",
            "labels <> BLANK()",
            "is_closed",
        ]
    ),
)
bool2 = st.recursive(
    bool2_leaf,
    lambda c: st.one_of(
        st.tuples(c, c).map(lambda p: f"({p[0]} AND {p[1]})"),
        st.tuples(c, c).map(lambda p: f"({p[0]} OR {p[1]})"),
        c.map(lambda x: f"NOT ({x})"),
    ),
    max_leaves=3,
)
any2 = st.one_of(
    num2,
    bool2,
    date_expr,
    datetime_expr,
    st.tuples(link_text, num2).map(lambda p: f"{p[0]} & {p[1]}"),
    st.tuples(bool2, date_expr, date_expr).map(lambda p: f"IF({p[0]}, {p[1]}, {p[2]})"),
)

maybe_date = st.none() | st.dates(date(2000, 1, 1), date(2030, 12, 31))
maybe_datetime = st.none() | st.datetimes(
    datetime(2000, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
record2 = st.fixed_dictionaries(
    {
        "name": st.none() | ascii_text,
        "amount": st.none() | st.integers(-1000, 1000).map(float),
        "qty": st.none() | st.integers(-100, 100),
        "is_closed": st.none() | st.booleans(),
        "close_date": maybe_date,
        "created_at": maybe_datetime,
        "account": st.none() | st.integers(1, 3),
        "labels": st.none()
        | st.lists(st.sampled_from(["vip", "new", "churn"]), unique=True, max_size=3),
    }
)
account = st.fixed_dictionaries(
    {
        "name": st.none() | ascii_text,
        "industry": st.none() | st.sampled_from(["Retail", "Tech"]),
    }
)
line = st.fixed_dictionaries(
    {
        "subtotal": st.none()
        | st.decimals(-100, 100, places=2, allow_nan=False, allow_infinity=False),
        "quantity": st.none() | st.integers(-5, 10),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    source=any2,
    rows=st.lists(st.tuples(record2, st.lists(line, max_size=3)), min_size=1, max_size=3),
    accounts=st.tuples(account, account, account),
    parents=st.tuples(st.none(), st.none() | st.just(1), st.none() | st.integers(1, 2)),
)
def test_python_equals_sql_dates_links_aggregates(
    db: sa.Connection,
    source: str,
    rows: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    accounts: tuple[dict[str, Any], ...],
    parents: tuple[int | None, ...],
) -> None:
    checked = check(parse(source, schema=SCHEMA, entity="deal"), SCHEMA, "deal")
    evaluate = compile_python(checked)
    expr = compile_sql(checked, TABLES, CTX, db.dialect.name)
    for table in (T_LINE, T_DEAL, T_ACCOUNT):
        db.execute(table.delete())
    data: dict[str, dict[int, dict[str, Any]]] = {"deal": {}, "account": {}, "line_item": {}}
    for i, (acc, parent) in enumerate(zip(accounts, parents, strict=True), 1):
        data["account"][i] = {**acc, "id": i, "parent": parent}
        db.execute(T_ACCOUNT.insert().values(id=i, parent_id=parent, **acc))
    line_id = 0
    for i, (row, lines) in enumerate(rows, 1):
        data["deal"][i] = {**row, "id": i}
        db.execute(T_DEAL.insert().values({COLUMNS[k]: v for k, v in row.items()} | {"id": i}))
        for item in lines:
            line_id += 1
            data["line_item"][line_id] = {**item, "id": line_id, "deal": i}
            db.execute(T_LINE.insert().values(id=line_id, deal_id=i, **item))
    loader = DictLoader(data, {})
    got = {rid: v for rid, v in db.execute(sa.select(T_DEAL.c.id, expr).order_by(T_DEAL.c.id))}
    for i in data["deal"]:
        want = evaluate(data["deal"][i], CTX, loader)
        assert same(want, got[i]), (source, data["deal"][i], want, got[i])
    if checked.type.kind.value == "boolean":
        ids = set(db.execute(sa.select(T_DEAL.c.id).where(expr)).scalars())
        assert ids == {i for i, r in data["deal"].items() if evaluate(r, CTX, loader)}
