"""A small CRM-like schema, its tables, and helpers to run a formula in Python and in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from tessera.engines.expressions import (
    EntitySpec,
    EvalContext,
    ExprSchema,
    FieldSpec,
    Relation,
    check,
    compile_python,
    compile_sql,
    parse,
)
from tessera.engines.expressions import ValueType as V

F = FieldSpec
SCHEMA = ExprSchema(
    {
        "deal": EntitySpec(
            "deal",
            "deal",
            {
                "name": F("name", V.TEXT, {"en": "Name", "zh-CN": "名称"}, column="name"),
                "amount": F("amount", V.NUMBER, {"en": "Amount", "zh-CN": "金额"}, column="amount"),
                "discount": F(
                    "discount", V.DECIMAL, {"en": "Discount"}, column="discount", scale=4
                ),
                "price": F("price", V.CURRENCY, {"en": "Price"}, column="price", scale=2),
                "qty": F("qty", V.NUMBER, column="qty"),
                "stage": F(
                    "stage",
                    V.SELECT,
                    {"en": "Stage"},
                    column="stage",
                    options=("new", "won", "lost"),
                ),
                "is_closed": F("is_closed", V.BOOLEAN, {"en": "Closed"}, column="is_closed"),
                "close_date": F("close_date", V.DATE, column="close_date"),
                "created_at": F("created_at", V.DATETIME, column="created_at"),
                "owner": F("owner", V.USER, {"en": "Owner"}, column="owner_id", target="user"),
                "account": F(
                    "account",
                    V.RECORD,
                    {"en": "Account"},
                    column="account_id",
                    relation=Relation.LINK,
                    target="account",
                ),
                "line_items": F(
                    "line_items",
                    V.LIST,
                    {"en": "Line items"},
                    relation=Relation.CHILDREN,
                    target="line_item",
                    remote_column="deal_id",
                ),
                "tags": F(
                    "tags",
                    V.LIST,
                    relation=Relation.MULTI_LINK,
                    target="tag",
                    junction=("deal_tag", "deal_id", "tag_id"),
                ),
                "labels": F(
                    "labels",
                    V.MULTISELECT,
                    {"en": "Labels"},
                    column="labels",
                    options=("vip", "new", "churn"),
                ),
                "status": F("status", V.TEXT, {"en": "State"}, column="status"),
                "state": F("state", V.TEXT, {"en": "State"}, column="state"),
            },
        ),
        "account": EntitySpec(
            "account",
            "account",
            {
                "name": F("name", V.TEXT, {"en": "Name"}, column="name"),
                "industry": F(
                    "industry",
                    V.SELECT,
                    {"en": "Industry", "zh-CN": "行业"},
                    column="industry",
                    options=("Retail", "Tech"),
                ),
                "parent": F(
                    "parent", V.RECORD, column="parent_id", relation=Relation.LINK, target="account"
                ),
                "deals": F(
                    "deals",
                    V.LIST,
                    relation=Relation.REVERSE,
                    target="deal",
                    remote_column="account_id",
                ),
            },
        ),
        "line_item": EntitySpec(
            "line_item",
            "line_item",
            {
                "subtotal": F("subtotal", V.CURRENCY, column="subtotal", scale=2),
                "quantity": F("quantity", V.NUMBER, column="quantity"),
                "deal": F(
                    "deal", V.RECORD, column="deal_id", relation=Relation.LINK, target="deal"
                ),
            },
        ),
        "tag": EntitySpec("tag", "tag", {"name": F("name", V.TEXT, column="name")}),
        "user": EntitySpec(
            "user",
            "user",
            {
                "name": F("name", V.TEXT, column="name"),
                "department": F(
                    "department", V.DEPARTMENT, column="department_id", target="department"
                ),
            },
        ),
        "department": EntitySpec(
            "department", "department", {"name": F("name", V.TEXT, column="name")}
        ),
    }
)

META = sa.MetaData()
T_DEPT = sa.Table(
    "department", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String)
)
T_USER = sa.Table(
    "user",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String),
    sa.Column("department_id", sa.ForeignKey("department.id")),
)
T_ACCOUNT = sa.Table(
    "account",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String),
    sa.Column("industry", sa.String),
    sa.Column("parent_id", sa.ForeignKey("account.id")),
)
T_DEAL = sa.Table(
    "deal",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String),
    sa.Column("amount", sa.Float),
    sa.Column("discount", sa.Numeric(12, 4)),
    sa.Column("price", sa.Numeric(14, 2)),
    sa.Column("qty", sa.Integer),
    sa.Column("stage", sa.String),
    sa.Column("is_closed", sa.Boolean),
    sa.Column("close_date", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("owner_id", sa.ForeignKey("user.id")),
    sa.Column("account_id", sa.ForeignKey("account.id")),
    sa.Column("status", sa.String),
    sa.Column("state", sa.String),
    # multiple choice: a JSON list of option keys (JSONB on PostgreSQL)
    sa.Column("labels", sa.JSON().with_variant(JSONB(), "postgresql")),
)
T_LINE = sa.Table(
    "line_item",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subtotal", sa.Numeric(14, 2)),
    sa.Column("quantity", sa.Integer),
    sa.Column("deal_id", sa.ForeignKey("deal.id"), index=True),
)
T_TAG = sa.Table(
    "tag", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String)
)
T_DEAL_TAG = sa.Table(
    "deal_tag",
    META,
    sa.Column("deal_id", sa.ForeignKey("deal.id"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tag.id"), primary_key=True),
)
TABLES: dict[str, sa.Table] = {
    "deal": T_DEAL,
    "account": T_ACCOUNT,
    "line_item": T_LINE,
    "tag": T_TAG,
    "user": T_USER,
    "department": T_DEPT,
    "deal_tag": T_DEAL_TAG,
}
COLUMNS = {fs.key: fs.column for fs in SCHEMA.entity("deal").fields.values() if fs.column}

NOW = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW, user_id=1, department_id=10, time_zone="Asia/Shanghai")


class DictLoader:
    """A RecordLoader over plain dicts: ``{entity: {id: record}}`` with field keys."""

    def __init__(
        self,
        data: Mapping[str, Mapping[int, Mapping[str, Any]]],
        columns: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.data = data
        self.columns = columns

    def load_one(self, entity: EntitySpec, record_id: Any) -> Mapping[str, Any] | None:
        return self.data.get(entity.key, {}).get(record_id)

    def load_many(
        self, entity: EntitySpec, remote_column: str, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        key = next(fs.key for fs in entity.fields.values() if fs.column == remote_column)
        return [r for r in self.data.get(entity.key, {}).values() if r.get(key) == record_id]

    def load_linked(
        self, field: FieldSpec, target: EntitySpec, record_id: Any
    ) -> Sequence[Mapping[str, Any]]:
        links = self.data.get("deal_tag", {}).values()
        return [self.data[target.key][lk["tag_id"]] for lk in links if lk["deal_id"] == record_id]


def py_eval(
    source: str,
    record: Mapping[str, Any],
    loader: Any = None,
    entity: str = "deal",
    ctx: EvalContext = CTX,
) -> Any:
    checked = check(parse(source, schema=SCHEMA, entity=entity), SCHEMA, entity)
    return compile_python(checked)(record, ctx, loader)


def sql_eval(
    conn: sa.Connection, source: str, record_id: int, entity: str = "deal", ctx: EvalContext = CTX
) -> Any:
    checked = check(parse(source, schema=SCHEMA, entity=entity), SCHEMA, entity)
    expr = compile_sql(checked, TABLES, ctx, conn.dialect.name)
    table = TABLES[entity]
    return conn.execute(sa.select(expr.label("v")).where(table.c.id == record_id)).scalar_one()


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[sa.Connection]:
    META.create_all(engine)
    with engine.begin() as conn:
        yield conn
