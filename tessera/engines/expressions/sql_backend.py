"""The SQL back end: a checked formula compiled to one SQLAlchemy Core column expression.

The expression refers to the base entity's ``Table`` and can go into WHERE, SELECT or ORDER BY
of any query over it.  Paths through links become correlated scalar subqueries over aliases
(so self-links work) and aggregates become correlated aggregate subqueries, so callers never
manage joins.  Every literal and context value is a bound parameter; column and table names
come from the schema, never from the formula text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from . import ast
from . import types as T
from .checker import CheckedExpression, Typed
from .context import EvalContext
from .names import Step, target_of
from .registry import SqlEnv, SqlExpr
from .schema import EntitySpec, Relation
from .schema import ValueType as V

_SQL_TYPES: dict[V, Any] = {
    V.NUMBER: sa.Float(),
    V.DECIMAL: sa.Numeric(asdecimal=True),
    V.CURRENCY: sa.Numeric(asdecimal=True),
    V.TEXT: sa.String(),
    V.SELECT: sa.String(),
    V.BOOLEAN: sa.Boolean(),
    V.DATE: sa.Date(),
    V.DATETIME: sa.DateTime(timezone=True),
    V.DURATION: sa.Integer(),
    V.USER: sa.Integer(),
    V.DEPARTMENT: sa.Integer(),
    V.RECORD: sa.Integer(),
}


def sql_type(t: T.Type) -> Any:
    return _SQL_TYPES.get(t.kind, sa.types.NullType())


class _Compiler:
    def __init__(self, env: SqlEnv) -> None:
        self.env = env
        self.schema = env.schema

    def table(self, entity: EntitySpec) -> sa.Table:
        tables = self.env.tables
        return tables[entity.key] if entity.key in tables else tables[entity.table]

    def compile(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        n = t.node
        if isinstance(n, ast.Literal):
            return self.literal(n.value)
        if isinstance(n, ast.Field):
            return self.field(t, base)
        if isinstance(n, ast.Unary):
            arg = self.compile(t.args[0], base)
            return -arg if n.op == "-" else sa.not_(self.cond(t.args[0], arg))
        if isinstance(n, ast.Binary):
            return self.binary(t, base)
        if isinstance(n, ast.In):
            return self.in_(t, base)
        if isinstance(n, ast.Call):
            return self.call(t, base)
        raise TypeError(n)

    def literal(self, v: Any) -> SqlExpr:
        if v is None:
            return sa.null()
        if isinstance(v, bool):
            return sa.true() if v else sa.false()
        if isinstance(v, str):
            return sa.literal(v, sa.String())
        if isinstance(v, Decimal):
            return sa.literal(float(v), sa.Float())
        return sa.literal(v, sa.Integer())

    def cond(self, t: Typed, expr: SqlExpr) -> SqlExpr:
        """A boolean operand as a condition: blank counts as false."""
        node = t.node
        safe = (
            isinstance(node, ast.Binary | ast.In)
            or (isinstance(node, ast.Unary) and node.op == "NOT")
            or (isinstance(node, ast.Literal) and node.value is not None)
            or (t.fn is not None and t.fn.never_blank)
        )
        if safe:
            return expr
        return sa.func.coalesce(expr, sa.false())

    # -- fields ------------------------------------------------------------------------------
    def column(self, table: sa.FromClause, step: Step) -> SqlExpr:
        col = step.field.column or step.field.key
        return table.c[col]

    def to_one(
        self, base: sa.FromClause, steps: Sequence[Step], last_col: str | None = None
    ) -> SqlExpr:
        """The last step's column after following the link steps before it (or, with
        ``last_col``, that column of the record all ``steps`` lead to)."""
        hops = list(steps) if last_col is not None else list(steps[:-1])
        if not hops:
            return self.column(base, steps[0])
        joined: sa.FromClause | None = None
        prev: sa.FromClause = base
        outer: SqlExpr | None = None
        for step in hops:
            target = target_of(self.schema, step.field)
            assert target is not None, f"{step.field.key} leads nowhere"
            alias = self.table(target).alias()
            link = alias.c[target.id_column] == self.column(prev, step)
            if joined is None:
                joined, outer = alias, link
            else:
                joined = joined.join(alias, link)
            prev = alias
        value = prev.c[last_col] if last_col else self.column(prev, steps[-1])
        assert joined is not None and outer is not None
        # correlate explicitly: the path may be read inside an aggregate subquery, whose own
        # FROM does not hold ``base``, so auto-correlation (one level only) would not see it
        return sa.select(value).select_from(joined).where(outer).correlate(base).scalar_subquery()

    def field(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        steps = t.steps
        if any(s.to_many for s in steps):
            raise ValueError("a to-many path must be inside an aggregate")  # checker prevents this
        return self.to_one(base, steps)

    def collection(
        self, t: Typed, base: sa.FromClause
    ) -> tuple[sa.Select[Any], SqlExpr | None, sa.FromClause]:
        """A SELECT skeleton over the related rows, the value column, and the rows' alias."""
        steps = t.steps
        i = next(i for i, s in enumerate(steps) if s.to_many)
        many = steps[i].field
        owner_entity = steps[i].entity
        owner_id = (
            base.c[owner_entity.id_column]
            if i == 0
            else self.to_one(base, steps[:i], owner_entity.id_column)
        )
        target = target_of(self.schema, many)
        assert target is not None
        rows = self.table(target).alias()
        if many.relation is Relation.MULTI_LINK:
            assert many.junction is not None
            jname, this_col, target_col = many.junction
            junction = self.env.tables[jname].alias()
            frm: sa.FromClause = rows.join(
                junction, junction.c[target_col] == rows.c[target.id_column]
            )
            where = junction.c[this_col] == owner_id
        else:
            frm, where = rows, rows.c[many.remote_column or ""] == owner_id
        value: SqlExpr | None = None
        if i + 1 < len(steps):
            value = self.to_one(rows, steps[i + 1 :])
        return sa.select().select_from(frm).where(where), value, rows

    # -- operators ---------------------------------------------------------------------------
    def binary(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        assert isinstance(t.node, ast.Binary)
        op = t.node.op
        lt, rt = t.args[0].type, t.args[1].type
        left, right = (self.compile(a, base) for a in t.args)
        env = self.env
        if op == "AND":
            return sa.and_(self.cond(t.args[0], left), self.cond(t.args[1], right))
        if op == "OR":
            return sa.or_(self.cond(t.args[0], left), self.cond(t.args[1], right))
        if op == "&":
            return sa.type_coerce(
                env.text_of(left, lt).op("||")(env.text_of(right, rt)), sa.String()
            )
        if op in ("=", "<>", "<", "<=", ">", ">="):
            return self.compare(op, t.args, left, right)
        if t.type.kind is V.DATE:
            n = env.to_int(right) * (1 if op == "+" else -1)
            if env.pg:
                return sa.type_coerce(left + n, sa.Date())
            return sa.func.date(left, sa.func.printf("%+d days", n))
        exact = t.type.kind in T.EXACT
        if exact and env.pg:
            left, right = sa.cast(left, sa.Numeric()), sa.cast(right, sa.Numeric())
        if op == "/":
            if not exact:
                left = sa.cast(left, sa.Float())
            return left / sa.func.nullif(right, 0)
        out = {"+": left + right, "-": left - right, "*": left * right}[op]
        return sa.type_coerce(out, sql_type(t.type))

    def compare(self, op: str, args: tuple[Typed, ...], left: SqlExpr, right: SqlExpr) -> SqlExpr:
        lt, rt = args[0].type, args[1].type
        blank = [_is_blank_literal(a) for a in args]
        if any(blank) and op in ("=", "<>"):
            other, ot = (right, rt) if blank[0] else (left, lt)
            test = self.env.is_blank(other, ot)
            return test if op == "=" else sa.not_(test)
        if {lt.kind, rt.kind} == {V.DATE, V.DATETIME}:
            left, right = self.env.local_date(left, lt), self.env.local_date(right, rt)
        elif self.env.pg and (lt.kind in T.EXACT or rt.kind in T.EXACT):
            left, right = sa.cast(left, sa.Numeric()), sa.cast(right, sa.Numeric())
        elif self.env.pg and lt.kind in T.TEXTUAL and op not in ("=", "<>"):
            left, right = left.collate("C"), right.collate("C")
        raw = _OPS[op](left, right)
        return sa.func.coalesce(raw, sa.true() if op == "<>" else sa.false())

    def in_(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        node = t.node
        assert isinstance(node, ast.In)
        arg = self.compile(t.args[0], base)
        items = [self.compile(a, base) for a in t.args[1:]]
        if self.env.pg and any(a.type.kind in T.EXACT for a in t.args):
            arg, items = sa.cast(arg, sa.Numeric()), [sa.cast(i, sa.Numeric()) for i in items]
        hit = sa.or_(*[sa.func.coalesce(arg == i, sa.false()) for i in items])
        return sa.not_(hit) if node.negated else hit

    # -- functions ---------------------------------------------------------------------------
    def call(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        fn = t.fn
        assert fn is not None
        if fn.kind == "lazy":
            return self.lazy(t, base)
        if fn.kind == "aggregate":
            return self.aggregate(t, base)
        if fn.name == "RECORD_ID":
            return base.c[t.scope.id_column if t.scope else "id"]
        if fn.sql is None or self.env.dialect not in fn.sql_dialects:
            raise ValueError(
                f"{fn.name} cannot run in SQL on {self.env.dialect}; check with need_sql=True"
            )
        args: list[SqlExpr] = []
        for i, a in enumerate(t.args):
            if i in fn.choices:
                v = a.type.options[0]
                args.append(
                    sa.literal(int(v), sa.Integer()) if v.isdigit() else sa.literal(v, sa.String())
                )
                continue
            x = self.compile(a, base)
            param = fn.params[min(i, len(fn.params) - 1)].rstrip("?*")
            if fn.blank == "text" and param in ("text", "textset") and a.type.kind in T.TEXTUAL:
                x = self.env.text_of(x, a.type)
            args.append(x)
        out = fn.sql(self.env, args, [a.type for a in t.args])
        return sa.type_coerce(out, sql_type(t.type)) if t.type.kind in _SQL_TYPES else out

    def lazy(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        fn = t.fn
        assert fn is not None
        args = [self.compile(a, base) for a in t.args]
        conds = [self.cond(a, x) for a, x in zip(t.args, args, strict=True)]
        st = sql_type(t.type)
        if fn.name == "AND":
            return sa.and_(*conds)
        if fn.name == "OR":
            return sa.or_(*conds)
        if fn.name == "NOT":
            return sa.not_(conds[0])
        if fn.name == "IF":
            other = args[2] if len(args) > 2 else sa.null()
            return sa.type_coerce(sa.case((conds[0], args[1]), else_=other), st)
        if fn.name == "IFS":
            whens = [(conds[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
            return sa.type_coerce(sa.case(*whens, else_=sa.null()), st)
        if fn.name == "COALESCE":
            return sa.type_coerce(sa.func.coalesce(*args), st)
        if fn.name == "SWITCH":
            subject, rest = args[0], args[1:]
            default = rest[-1] if len(rest) % 2 == 1 else sa.null()
            whens = [
                (sa.func.coalesce(subject == rest[i], sa.false()), rest[i + 1])
                for i in range(0, len(rest) - 1, 2)
            ]
            return sa.type_coerce(sa.case(*whens, else_=default), st)
        raise NotImplementedError(fn.name)

    def aggregate(self, t: Typed, base: sa.FromClause) -> SqlExpr:
        fn = t.fn
        assert fn is not None
        skeleton, value, rows = self.collection(t.args[0], base)
        name = fn.name
        if name == "COUNTIF":
            cond = self.cond(t.args[1], self.compile(t.args[1], rows))
            return skeleton.add_columns(sa.func.count()).where(cond).scalar_subquery()
        if name == "COUNT":
            agg: SqlExpr = sa.func.count(value) if value is not None else sa.func.count()
            return skeleton.add_columns(agg).scalar_subquery()
        assert value is not None
        item = t.args[0].type.item or T.NUMBER
        if name == "SUM":
            q = skeleton.add_columns(sa.func.sum(value)).scalar_subquery()
            return sa.type_coerce(sa.func.coalesce(q, 0), sql_type(t.type))
        if name == "AVG":
            arg = value if item.kind in T.EXACT or not self.env.pg else sa.cast(value, sa.Float())
            return sa.type_coerce(
                skeleton.add_columns(sa.func.avg(arg)).scalar_subquery(), sql_type(t.type)
            )
        agg = sa.func.max(value) if name == "MAXOF" else sa.func.min(value)
        return sa.type_coerce(skeleton.add_columns(agg).scalar_subquery(), sql_type(t.type))


_OPS: dict[str, Callable[[SqlExpr, SqlExpr], SqlExpr]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _is_blank_literal(t: Typed) -> bool:
    n = t.node
    return (isinstance(n, ast.Literal) and n.value is None) or (
        isinstance(n, ast.Call) and n.name == "BLANK"
    )


def compile_sql(
    checked: CheckedExpression,
    tables: Mapping[str, sa.Table],
    context: EvalContext,
    dialect_name: str,
) -> SqlExpr:
    """A column expression over ``tables[checked.entity.key]`` (tables keyed by entity key or
    table name, junction tables by name); context values are bound parameters."""
    env = SqlEnv(dialect_name, context, checked.schema, tables)
    comp = _Compiler(env)
    base = comp.table(checked.entity)
    out = comp.compile(checked.root, base)
    if checked.type.kind is V.BOOLEAN:
        return sa.type_coerce(comp.cond(checked.root, out), sa.Boolean())
    return sa.type_coerce(out, sql_type(checked.type)) if checked.type.kind in _SQL_TYPES else out
