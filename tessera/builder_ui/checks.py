"""Live checks for the designers: a formula as it is typed, and form conditions in the preview.

Both work on the document the browser holds right now (sent with the request), not on the saved
draft, so the answer never lags one save behind what the builder sees.  They use the expression
language itself — the same parser, type checker and Python evaluator the running app uses — so
the preview hides a field exactly when the running form will.  Their messages and type names
are in the builder's language (:func:`tessera.platform.i18n.error_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tessera.engines import expressions as ex
from tessera.engines.definitions import FormatError, upgrade
from tessera.engines.definitions.expression_check import ALWAYS_FITS, RESULT_ACCEPTS, result_word
from tessera.engines.definitions.expression_schema import to_expr_schema
from tessera.engines.definitions.fields import FIELD_TYPES
from tessera.engines.definitions.model import build_model
from tessera.engines.definitions.validate import schema_errors
from tessera.engines.expressions.types import phrase
from tessera.engines.messages import Phrase, _l
from tessera.platform.i18n import error_text

#: what a condition (``visible_if``, ``read_only_if``, a view's ``where``) must give
CONDITION = frozenset({ex.ValueType.BOOLEAN})


def expression_schema(doc: Any) -> ex.ExprSchema | None:
    """The expression schema of ``doc``, or None while the document is too broken to have one.

    A draft in the middle of a design may have any error; the model is built only from a
    structurally sound document, and a semantic slip elsewhere (a link to an entity not yet
    created) can still stop it — then formulas are checked for syntax alone.
    """
    try:
        upgraded = upgrade(doc)
    except FormatError:
        return None
    if schema_errors(upgraded):
        return None
    try:
        return to_expr_schema(build_model(upgraded))
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def _entity_known(schema: ex.ExprSchema | None, entity: str) -> bool:
    return schema is not None and entity in schema.entities


def check_expression(
    doc: Any, entity: str, source: str, *, kind: str = "formula", result: str = "number"
) -> dict[str, Any]:
    """``{"ok", "type", "errors": [{message, start, end}], "checked"}`` for one expression.

    ``kind`` is ``formula`` (must produce ``result``) or ``condition`` (must give yes or no).
    ``checked`` is False when only the syntax could be checked.  ``type`` (what the expression
    gives) and the messages are in the request's language.
    """
    schema = expression_schema(doc)
    known = _entity_known(schema, entity)
    try:
        parsed = ex.parse(
            source, schema=schema if known else None, entity=entity if known else None
        )
        if not known or schema is None:
            return {"ok": True, "type": None, "errors": [], "checked": False}
        checked = ex.check(parsed, schema, entity)
    except ex.ExpressionErrors as errors:
        return {
            "ok": False,
            "type": None,
            "checked": known,
            "errors": [
                {"message": error_text(e), "start": e.start, "end": e.end, "code": e.code}
                for e in errors.errors
            ],
        }
    accepts = (
        CONDITION if kind == "condition" else RESULT_ACCEPTS.get(result, RESULT_ACCEPTS["number"])
    )
    gives = error_text(phrase(checked.type))
    if checked.type.kind not in accepts | ALWAYS_FITS:
        need = Phrase(_l("yes or no")) if kind == "condition" else result_word(result)
        wrong = Phrase(
            _l("this gives %(type)s, but %(need)s is needed"), type=phrase(checked.type), need=need
        )
        return {
            "ok": False,
            "type": gives,
            "checked": True,
            "errors": [
                {"message": error_text(wrong), "start": 0, "end": len(source), "code": "type"}
            ],
        }
    return {"ok": True, "type": gives, "errors": [], "checked": True}


def _record(entity_doc: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values typed into the preview, made canonical by their field types (bad ones: empty)."""
    record: dict[str, Any] = {"id": None}
    for f in entity_doc.get("fields", ()):
        kind = FIELD_TYPES.get(f.get("type"))
        raw = values.get(f.get("key"))
        if kind is None or raw is None or raw == "" or raw == []:
            record[f.get("key")] = None
            continue
        value, problem = kind.check(f, raw)
        record[f["key"]] = None if problem else value
    return record


def evaluate_conditions(
    doc: Any, entity: str, values: Mapping[str, Any], *, now: dt.datetime, user_id: int | None
) -> dict[str, Any]:
    """Which sections and fields of ``entity``'s form the preview shows for ``values``.

    Answers ``{"sections": {index: bool}, "fields": {key: bool}, "read_only": {key: bool}}``
    for every section or placement that has a condition; a condition that cannot be evaluated
    counts as met (the designer shows its error next to it anyway).
    """
    schema = expression_schema(doc)
    entity_doc = next(
        (e for e in doc.get("entities", ()) if isinstance(e, dict) and e.get("key") == entity),
        None,
    )
    answer: dict[str, dict[str, bool]] = {"sections": {}, "fields": {}, "read_only": {}}
    if entity_doc is None or schema is None or not _entity_known(schema, entity):
        return answer
    record = _record(entity_doc, values)
    context = ex.EvalContext(now=now, user_id=user_id)

    def met(source: Any) -> bool:
        if not isinstance(source, str):
            return True
        try:
            checked = ex.check(ex.parse(source, schema=schema, entity=entity), schema, entity)
            return bool(ex.compile_python(checked)(record, context))
        except (ex.ExpressionErrors, ex.EvaluationError):
            return True

    form = entity_doc.get("form")
    sections = form.get("sections", ()) if isinstance(form, dict) else ()
    for s, section in enumerate(sections):
        if not isinstance(section, dict):
            continue
        if "visible_if" in section:
            answer["sections"][str(s)] = met(section["visible_if"])
        for placement in section.get("fields", ()):
            if not isinstance(placement, dict) or not isinstance(placement.get("field"), str):
                continue
            if "visible_if" in placement:
                answer["fields"][placement["field"]] = met(placement["visible_if"])
            if "read_only_if" in placement:
                answer["read_only"][placement["field"]] = met(placement["read_only_if"])
    return answer
