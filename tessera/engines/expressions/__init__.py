"""Tessera's one expression language (formulas, validation rules, filters, conditions, measures).

    source = 'IF(AND(amount > 100000, discount > 0.2), "VP", "Manager")'
    expr = parse(source, schema=s, entity="deal")
    checked = check(expr, s, "deal")                       # types, or ExpressionErrors
    evaluate = compile_python(checked)                     # one record in memory
    evaluate(record, EvalContext(now=...), loader)
    where = compile_sql(checked, tables, ctx, "postgresql")  # sets of records in the database

See ``docs/formulas.md`` for the language, the null rules and the error messages.
"""

from __future__ import annotations

from . import ast
from . import functions as _functions  # noqa: F401  (fills REGISTRY)
from .checker import CheckedExpression, Typed, check
from .context import EvalContext, NoLoader, RecordLoader
from .errors import EvaluationError, ExpressionError, ExpressionErrors
from .expression import Expression
from .loaders import ConnectionLoader
from .parser import MAX_DEPTH, MAX_NODES, MAX_SOURCE_LENGTH, parse_ast
from .python_backend import compile_python
from .registry import MAX_STEPS, REGISTRY, Function
from .schema import EntitySpec, ExprSchema, FieldSpec, Relation, ValueType
from .sql_backend import compile_sql
from .types import Type

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_SOURCE_LENGTH",
    "MAX_STEPS",
    "REGISTRY",
    "CheckedExpression",
    "ConnectionLoader",
    "EntitySpec",
    "EvalContext",
    "EvaluationError",
    "ExprSchema",
    "Expression",
    "ExpressionError",
    "ExpressionErrors",
    "FieldSpec",
    "Function",
    "NoLoader",
    "RecordLoader",
    "Relation",
    "Type",
    "Typed",
    "ValueType",
    "check",
    "compile_python",
    "compile_sql",
    "parse",
    "references",
]


def parse(
    source: str,
    *,
    schema: ExprSchema | None = None,
    entity: str | None = None,
    locale: str | None = None,
) -> Expression:
    """Parse ``source``.  With ``schema`` and ``entity``, ``[Label]`` references become keys and
    unknown fields are errors.  ``locale`` is accepted for symmetry with
    :meth:`Expression.to_source`:
    labels of every locale resolve, so a formula typed in one language works in all."""
    spec = schema.entity(entity) if schema is not None and entity is not None else None
    return Expression(source, parse_ast(source, schema, spec))


def references(expr: Expression) -> set[tuple[str, ...]]:
    """Every field path the formula reads, as key tuples (``("account", "industry")``)."""
    return {n.path for n in ast.walk(expr.node) if isinstance(n, ast.Field)}
