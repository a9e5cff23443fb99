"""Validate an app definition: JSON Schema first, then semantic rules, all errors at once.

Schema errors come from ``jsonschema`` (each reduced to its most relevant cause, as
``best_match`` does, and reworded for people who build apps, not for programmers).  Semantic
rules run only on documents that pass the schema, so they may trust its shape.  Each rule is a
small generator registered for a scope (app, entity or field); it yields problems with paths
relative to its scope, and :func:`semantic_errors` alone prefixes them, the way ``jsonschema``
builds paths from ``relative_path``.  Rules run in registration order, which is the order of
importance: broken keys first, then dangling references, then cycles and values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import (
    best_match,
    relevance,
)

from tessera.engines.definitions.autonumber import pattern_problem
from tessera.engines.definitions.errors import DefinitionError, PathElement
from tessera.engines.definitions.fields import FIELD_TYPES, InvalidValue
from tessera.engines.definitions.fields.base import option_keys
from tessera.engines.definitions.format import FormatError, schema_validator, upgrade
from tessera.engines.definitions.references import (
    RESERVED_KEYS,
    SYSTEM_FIELDS,
    formula_references,
)

Doc = Mapping[str, Any]
Path = tuple[PathElement, ...]
Problem = tuple[Path, str, str]  # relative path, code, message


def validate(doc: Any) -> list[DefinitionError]:
    """All errors of ``doc`` (upgraded to the current format first), best first; [] if valid."""
    try:
        doc = upgrade(doc)
    except FormatError as error:
        return [DefinitionError(("format",), str(error), "format")]
    errors = schema_errors(doc) or semantic_errors(doc)
    if errors:
        return errors
    # Imported here: the expression phase builds the document's model, and model.py imports
    # this module for compile_app.
    from tessera.engines.definitions.expression_check import expression_errors

    return expression_errors(doc)


# -- JSON Schema ---------------------------------------------------------------------------

_KIND = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def schema_errors(doc: Any) -> list[DefinitionError]:
    errors = [best_match([e]) or e for e in schema_validator().iter_errors(doc)]
    errors.sort(key=relevance, reverse=True)
    reworded = [_reword(error) for error in errors]
    # A setting whose value is wrong also counts as "unevaluated" (its ``then`` failed); the
    # real problem is the value, so the unknown-setting echo is left out.
    return [
        e
        for e in reworded
        if e.code != "unknown_setting"
        or not any(o is not e and o.path[: len(e.path)] == e.path for o in reworded)
    ]


def _reword(error: ValidationError) -> DefinitionError:
    path: Path = tuple(error.absolute_path)
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        extras = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        known = (
            set(error.schema.get("properties", {})) if keyword == "additionalProperties" else set()
        )
        extras = [name for name in extras if name not in known] or extras
        where = f" for a {instance['type']} field" if keyword == "unevaluatedProperties" else ""
        return DefinitionError(
            (*path, extras[0]), f"“{extras[0]}” is not a known setting{where}", "unknown_setting"
        )
    if keyword == "required":
        missing = re.findall(r"'([^']+)'", error.message)[0]
        return DefinitionError(path, f"“{missing}” is required here", "required")
    if keyword == "pattern" and isinstance(instance, str):
        if "a-z" in str(value):
            message = (
                f"“{instance}” is not a valid key: use lowercase letters, digits and single "
                "underscores, starting with a letter"
            )
            return DefinitionError(path, message, "bad_key")
        return DefinitionError(path, f"“{instance}” is not in the expected form", "pattern")
    if keyword == "maxLength":
        return DefinitionError(
            path, f"“{instance}” is too long: at most {value} characters", "too_long"
        )
    if keyword == "minLength":
        return DefinitionError(path, "this cannot be empty", "empty")
    if keyword == "enum":
        choices = ", ".join(str(v) for v in value)
        return DefinitionError(path, f"“{instance}” is not one of: {choices}", "not_allowed")
    if keyword == "const":
        return DefinitionError(path, f"this must be “{value}”", "not_allowed")
    if keyword == "type":
        kind = _KIND.get(value, str(value)) if isinstance(value, str) else "a label"
        return DefinitionError(path, f"this must be {kind}", "wrong_type")
    if keyword in ("minItems", "minProperties"):
        return DefinitionError(path, f"this needs at least {value} item(s)", "too_few")
    if keyword in ("maxItems",):
        return DefinitionError(path, f"this takes at most {value} item(s)", "too_many")
    if keyword in ("minimum", "maximum"):
        bound = "at least" if keyword == "minimum" else "at most"
        return DefinitionError(
            path, f"{instance} is out of range: it must be {bound} {value}", "range"
        )
    if keyword == "oneOf":
        return DefinitionError(
            path, "this must be text or an object of texts per language", "wrong_type"
        )
    return DefinitionError(path, error.message, keyword)


# -- semantic rules ------------------------------------------------------------------------


@dataclass
class Ctx:
    """The document with lookups the rules share: entities and fields by key."""

    doc: Doc
    entities: dict[str, Doc] = field(default_factory=dict)
    fields: dict[str, dict[str, Doc]] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: Doc) -> Ctx:
        ctx = cls(doc)
        for entity in doc["entities"]:
            ctx.entities.setdefault(entity["key"], entity)
            by_key = ctx.fields.setdefault(entity["key"], {})
            for f in entity["fields"]:
                by_key.setdefault(f["key"], f)
        return ctx

    def field(self, entity: str, key: str) -> Doc | None:
        return self.fields.get(entity, {}).get(key)


AppRule = Callable[[Ctx], Iterator[Problem]]
EntityRule = Callable[[Ctx, Doc], Iterator[Problem]]
FieldRule = Callable[[Ctx, Doc, Doc], Iterator[Problem]]
_RULES: list[tuple[str, Callable[..., Iterator[Problem]]]] = []


def app_rule(fn: AppRule) -> AppRule:
    _RULES.append(("app", fn))
    return fn


def entity_rule(fn: EntityRule) -> EntityRule:
    _RULES.append(("entity", fn))
    return fn


def field_rule(fn: FieldRule) -> FieldRule:
    _RULES.append(("field", fn))
    return fn


def semantic_errors(doc: Doc) -> list[DefinitionError]:
    """Run every registered rule; the only place where rule paths become document paths."""
    ctx = Ctx.of(doc)
    errors: list[DefinitionError] = []
    seen: set[tuple[Path, str]] = set()

    def add(prefix: Path, problems: Iterator[Problem]) -> None:
        for relative, code, message in problems:
            path = (*prefix, *relative)
            if (path, code) not in seen:
                seen.add((path, code))
                errors.append(DefinitionError(path, message, code))

    for scope, rule in _RULES:
        if scope == "app":
            add((), rule(ctx))
            continue
        for i, entity in enumerate(doc["entities"]):
            if scope == "entity":
                add(("entities", i), rule(ctx, entity))
                continue
            for j, f in enumerate(entity["fields"]):
                add(("entities", i, "fields", j), rule(ctx, entity, f))
    return errors


def _duplicates(items: list[str]) -> Iterator[int]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item in seen:
            yield index
        seen.add(item)


@app_rule
def unique_entity_keys(ctx: Ctx) -> Iterator[Problem]:
    keys = [e["key"] for e in ctx.doc["entities"]]
    for i in _duplicates(keys):
        yield (
            ("entities", i, "key"),
            "duplicate_key",
            f"another entity already has the key “{keys[i]}”",
        )


@entity_rule
def unique_field_keys(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    keys = [f["key"] for f in entity["fields"]]
    for i in _duplicates(keys):
        yield (
            ("fields", i, "key"),
            "duplicate_key",
            f"another field of this entity is already “{keys[i]}”",
        )


@field_rule
def reserved_keys(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["key"] in RESERVED_KEYS:
        yield ("key",), "reserved_key", f"“{f['key']}” is a system field; choose another key"


@entity_rule
def unique_columns(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    """A location ``geo`` takes the columns ``geo_lat`` and ``geo_lng``: no field may reuse them."""
    owners: dict[str, str] = {}
    for i, f in enumerate(entity["fields"]):
        for column in FIELD_TYPES[f["type"]].column_names(f):
            if column in owners and owners[column] != f["key"]:
                message = (
                    f"the field “{f['key']}” needs the column “{column}”, "
                    f"which “{owners[column]}” uses"
                )
                yield ("fields", i, "key"), "column_clash", message
            owners.setdefault(column, f["key"])


@entity_rule
def title_field(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    title = entity.get("title")
    if title is None:
        return
    f = ctx.field(entity["key"], title)
    if f is None:
        yield (
            ("title",),
            "unknown_field",
            f"the title field “{title}” does not exist in this entity",
        )
    elif FIELD_TYPES[f["type"]].storage != "column":
        yield ("title",), "bad_title", f"“{title}” cannot be the title: it is a {f['type']} field"


@field_rule
def link_targets(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] not in ("link", "multi_link", "child_table"):
        return
    target = ctx.entities.get(f["entity"])
    if target is None:
        yield ("entity",), "unknown_entity", f"there is no entity “{f['entity']}” to link to"
    elif f["type"] == "child_table" and not target.get("child"):
        yield (
            ("entity",),
            "not_child",
            f'“{f["entity"]}” is not a child entity (set "child": true on it)',
        )
    elif f["type"] != "child_table" and target.get("child"):
        yield (
            ("entity",),
            "link_to_child",
            f"“{f['entity']}” is a child entity; its rows belong to one parent",
        )


@entity_rule
def child_has_one_parent(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    if not entity.get("child"):
        return
    parents = [
        (e["key"], f["key"])
        for e in ctx.doc["entities"]
        for f in e["fields"]
        if f["type"] == "child_table" and f["entity"] == entity["key"]
    ]
    if len(parents) != 1:
        how = "no child table field uses it" if not parents else "more than one child table uses it"
        yield (
            ("child",),
            "child_parents",
            f"a child entity belongs to exactly one parent, but {how}",
        )
    elif any(f["type"] == "child_table" for f in entity["fields"]):
        yield ("child",), "nested_child", "a child entity cannot have child tables of its own"


@field_rule
def select_options(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] not in ("select", "multi_select"):
        return
    keys = list(option_keys(f))
    for i in _duplicates(keys):
        yield ("options", i), "duplicate_option", f"the option “{keys[i]}” is listed twice"


@field_rule
def decimal_scale(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if "precision" in f and f.get("scale", 2) > f["precision"]:
        yield (
            ("scale",),
            "scale_too_large",
            f"the scale ({f.get('scale', 2)}) cannot exceed the precision ({f['precision']})",
        )


@field_rule
def unique_flag(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    kind = FIELD_TYPES[f["type"]]
    if (f.get("unique") or f.get("index")) and (not kind.indexable or kind.storage != "column"):
        flag = "unique" if f.get("unique") else "index"
        yield (
            (flag,),
            "not_indexable",
            f"a {f['type']} field cannot be {'unique' if flag == 'unique' else 'indexed'}",
        )


@entity_rule
def indexes(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    signatures: list[str] = []
    for i, index in enumerate(entity.get("indexes", ())):
        for j, key in enumerate(index["fields"]):
            f = ctx.field(entity["key"], key)
            if f is None and key not in SYSTEM_FIELDS:
                yield (
                    ("indexes", i, "fields", j),
                    "unknown_field",
                    f"there is no field “{key}” to index",
                )
            elif f is not None and not (
                FIELD_TYPES[f["type"]].indexable
                and FIELD_TYPES[f["type"]].storage != "junction"
                and FIELD_TYPES[f["type"]].storage != "children"
            ):
                yield (
                    ("indexes", i, "fields", j),
                    "not_indexable",
                    f"a {f['type']} field cannot be indexed",
                )
        signatures.append(",".join(index["fields"]))
    for i in _duplicates(signatures):
        yield ("indexes", i), "duplicate_index", "the same index is defined twice"


@entity_rule
def form_layout(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    form = entity.get("form")
    if not form:
        return
    tabs = {tab["key"] for tab in form.get("tabs", ())}
    for i in _duplicates([tab["key"] for tab in form.get("tabs", ())]):
        yield ("form", "tabs", i, "key"), "duplicate_key", "another tab already has this key"
    placed: set[str] = set()
    for s, section in enumerate(form.get("sections", ())):
        if "tab" in section and section["tab"] not in tabs:
            yield (
                ("form", "sections", s, "tab"),
                "unknown_tab",
                f"there is no tab “{section['tab']}”",
            )
        for p, placement in enumerate(section.get("fields", ())):
            key = placement if isinstance(placement, str) else placement["field"]
            where: Path = ("form", "sections", s, "fields", p)
            where = where if isinstance(placement, str) else (*where, "field")
            if ctx.field(entity["key"], key) is None and key not in SYSTEM_FIELDS:
                yield (
                    where,
                    "unknown_field",
                    f"the form shows “{key}”, which is not a field of this entity",
                )
            elif key in placed:
                yield where, "placed_twice", f"“{key}” is placed on the form twice"
            placed.add(key)


@entity_rule
def views(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    views_ = entity.get("views", ())
    for i in _duplicates([v["key"] for v in views_]):
        yield (
            ("views", i, "key"),
            "duplicate_key",
            "another view of this entity already has this key",
        )
    for v, view in enumerate(views_):
        refs: list[tuple[Path, str]] = [
            (("columns", i), key) for i, key in enumerate(view.get("columns", ()))
        ]
        refs += [(("sort", i, "field"), s["field"]) for i, s in enumerate(view.get("sort", ()))]
        refs += [
            (("filters", i, "field"), s["field"]) for i, s in enumerate(view.get("filters", ()))
        ]
        refs += [
            ((name,), view[name])
            for name in ("group_by", "date_field", "end_date_field")
            if name in view
        ]
        for path, key in refs:
            f = ctx.field(entity["key"], key)
            if f is None and key not in SYSTEM_FIELDS:
                yield (
                    ("views", v, *path),
                    "unknown_field",
                    f"the view uses “{key}”, which is not a field of this entity",
                )
            elif (
                f is not None
                and path[0] == "group_by"
                and f["type"] not in ("select", "user", "link", "department", "boolean")
            ):
                yield (
                    ("views", v, *path),
                    "bad_group",
                    f"a kanban board groups by a select, user or link field, not by {f['type']}",
                )
            elif (
                f is not None
                and path[0] in ("date_field", "end_date_field")
                and f["type"] not in ("date", "datetime")
            ):
                yield (
                    ("views", v, *path),
                    "bad_date",
                    f"a calendar needs a date field; “{key}” is {f['type']}",
                )
        for i, flt in enumerate(view.get("filters", ())):
            f = ctx.field(entity["key"], flt["field"])
            if f is not None and flt["op"] not in FIELD_TYPES[f["type"]].operators:
                yield (
                    ("views", v, "filters", i, "op"),
                    "bad_operator",
                    f"“{flt['op']}” cannot filter a {f['type']} field",
                )


@entity_rule
def related_lists(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    """A form section may list the records of another entity that link to this record (the
    contacts of an account): ``related.link`` must be a link field of ``related.entity``
    pointing here, and its columns and sort fields must belong to ``related.entity``."""
    for s, section in enumerate(entity.get("form", {}).get("sections", ())):
        for r, related in enumerate(section.get("related", ())):
            where: Path = ("form", "sections", s, "related", r)
            other = related["entity"]
            if other not in ctx.entities:
                yield (
                    (*where, "entity"),
                    "unknown_entity",
                    f"the related list shows “{other}”, which is not an entity",
                )
                continue
            link = ctx.field(other, related["link"])
            if link is None or link["type"] != "link" or link["entity"] != entity["key"]:
                yield (
                    (*where, "link"),
                    "bad_related_link",
                    f"“{related['link']}” is not a link field of “{other}” pointing to "
                    f"“{entity['key']}”",
                )
            refs: list[tuple[Path, str]] = [
                (("columns", i), key) for i, key in enumerate(related.get("columns", ()))
            ]
            refs += [
                (("sort", i, "field"), s_["field"]) for i, s_ in enumerate(related.get("sort", ()))
            ]
            for path, key in refs:
                if ctx.field(other, key) is None and key not in SYSTEM_FIELDS:
                    yield (
                        (*where, *path),
                        "unknown_field",
                        f"the related list uses “{key}”, which is not a field of “{other}”",
                    )
            if related.get("display") == "timeline":
                first = next(iter(related.get("sort", ())), None)
                f = ctx.field(other, first["field"]) if first else None
                dated = first is not None and (
                    first["field"] in ("created_at", "updated_at")
                    or (f is not None and f["type"] in ("date", "datetime"))
                )
                if not dated:
                    yield (
                        (*where, "sort"),
                        "bad_timeline",
                        "a timeline is ordered by a date: sort it first by a date field",
                    )


@entity_rule
def view_conditions(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    """``where`` narrows a view with a formula (``owner = CURRENT_USER()``)."""
    for v, view in enumerate(entity.get("views", ())):
        if "where" not in view:
            continue
        for ref in sorted(formula_references(view["where"])):
            _, missing = resolve_path(ctx, entity["key"], ref)
            if missing is not None:
                yield (
                    ("views", v, "where"),
                    "unknown_field",
                    f"the condition uses “{ref}”, but there is no field “{missing}”",
                )


@app_rule
def navigation(ctx: Ctx) -> Iterator[Problem]:
    def walk(items: Any, prefix: Path) -> Iterator[Problem]:
        for i, item in enumerate(items):
            if "entity" in item and item["entity"] not in ctx.entities:
                yield (
                    (*prefix, i, "entity"),
                    "unknown_entity",
                    f"the menu opens “{item['entity']}”, which is not an entity",
                )
            elif "view" in item:
                entity = ctx.entities.get(item.get("entity", ""))
                if entity is None or item["view"] not in {
                    v["key"] for v in entity.get("views", ())
                }:
                    yield (
                        (*prefix, i, "view"),
                        "unknown_view",
                        f"the menu opens the view “{item['view']}”, which does not exist",
                    )
            yield from walk(item.get("items", ()), (*prefix, i, "items"))

    yield from walk(ctx.doc.get("navigation", ()), ("navigation",))


@field_rule
def rollup_source(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] != "rollup":
        return
    target = rollup_target(ctx, entity, f)
    if target is None:
        message = (
            f"the rollup reads “{f['source']}”, which is neither a child table of this entity "
            "nor entity.link_field pointing here"
        )
        yield ("source",), "bad_source", message
        return
    if f["aggregate"] != "count" and "field" not in f:
        yield ("field",), "required", f"a {f['aggregate']} rollup needs the field to aggregate"
    elif "field" in f:
        read = ctx.field(target, f["field"])
        if read is None:
            yield ("field",), "unknown_field", f"“{target}” has no field “{f['field']}”"
        elif f["aggregate"] in ("sum", "avg") and FIELD_TYPES[read["type"]].value_type_of(
            stored_of(ctx, target, read)
        ).value not in ("number", "decimal", "currency", "duration"):
            yield (
                ("field",),
                "not_numeric",
                f"cannot {f['aggregate']} “{f['field']}”: it is not a number",
            )


def rollup_target(ctx: Ctx, entity: Doc, f: Doc) -> str | None:
    """The entity a rollup aggregates: a child table's entity, or one linking here."""
    if "." in f["source"]:
        other, link = f["source"].split(".", 1)
        linked = ctx.field(other, link)
        ok = linked is not None and linked["type"] == "link" and linked["entity"] == entity["key"]
        return other if ok else None
    child = ctx.field(entity["key"], f["source"])
    return child["entity"] if child is not None and child["type"] == "child_table" else None


