"""The validator's last phase: every expression in a definition parses and type-checks.

Runs only on documents that passed the structural and reference rules, against the model of
that same document, so a formula sees exactly the fields the app will have.  Each expression has
an expected type — conditions and validation rules are yes/no, a formula must produce what its
``result`` declares, a default formula what its field stores — and list-view conditions must
also run in SQL.  Errors keep the expression language's message and point at the character.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tessera.engines import expressions as ex
from tessera.engines.definitions.errors import DefinitionError, PathElement, phrased
from tessera.engines.definitions.expression_schema import to_expr_schema
from tessera.engines.definitions.model import AppModel, build_model
from tessera.engines.expressions.types import phrase
from tessera.engines.messages import Phrase, _l

V = ex.ValueType
Doc = Mapping[str, Any]
Path = tuple[PathElement, ...]

#: what a formula's declared ``result`` accepts from the expression's inferred type
RESULT_ACCEPTS: dict[str, frozenset[V]] = {
    "number": frozenset({V.NUMBER, V.DECIMAL, V.CURRENCY, V.DURATION}),
    "decimal": frozenset({V.NUMBER, V.DECIMAL, V.CURRENCY}),
    "currency": frozenset({V.NUMBER, V.DECIMAL, V.CURRENCY}),
    "text": frozenset({V.TEXT, V.SELECT}),
    "boolean": frozenset({V.BOOLEAN}),
    "date": frozenset({V.DATE}),
    "datetime": frozenset({V.DATETIME, V.DATE}),
}
ALWAYS_FITS = frozenset({V.NULL, V.ANY})
YES_NO = frozenset({V.BOOLEAN})


#: the words of a formula's declared ``result`` (the builder's names of those types)
RESULT_WORDS = {
    "number": _l("number"),
    "decimal": _l("decimal"),
    "currency": _l("currency"),
    "text": _l("text"),
    "boolean": _l("boolean"),
    "date": _l("date"),
    "datetime": _l("datetime"),
}


def result_word(result: str) -> Phrase | str:
    """A declared ``result`` in words (an unknown one as it is written)."""
    return Phrase(RESULT_WORDS[result]) if result in RESULT_WORDS else result


Expected = tuple[frozenset[V], Phrase] | None  # accepted kinds and how to say what is needed
CONDITION: Expected = (YES_NO, Phrase(_l("a condition must give yes or no")))


def _located(entity_index: int, entity: Doc) -> Iterator[tuple[Path, str, Expected, bool]]:
    """(path, source, expected result or None for any, needs SQL) of each expression."""
    base: Path = ("entities", entity_index)
    for j, f in enumerate(entity["fields"]):
        if f["type"] == "formula":
            result = f.get("result", "number")
            declared = Phrase(
                _l("the field's result is declared as %(result)s"), result=result_word(result)
            )
            expected = (RESULT_ACCEPTS[result], declared)
            yield (*base, "fields", j, "formula"), f["formula"], expected, False
        default = f.get("default")
        if isinstance(default, dict) and isinstance(default.get("formula"), str):
            yield (*base, "fields", j, "default", "formula"), default["formula"], None, False
    for i, rule in enumerate(entity.get("validations", ())):
        yield (*base, "validations", i, "error_if"), rule["error_if"], CONDITION, False
    for s, section in enumerate(entity.get("form", {}).get("sections", ())):
        if "visible_if" in section:
            path = (*base, "form", "sections", s, "visible_if")
            yield path, section["visible_if"], CONDITION, False
        for p, placement in enumerate(section.get("fields", ())):
            for name in ("visible_if", "read_only_if"):
                if isinstance(placement, dict) and name in placement:
                    path = (*base, "form", "sections", s, "fields", p, name)
                    yield path, placement[name], CONDITION, False
    for v, view in enumerate(entity.get("views", ())):
        if "where" in view:
            yield (*base, "views", v, "where"), view["where"], CONDITION, True


def _check_one(
    schema: ex.ExprSchema, entity: str, source: str, expected: Expected, sql: bool
) -> list[tuple[str, Phrase]]:
    """Problems of one expression as (code, message) pairs; [] when it is fine."""
    try:
        checked = ex.check(
            ex.parse(source, schema=schema, entity=entity), schema, entity, need_sql=sql
        )
    except ex.ExpressionErrors as errors:
        return [
            (
                f"formula_{e.code}",
                Phrase(
                    _l("%(problem)s (at character %(position)s)"),
                    problem=e.phrase,
                    position=e.start + 1,
                ),
            )
            for e in errors.errors
        ]
    if expected is not None and checked.type.kind not in expected[0] | ALWAYS_FITS:
        gives = Phrase(
            _l("this gives %(type)s, but %(expected)s"),
            type=phrase(checked.type),
            expected=expected[1],
        )
        return [("formula_type", gives)]
    return []


def expression_errors(doc: Doc) -> list[DefinitionError]:
    """Every expression problem of a structurally valid, upgraded document."""
    model: AppModel = build_model(doc)
    schema = to_expr_schema(model)
    errors: list[DefinitionError] = []
    for i, entity in enumerate(doc["entities"]):
        for path, source, expected, sql in _located(i, entity):
            for code, message in _check_one(schema, entity["key"], source, expected, sql):
                errors.append(phrased(path, code, message))
    for i, role in enumerate(doc.get("roles", ())):  # formula record scopes run in SQL
        for key, rights in (role.get("entities") or {}).items():
            for action, scope in rights.items():
                if isinstance(scope, Mapping) and "formula" in scope:
                    where: Path = ("roles", i, "entities", key, action, "formula")
                    for code, message in _check_one(schema, key, scope["formula"], CONDITION, True):
                        errors.append(phrased(where, code, message))
    return errors
