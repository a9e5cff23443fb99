"""An app version prepared for the records service: formulas compiled, dependencies mapped.

Built once per published app version (:func:`compile_records`, cached by the identity of the
``AppModel``), so a write never parses a formula.  What it holds:

* per entity, the computed fields in an order where inputs come first, split into *local*
  formulas (read only the record's own stored fields: evaluated in Python before the row is
  written) and the rest (formulas that follow links or read related lists, rollups, lookups:
  recomputed after the write by :mod:`.computed`);
* default formulas and validation rules, compiled;
* **triggers**: "when records of entity S change in these fields, recompute field F of the
  records of entity T reached backwards from them by these hops".  They come from the
  definition alone: formula references, rollup sources and lookup paths.

A formula that does not type-check (the definition validator only checks names) is kept out
and listed in ``problems``; the field then stays blank instead of breaking every write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from tessera.engines import expressions as ex
from tessera.engines.definitions import AppModel, EntityModel, FieldModel
from tessera.engines.definitions.expression_schema import to_expr_schema
from tessera.engines.definitions.fields.base import pick_label
from tessera.engines.expressions.python_backend import Evaluator
from tessera.engines.memo import PerObject

ALL = "*"  # in a set of changed fields: the record appeared, vanished, was trashed or restored


@dataclass(frozen=True)
class Hop:
    """One step backwards from changed records to the records that read them.

    ``there``: the changed rows hold ``column`` pointing at the readers (children's
    ``parent_id``, a link field of the changed entity); ``here``: the readers hold ``column``
    pointing at the changed rows (a lookup's link); ``junction``: a multi-link table.
    """

    kind: Literal["there", "here", "junction"]
    table: str
    column: str


@dataclass(frozen=True)
class Trigger:
    source: str
    fields: frozenset[str]
    target: str
    target_field: str
    hops: tuple[Hop, ...]

    def fires(self, changed: set[str]) -> bool:
        return ALL in changed or bool(self.fields & changed)


@dataclass(frozen=True)
class CompiledFormula:
    field: FieldModel
    evaluate: Evaluator
    needs_loader: bool


@dataclass(frozen=True)
class Rule:
    key: str
    field: str | None
    message: Mapping[str, str] | str
    evaluate: Evaluator
    #: reads only the record's own stored fields (no links, no related lists, no id), so it can
    #: be checked on a new record before the row is written
    local: bool = False

    def text(self, locale: str) -> str:
        return pick_label(self.message, locale, self.key)


@dataclass
class EntityPlan:
    entity: EntityModel
    local: list[CompiledFormula] = field(default_factory=list)
    #: non-local computed fields in dependency order, with the own fields each one reads
    derived: list[tuple[FieldModel, frozenset[str]]] = field(default_factory=list)
    formulas: dict[str, CompiledFormula] = field(default_factory=dict)
    defaults: dict[str, CompiledFormula] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)  # triggers whose source is this entity
    #: a single create can be refused only before its first write (no unique fields whose
    #: index a racing writer could hit, no child rows or links written after the row, rules
    #: checkable before writing), so it needs no SAVEPOINT of its own
    plain_create: bool = False


@dataclass
class CompiledApp:
    app: AppModel
    schema: ex.ExprSchema
    entities: dict[str, EntityPlan]
    problems: list[str]

    def plan(self, entity: str) -> EntityPlan:
        return self.entities[entity]


_cache: PerObject[CompiledApp] = PerObject(limit=64)


def compile_records(app: AppModel) -> CompiledApp:
    """The compiled form of ``app`` (cached per process by the model object's identity)."""
    return _cache.made(app, lambda: _compile(app))


def _compile(app: AppModel) -> CompiledApp:
    schema = to_expr_schema(app)
    out = CompiledApp(app, schema, {e.key: EntityPlan(e) for e in app.entities}, [])
    doc_entities = {e["key"]: e for e in app.to_doc()["entities"]}
    triggers: list[Trigger] = []
    for entity in app.entities:
        plan = out.entities[entity.key]
        inputs: dict[str, frozenset[str]] = {}
        local: set[str] = set()
        for f in entity.fields:
            if f.type == "formula":
                compiled = _formula(out, entity, f.key, str(f.spec["formula"]), f)
                if compiled is None:
                    continue
                plan.formulas[f.key] = compiled
                refs = ex.references(ex.parse(str(f.spec["formula"])))
                inputs[f.key] = frozenset(path[0] for path in refs)
                if not compiled.needs_loader and not _uses_id(str(f.spec["formula"])):
                    local.add(f.key)
                triggers += _path_triggers(schema, entity, f.key, refs)
            elif f.type == "rollup":
                inputs[f.key], rollup_trigger = _rollup(app, entity, f)
                triggers += rollup_trigger
            elif f.type == "lookup":
                inputs[f.key] = frozenset({f.spec["link"]})
                link = entity.field(f.spec["link"])
                triggers.append(
                    Trigger(
                        str(link.target),
                        frozenset({f.spec["field"]}),
                        entity.key,
                        f.key,
                        (Hop("here", entity.table, link.columns[0]),),
                    )
                )
            default = f.spec.get("default")
            if isinstance(default, Mapping) and "formula" in default:
                compiled = _formula(out, entity, f.key, str(default["formula"]), f, "default")
                if compiled is not None:
                    plan.defaults[f.key] = compiled
        # a formula stays local only when every computed input it reads is local too
        changed = True
        while changed:
            changed = False
            for key in list(local):
                computed_inputs = {
                    k for k in inputs[key] if entity.has_field(k) and entity.field(k).kind.computed
                }
                if not computed_inputs <= local:
                    local.discard(key)
                    changed = True
        for key in _topological(inputs):
            f = entity.field(key)
            if key in local:
                plan.local.append(plan.formulas[key])
            else:
                plan.derived.append((f, inputs[key]))
        for rule in doc_entities[entity.key].get("validations", ()):
            checked = _check(out, entity, f"validation rule “{rule['key']}”", rule["error_if"])
            if checked is None:
                continue
            if checked.type.kind is not ex.ValueType.BOOLEAN:
                out.problems.append(
                    f"{entity.key}: validation rule “{rule['key']}” is not a yes/no formula"
                )
                continue
            plan.rules.append(
                Rule(
                    rule["key"], rule.get("field"), rule["message"], ex.compile_python(checked),
                    local=not checked.needs_loader and not _uses_id(rule["error_if"]),
                )
            )  # fmt: skip
        plan.plain_create = (
            not any(f.spec.get("unique") for f in entity.fields)
            and not any(f.type in ("child_table", "multi_link") for f in entity.fields)
            and (not plan.rules or (not plan.derived and all(r.local for r in plan.rules)))
        )
    for trigger in triggers:
        if trigger.source in out.entities:
            out.entities[trigger.source].triggers.append(trigger)
    return out


def _check(
    out: CompiledApp, entity: EntityModel, what: str, source: str
) -> ex.CheckedExpression | None:
    try:
        expr = ex.parse(source, schema=out.schema, entity=entity.key)
        return ex.check(expr, out.schema, entity.key)
    except ex.ExpressionErrors as error:
        out.problems.append(f"{entity.key}: {what}: {error}")
        return None


def _formula(
    out: CompiledApp,
    entity: EntityModel,
    key: str,
    source: str,
    f: FieldModel,
    what: str = "formula",
) -> CompiledFormula | None:
    checked = _check(out, entity, f"{what} of “{key}”", source)
    if checked is None:
        return None
    return CompiledFormula(f, ex.compile_python(checked), checked.needs_loader)


def _uses_id(source: str) -> bool:
    """Formulas that read the record's id cannot be evaluated before the row exists."""
    node = ex.parse(source).node
    for n in ex.ast.walk(node):
        if isinstance(n, ex.ast.Call) and n.name == "RECORD_ID":
            return True
        if isinstance(n, ex.ast.Field) and n.path[0] == "id":
            return True
    return False


def _rollup(
    app: AppModel, entity: EntityModel, f: FieldModel
) -> tuple[frozenset[str], list[Trigger]]:
    source = str(f.spec["source"])
    read = {str(f.spec["field"])} if "field" in f.spec else set()
    if "." in source:
        other, link = source.split(".", 1)
        table = app.entity(other).table
        column = app.entity(other).field(link).columns[0]
        trigger = Trigger(
            other, frozenset({ALL, link, *read}), entity.key, f.key, (Hop("there", table, column),)
        )
        return frozenset(), [trigger]
    child = app.entity(str(entity.field(source).target))
    trigger = Trigger(
        child.key,
        frozenset({ALL, *read}),
        entity.key,
        f.key,
        (Hop("there", child.table, "parent_id"),),
    )
    return frozenset({source}), [trigger]


def _path_triggers(
    schema: ex.ExprSchema, entity: EntityModel, key: str, refs: set[tuple[str, ...]]
) -> list[Trigger]:
    """Triggers for every record a formula's paths pass through (``account.industry``,
    ``line_items.subtotal``, ``ticket__customer``)."""
    out: list[Trigger] = []
    for path in refs:
        spec = schema.entity(entity.key)
        hops: list[Hop] = []
        for i, segment in enumerate(path):
            fs = spec.fields.get(segment)
            if fs is None:
                break
            if i > 0:
                extra = {segment}
                if hops[-1].kind == "there":
                    extra |= {ALL, _pointer_key(spec, hops[-1].column)}
                elif hops[-1].kind == "junction":
                    extra |= {ALL}  # a linked record trashed or restored
                out.append(
                    Trigger(spec.key, frozenset(extra), entity.key, key, tuple(reversed(hops)))
                )
            hop, target = _hop(schema, spec, fs)
            if hop is None or target is None:
                break
            hops.append(hop)
            spec = target
            if i == len(path) - 1 and hop.kind in ("there", "junction"):
                # the path ends in a list of records: membership changes matter
                members = {ALL, _pointer_key(spec, hop.column)} if hop.kind == "there" else {ALL}
                out.append(
                    Trigger(spec.key, frozenset(members), entity.key, key, tuple(reversed(hops)))
                )
    return out


def _pointer_key(spec: ex.EntitySpec, column: str) -> str:
    if column == "parent_id":
        return "parent"
    return next((fs.key for fs in spec.fields.values() if fs.column == column), column)


def _hop(
    schema: ex.ExprSchema, spec: ex.EntitySpec, fs: ex.FieldSpec
) -> tuple[Hop | None, ex.EntitySpec | None]:
    """The backward hop for following ``fs`` forwards, and the entity it leads to.  Links to
    the platform's users and departments lead out of the app: nothing there is written through
    this service, so no trigger is needed."""
    target = schema.entities.get(fs.target or "") if fs.target else None
    if target is None or target.key in ("user", "department"):
        return None, None
    if fs.relation is ex.Relation.LINK and fs.column:
        return Hop("here", spec.table, fs.column), target
    if fs.relation in (ex.Relation.CHILDREN, ex.Relation.REVERSE) and fs.remote_column:
        return Hop("there", target.table, fs.remote_column), target
    if fs.relation is ex.Relation.MULTI_LINK and fs.junction:
        return Hop("junction", fs.junction[0], fs.junction[1]), target
    return None, None


def _topological(inputs: Mapping[str, frozenset[str]]) -> list[str]:
    """Computed fields with their same-record inputs first (the validator rules out cycles)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(key: str, depth: int) -> None:
        if key in seen or depth > len(inputs):
            return
        seen.add(key)
        for dep in sorted(inputs.get(key, ())):
            if dep in inputs:
                visit(dep, depth + 1)
        done.append(key)

    for key in inputs:
        visit(key, 0)
    return done


def record_tables(metadata: sa.MetaData, app: AppModel) -> dict[str, sa.Table]:
    """Tables by entity key, by table name, and the platform's ``users``/``departments`` (found
    through the foreign keys, since they live in the platform's own metadata)."""
    tables: dict[str, Any] = dict(metadata.tables)
    for entity in app.entities:
        table = metadata.tables[entity.table]
        tables[entity.key] = table
        for fk in table.c.created_by.foreign_keys:
            users = tables.setdefault("users", fk.column.table)
            if "department_id" in users.c:
                for dept_fk in users.c.department_id.foreign_keys:
                    tables.setdefault("departments", dept_fk.column.table)
        for f in entity.fields:
            if f.type == "department":
                for fk in table.c[f.key].foreign_keys:
                    tables.setdefault("departments", fk.column.table)
    return tables