@field_rule
def lookup_path(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] != "lookup":
        return
    link = ctx.field(entity["key"], f["link"])
    if link is None or link["type"] != "link":
        yield (
            ("link",),
            "bad_link",
            f"a lookup reads through a link field of this entity; “{f['link']}” is not one",
        )
    elif link["entity"] in ctx.entities:
        read = ctx.field(link["entity"], f["field"])
        if read is None:
            yield ("field",), "unknown_field", f"“{link['entity']}” has no field “{f['field']}”"
        elif FIELD_TYPES[read["type"]].storage != "column":
            yield ("field",), "bad_lookup", f"a lookup cannot show a {read['type']} field"


def resolve_path(ctx: Ctx, entity: str, path: str) -> tuple[list[tuple[str, str]], str | None]:
    """Fields a dotted path passes through, and the first segment that does not resolve."""
    passed: list[tuple[str, str]] = []
    current: str | None = entity
    for segment in path.split("."):
        if current is None:
            return passed, None  # past a user/department or a system field: not ours to check
        f = ctx.field(current, segment)
        if f is None:
            return passed, None if segment in SYSTEM_FIELDS or segment == "parent" else segment
        passed.append((current, segment))
        current = f.get("entity") if f["type"] in ("link", "multi_link", "child_table") else None
    return passed, None


