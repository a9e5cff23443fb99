"""An entity's form layout (tabs, sections, placed fields) and its live conditions.

The layout comes from the definition's ``form``; an entity without one gets a sensible default
(every field, two columns, wide inputs across).  ``visible_if`` and ``read_only_if`` are
formulas of the one expression language (fields the user's roles hide are left out of the
layout, so no page draws them): :class:`Conditions` compiles them once per app
version with ``parse``/``check``/``compile_python`` and evaluates them for a record, so the
page's live evaluation (``/_/evaluate``) and the check on save are the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.definitions import EntityModel, FieldModel, humanise
from tessera.engines.forms import RecordService
from tessera.engines.forms.computed import TrashAwareLoader
from tessera.engines.memo import PerObject
from tessera.platform.pages.context import Runtime

WIDE_TYPES = frozenset({"long_text", "rich_text", "child_table", "json", "attachment", "image"})
#: Fields the system fills: shown on the record, never as inputs.
COMPUTED_TYPES = frozenset({"formula", "rollup", "lookup", "auto_number"})


@dataclass(frozen=True)
class Placed:
    field: FieldModel
    span: int
    visible_if: str | None = None
    read_only_if: str | None = None

    @property
    def key(self) -> str:
        return self.field.key


@dataclass(frozen=True)
class Section:
    index: int
    label: str
    tab: str | None
    columns: int
    visible_if: str | None
    fields: tuple[Placed, ...]
    related: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Layout:
    tabs: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    conditions: Mapping[str, str] = field(default_factory=dict)

    def placed(self) -> list[Placed]:
        return [p for s in self.sections for p in s.fields]

    def sections_of(self, tab: str | None) -> list[Section]:
        first = self.tabs[0][0] if self.tabs else None
        return [s for s in self.sections if (s.tab or first) == tab]


def layout_of(runtime: Runtime, entity: EntityModel) -> Layout:
    form = runtime.entity_doc(entity.key).get("form") or {}
    tabs = tuple(
        (str(t["key"]), runtime.label(t.get("label"), humanise(str(t["key"]))))
        for t in form.get("tabs", ())
    )
    sections: list[Section] = []
    conditions: dict[str, str] = {}
    hidden = runtime.service.hidden(entity)  # what the user's roles hide is not drawn at all
    for index, section in enumerate(form.get("sections", ())):
        columns = int(section.get("columns", 1) or 1)
        placed: list[Placed] = []
        for item in section.get("fields", ()):
            spec = {"field": item} if isinstance(item, str) else dict(item)
            if not entity.has_field(str(spec.get("field"))) or spec.get("field") in hidden:
                continue
            f = entity.field(str(spec["field"]))
            span = columns if f.type in WIDE_TYPES else int(spec.get("span", 1) or 1)
            p = Placed(f, min(span, columns), spec.get("visible_if"), spec.get("read_only_if"))
            placed.append(p)
            if p.visible_if:
                conditions[f"visible:{f.key}"] = str(p.visible_if)
            if p.read_only_if:
                conditions[f"read_only:{f.key}"] = str(p.read_only_if)
        if section.get("visible_if"):
            conditions[f"section:{index}"] = str(section["visible_if"])
        sections.append(
            Section(
                index, runtime.label(section.get("label"), ""), section.get("tab"), columns,
                section.get("visible_if"), tuple(placed), tuple(section.get("related", ())),
            )
        )  # fmt: skip
    if not sections:
        placed = [
            Placed(f, 2 if f.type in WIDE_TYPES else 1) for f in entity.fields
            if f.key not in hidden
        ]  # fmt: skip
        sections = [Section(0, "", None, 2, None, tuple(placed))]
    return Layout(tabs, tuple(sections), conditions)


class ReadableLoader(TrashAwareLoader):
    """Linked records for a condition as the user may read them: one out of scope is missing
    and hidden fields are blank, so a builder's ``visible_if: account.revenue > 1000000`` cannot
    tell a user what they may not read (the user chooses which account the form links to)."""

    def __init__(self, service: RecordService) -> None:
        super().__init__(service.conn, service.reachable_tables())
        self.service = service

    def _record(self, entity: ex.EntitySpec, row: sa.RowMapping) -> dict[str, Any]:
        record = super()._record(entity, row)
        app = self.service.app
        if app.has_entity(entity.key):
            for key in self.service.hidden(app.entity(entity.key)):
                record.pop(key, None)
        return record


#: per app version (its model) and entity key: each condition's compiled expression
_compiled: PerObject[dict[str, tuple[ex.CheckedExpression, Any] | None]] = PerObject(limit=256)


class Conditions:
    """The layout's conditions of one entity, compiled once per app version."""

    def __init__(self, runtime: Runtime, entity: EntityModel, layout: Layout) -> None:
        self.runtime = runtime
        self.entity = entity
        self.layout = layout
        self.compiled = _compiled.made(
            runtime.model,
            lambda: {name: self._compile(source) for name, source in layout.conditions.items()},
            entity.key,
        )

    def _compile(self, source: str) -> tuple[ex.CheckedExpression, Any] | None:
        schema = self.runtime.service.compiled.schema
        try:
            checked = ex.check(ex.parse(source, schema=schema, entity=self.entity.key), schema,
                               self.entity.key)  # fmt: skip
        except ex.ExpressionErrors:
            return None  # the validator checks names; a condition that fails to type-check is off
        return checked, ex.compile_python(checked)

    def evaluate(self, record: Mapping[str, Any]) -> dict[str, bool]:
        """Every condition's result for ``record`` (values by field key, plus ``id``).  A
        blank or failing condition counts as false: shown, editable."""
        service = self.runtime.service
        context = service.context()
        out: dict[str, bool] = {}
        loader: ReadableLoader | None = None
        for name, compiled in self.compiled.items():
            if compiled is None:
                out[name] = False
                continue
            checked, evaluate = compiled
            if checked.needs_loader and loader is None:
                loader = ReadableLoader(service)
            try:
                out[name] = evaluate(record, context, loader) is True
            except (ex.EvaluationError, ArithmeticError, ValueError, TypeError):
                out[name] = False
        return out

    def hidden(self, results: Mapping[str, bool]) -> set[str]:
        """Field keys hidden by their own or their section's condition."""
        hidden: set[str] = set()
        for section in self.layout.sections:
            gone = section.visible_if is not None and not results.get(f"section:{section.index}")
            for p in section.fields:
                if gone or (p.visible_if is not None and not results.get(f"visible:{p.key}")):
                    hidden.add(p.key)
        return hidden

    def read_only(self, results: Mapping[str, bool]) -> set[str]:
        return {p.key for p in self.layout.placed() if results.get(f"read_only:{p.key}")}