def _expressions(f: Doc) -> Iterator[tuple[Path, str]]:
    if f["type"] == "formula":
        yield ("formula",), f["formula"]


@field_rule
def formula_fields(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    for path, source in _expressions(f):
        for ref in sorted(formula_references(source)):
            _, missing = resolve_path(ctx, entity["key"], ref)
            if missing is not None:
                yield (
                    path,
                    "unknown_field",
                    f"the formula uses “{ref}”, but there is no field “{missing}”",
                )


@entity_rule
def validation_rules(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    """Validation rules (``error_if`` formulas): unique keys, known fields."""
    rules = entity.get("validations", ())
    for i in _duplicates([r["key"] for r in rules]):
        yield (
            ("validations", i, "key"),
            "duplicate_key",
            f"the key “{rules[i]['key']}” is used twice",
        )
    for i, rule in enumerate(rules):
        if "field" in rule and ctx.field(entity["key"], rule["field"]) is None:
            yield (
                ("validations", i, "field"),
                "unknown_field",
                f"there is no field “{rule['field']}” to show this message on",
            )
        for ref in sorted(formula_references(rule["error_if"])):
            _, missing = resolve_path(ctx, entity["key"], ref)
            if missing is not None:
                yield (
                    ("validations", i, "error_if"),
                    "unknown_field",
                    f"the rule uses “{ref}”, but there is no field “{missing}”",
                )


@entity_rule
def layout_conditions(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    for s, section in enumerate(entity.get("form", {}).get("sections", ())):
        exprs: list[tuple[Path, str]] = []
        if "visible_if" in section:
            exprs.append((("form", "sections", s, "visible_if"), section["visible_if"]))
        for p, placement in enumerate(section.get("fields", ())):
            for name in ("visible_if", "read_only_if"):
                if isinstance(placement, dict) and name in placement:
                    exprs.append((("form", "sections", s, "fields", p, name), placement[name]))
        for path, source in exprs:
            for ref in sorted(formula_references(source)):
                _, missing = resolve_path(ctx, entity["key"], ref)
                if missing is not None:
                    yield (
                        path,
                        "unknown_field",
                        f"the condition uses “{ref}”, but there is no field “{missing}”",
                    )


def dependencies(ctx: Ctx, entity: Doc, f: Doc) -> list[tuple[str, str]]:
    """The fields whose values a computed field reads."""
    if f["type"] == "formula":
        deps: list[tuple[str, str]] = []
        for ref in formula_references(f["formula"]):
            deps += resolve_path(ctx, entity["key"], ref)[0]
        return deps
    if f["type"] == "rollup":
        target = rollup_target(ctx, entity, f)
        return [(target, f["field"])] if target and "field" in f else []
    if f["type"] == "lookup":
        link = ctx.field(entity["key"], f["link"])
        return (
            [(entity["key"], f["link"]), (link["entity"], f["field"])]
            if link and "entity" in link
            else []
        )
    return []


@app_rule
def role_permissions(ctx: Ctx) -> Iterator[Problem]:
    """Role keys are unique; permissions name entities and fields the app has (child tables
    are reached through their parent, so they carry no permissions of their own)."""
    roles = ctx.doc.get("roles", ())
    for i in _duplicates([r["key"] for r in roles]):
        message = f"the role “{roles[i]['key']}” is declared twice"
        yield ("roles", i, "key"), "duplicate_key", message
    entities = {e["key"]: e for e in ctx.doc["entities"]}
    for i, role in enumerate(roles):
        for key, rights in (role.get("entities") or {}).items():
            where: Path = ("roles", i, "entities", key)
            entity = entities.get(key)
            if entity is None:
                yield where, "unknown_entity", f"there is no entity “{key}”"
                continue
            if entity.get("child"):
                yield (
                    where,
                    "child_entity",
                    (f"“{key}” is a child table: its rows follow the permissions of their parent"),
                )
                continue
            fields = {f["key"] for f in entity["fields"]}
            for field_key in rights.get("fields", {}):
                if field_key not in fields:
                    yield (
                        (*where, "fields", field_key),
                        "unknown_field",
                        (f"“{key}” has no field “{field_key}”"),
                    )


@app_rule
def no_cycles(ctx: Ctx) -> Iterator[Problem]:
    """Formulas, rollups and lookups must not depend on themselves, however indirectly."""
    position = {
        (e["key"], f["key"]): (i, j)
        for i, e in enumerate(ctx.doc["entities"])
        for j, f in enumerate(e["fields"])
    }
    graph = {
        (e["key"], f["key"]): dependencies(ctx, e, f)
        for e in ctx.doc["entities"]
        for f in e["fields"]
    }
    reported: set[tuple[str, str]] = set()
    state: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []

    def visit(node: tuple[str, str]) -> Iterator[Problem]:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                if not reported & set(cycle):
                    reported.update(cycle)
                    i, j = position[dep]
                    chain = " → ".join(f"{e}.{k}" if e != dep[0] else k for e, k in cycle)
                    yield (
                        ("entities", i, "fields", j),
                        "cycle",
                        f"“{dep[1]}” depends on itself: {chain}",
                    )
            elif state.get(dep) is None and dep in graph:
                yield from visit(dep)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            yield from visit(node)


@field_rule
def auto_number_pattern(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] == "auto_number" and (problem := pattern_problem(f["pattern"])):
        yield ("pattern",), "bad_pattern", problem


@field_rule
def default_value(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f.get("default") is None:
        return
    kind = FIELD_TYPES[f["type"]]
    if kind.computed or kind.storage in ("junction", "children"):
        yield ("default",), "no_default", f"a {f['type']} field cannot have a default"
        return
    if isinstance(f["default"], dict) and set(f["default"]) == {"formula"}:
        # a formula default ({"formula": "TODAY() + 30"}) is computed when a record is created
        source = f["default"]["formula"]
        if not isinstance(source, str) or not source.strip():
            yield ("default", "formula"), "bad_default", "the default formula is empty"
            return
        for ref in sorted(formula_references(source)):
            _, missing = resolve_path(ctx, entity["key"], ref)
            if missing is not None:
                yield (
                    ("default", "formula"),
                    "unknown_field",
                    f"the default formula uses “{ref}”, but there is no field “{missing}”",
                )
        return
    if f["type"] in ("date", "datetime") and f["default"] in ("today", "now"):
        return
    try:
        kind.validate(f, f["default"])
    except InvalidValue as error:
        yield ("default",), "bad_default", f"the default is not valid: {error}"


def stored_of(ctx: Ctx, entity: str, f: Doc) -> Doc:
    """The spec a computed field's stored result follows (plain fields: themselves)."""
    from tessera.engines.definitions.model import resolve_stored

    return resolve_stored(lambda e, k: ctx.field(e, k), entity, f, depth=0)
