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
from tessera.engines.definitions.errors import DefinitionError, PathElement, phrased
from tessera.engines.definitions.fields import FIELD_TYPES, InvalidValue, type_name
from tessera.engines.definitions.fields.base import operator_name, option_keys
from tessera.engines.definitions.format import FormatError, schema_validator, upgrade
from tessera.engines.definitions.references import (
    RESERVED_KEYS,
    SYSTEM_FIELDS,
    formula_references,
)
from tessera.engines.messages import Listing, Phrase, _l

Doc = Mapping[str, Any]
Path = tuple[PathElement, ...]
Problem = tuple[Path, str, Phrase]  # relative path, code, message


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
    "string": _l("text"),
    "integer": _l("a whole number"),
    "number": _l("a number"),
    "boolean": _l("true or false"),
    "array": _l("a list"),
    "object": _l("an object"),
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
        unknown = (
            Phrase(
                _l("“%(key)s” is not a known setting for fields of type “%(type)s”"),
                key=extras[0],
                type=type_name(instance["type"]),
            )
            if keyword == "unevaluatedProperties"
            else Phrase(_l("“%(key)s” is not a known setting"), key=extras[0])
        )
        return phrased((*path, extras[0]), "unknown_setting", unknown)
    if keyword == "required":
        missing = re.findall(r"'([^']+)'", error.message)[0]
        return phrased(path, "required", Phrase(_l("“%(key)s” is required here"), key=missing))
    if keyword == "pattern" and isinstance(instance, str):
        if "a-z" in str(value):
            message = Phrase(
                _l(
                    "“%(value)s” is not a valid key: use lowercase letters, digits and single "
                    "underscores, starting with a letter"
                ),
                value=instance,
            )
            return phrased(path, "bad_key", message)
        return phrased(
            path, "pattern", Phrase(_l("“%(value)s” is not in the expected form"), value=instance)
        )
    if keyword == "maxLength":
        too_long = Phrase(
            _l("“%(value)s” is too long: at most %(limit)s characters"), value=instance, limit=value
        )
        return phrased(path, "too_long", too_long)
    if keyword == "minLength":
        return phrased(path, "empty", Phrase(_l("this cannot be empty")))
    if keyword == "enum":
        choices = Listing(str(v) for v in value)
        not_one = Phrase(
            _l("“%(value)s” is not one of: %(choices)s"), value=instance, choices=choices
        )
        return phrased(path, "not_allowed", not_one)
    if keyword == "const":
        return phrased(path, "not_allowed", Phrase(_l("this must be “%(value)s”"), value=value))
    if keyword == "type":
        kind = (
            (Phrase(_KIND[value]) if value in _KIND else value)
            if isinstance(value, str)
            else Phrase(_l("a label"))
        )
        return phrased(path, "wrong_type", Phrase(_l("this must be %(kind)s"), kind=kind))
    if keyword in ("minItems", "minProperties"):
        return phrased(
            path, "too_few", Phrase(_l("this needs at least %(count)s item(s)"), count=value)
        )
    if keyword in ("maxItems",):
        return phrased(
            path, "too_many", Phrase(_l("this takes at most %(count)s item(s)"), count=value)
        )
    if keyword in ("minimum", "maximum"):
        template = (
            _l("%(value)s is out of range: it must be at least %(bound)s")
            if keyword == "minimum"
            else _l("%(value)s is out of range: it must be at most %(bound)s")
        )
        return phrased(path, "range", Phrase(template, value=instance, bound=value))
    if keyword == "oneOf":
        return phrased(
            path, "wrong_type", Phrase(_l("this must be text or an object of texts per language"))
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
                errors.append(phrased(path, code, message))

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
            Phrase(_l("another entity already has the key “%(key)s”"), key=keys[i]),
        )


@entity_rule
def unique_field_keys(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    keys = [f["key"] for f in entity["fields"]]
    for i in _duplicates(keys):
        yield (
            ("fields", i, "key"),
            "duplicate_key",
            Phrase(_l("another field of this entity is already “%(key)s”"), key=keys[i]),
        )


@field_rule
def reserved_keys(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["key"] in RESERVED_KEYS:
        message = Phrase(_l("“%(key)s” is a system field; choose another key"), key=f["key"])
        yield ("key",), "reserved_key", message


@entity_rule
def unique_columns(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    """A location ``geo`` takes the columns ``geo_lat`` and ``geo_lng``: no field may reuse them."""
    owners: dict[str, str] = {}
    for i, f in enumerate(entity["fields"]):
        for column in FIELD_TYPES[f["type"]].column_names(f):
            if column in owners and owners[column] != f["key"]:
                message = Phrase(
                    _l("the field “%(key)s” needs the column “%(column)s”, which “%(owner)s” uses"),
                    key=f["key"],
                    column=column,
                    owner=owners[column],
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
            Phrase(_l("the title field “%(key)s” does not exist in this entity"), key=title),
        )
    elif FIELD_TYPES[f["type"]].storage != "column":
        message = Phrase(
            _l("“%(key)s” cannot be the title: its type is “%(type)s”"),
            key=title,
            type=type_name(f["type"]),
        )
        yield ("title",), "bad_title", message


@field_rule
def link_targets(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] not in ("link", "multi_link", "child_table"):
        return
    target = ctx.entities.get(f["entity"])
    if target is None:
        message = Phrase(_l("there is no entity “%(key)s” to link to"), key=f["entity"])
        yield ("entity",), "unknown_entity", message
    elif f["type"] == "child_table" and not target.get("child"):
        yield (
            ("entity",),
            "not_child",
            Phrase(
                _l('“%(key)s” is not a child entity (set "child": true on it)'), key=f["entity"]
            ),
        )
    elif f["type"] != "child_table" and target.get("child"):
        yield (
            ("entity",),
            "link_to_child",
            Phrase(
                _l("“%(key)s” is a child entity; its rows belong to one parent"), key=f["entity"]
            ),
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
        message = (
            Phrase(
                _l("a child entity belongs to exactly one parent, but no child table field uses it")
            )
            if not parents
            else Phrase(
                _l(
                    "a child entity belongs to exactly one parent, "
                    "but more than one child table uses it"
                )
            )
        )
        yield ("child",), "child_parents", message
    elif any(f["type"] == "child_table" for f in entity["fields"]):
        yield (
            ("child",),
            "nested_child",
            Phrase(_l("a child entity cannot have child tables of its own")),
        )


@field_rule
def select_options(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] not in ("select", "multi_select"):
        return
    keys = list(option_keys(f))
    for i in _duplicates(keys):
        message = Phrase(_l("the option “%(key)s” is listed twice"), key=keys[i])
        yield ("options", i), "duplicate_option", message


@field_rule
def decimal_scale(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if "precision" in f and f.get("scale", 2) > f["precision"]:
        yield (
            ("scale",),
            "scale_too_large",
            Phrase(
                _l("the scale (%(scale)s) cannot exceed the precision (%(precision)s)"),
                scale=f.get("scale", 2),
                precision=f["precision"],
            ),
        )


@field_rule
def unique_flag(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    kind = FIELD_TYPES[f["type"]]
    if (f.get("unique") or f.get("index")) and (not kind.indexable or kind.storage != "column"):
        flag = "unique" if f.get("unique") else "index"
        yield (
            (flag,),
            "not_indexable",
            Phrase(
                _l("fields of type “%(type)s” cannot be unique")
                if flag == "unique"
                else _l("fields of type “%(type)s” cannot be indexed"),
                type=type_name(f["type"]),
            ),
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
                    Phrase(_l("there is no field “%(key)s” to index"), key=key),
                )
            elif f is not None and not (
                FIELD_TYPES[f["type"]].indexable
                and FIELD_TYPES[f["type"]].storage != "junction"
                and FIELD_TYPES[f["type"]].storage != "children"
            ):
                yield (
                    ("indexes", i, "fields", j),
                    "not_indexable",
                    Phrase(
                        _l("fields of type “%(type)s” cannot be indexed"), type=type_name(f["type"])
                    ),
                )
        signatures.append(",".join(index["fields"]))
    for i in _duplicates(signatures):
        yield ("indexes", i), "duplicate_index", Phrase(_l("the same index is defined twice"))


@entity_rule
def form_layout(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    form = entity.get("form")
    if not form:
        return
    tabs = {tab["key"] for tab in form.get("tabs", ())}
    for i in _duplicates([tab["key"] for tab in form.get("tabs", ())]):
        yield (
            ("form", "tabs", i, "key"),
            "duplicate_key",
            Phrase(_l("another tab already has this key")),
        )
    placed: set[str] = set()
    for s, section in enumerate(form.get("sections", ())):
        if "tab" in section and section["tab"] not in tabs:
            yield (
                ("form", "sections", s, "tab"),
                "unknown_tab",
                Phrase(_l("there is no tab “%(key)s”"), key=section["tab"]),
            )
        for p, placement in enumerate(section.get("fields", ())):
            key = placement if isinstance(placement, str) else placement["field"]
            where: Path = ("form", "sections", s, "fields", p)
            where = where if isinstance(placement, str) else (*where, "field")
            if ctx.field(entity["key"], key) is None and key not in SYSTEM_FIELDS:
                yield (
                    where,
                    "unknown_field",
                    Phrase(
                        _l("the form shows “%(key)s”, which is not a field of this entity"), key=key
                    ),
                )
            elif key in placed:
                message = Phrase(_l("“%(key)s” is placed on the form twice"), key=key)
                yield where, "placed_twice", message
            placed.add(key)


@entity_rule
def views(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    views_ = entity.get("views", ())
    for i in _duplicates([v["key"] for v in views_]):
        yield (
            ("views", i, "key"),
            "duplicate_key",
            Phrase(_l("another view of this entity already has this key")),
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
                    Phrase(
                        _l("the view uses “%(key)s”, which is not a field of this entity"), key=key
                    ),
                )
            elif (
                f is not None
                and path[0] == "group_by"
                and f["type"] not in ("select", "user", "link", "department", "boolean")
            ):
                yield (
                    ("views", v, *path),
                    "bad_group",
                    Phrase(
                        _l(
                            "a kanban board groups by a select, user or link field, not by a "
                            "field of type “%(type)s”"
                        ),
                        type=type_name(f["type"]),
                    ),
                )
            elif (
                f is not None
                and path[0] in ("date_field", "end_date_field")
                and f["type"] not in ("date", "datetime")
            ):
                yield (
                    ("views", v, *path),
                    "bad_date",
                    Phrase(
                        _l("a calendar needs a date field; the type of “%(key)s” is “%(type)s”"),
                        key=key,
                        type=type_name(f["type"]),
                    ),
                )
        for i, flt in enumerate(view.get("filters", ())):
            f = ctx.field(entity["key"], flt["field"])
            if f is not None and flt["op"] not in FIELD_TYPES[f["type"]].operators:
                yield (
                    ("views", v, "filters", i, "op"),
                    "bad_operator",
                    Phrase(
                        _l("“%(op)s” cannot filter fields of type “%(type)s”"),
                        op=operator_name(str(flt["op"])),  # as the filter editor names it
                        type=type_name(f["type"]),
                    ),
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
                    Phrase(
                        _l("the related list shows “%(key)s”, which is not an entity"), key=other
                    ),
                )
                continue
            link = ctx.field(other, related["link"])
            if link is None or link["type"] != "link" or link["entity"] != entity["key"]:
                yield (
                    (*where, "link"),
                    "bad_related_link",
                    Phrase(
                        _l("“%(link)s” is not a link field of “%(entity)s” pointing to “%(here)s”"),
                        link=related["link"],
                        entity=other,
                        here=entity["key"],
                    ),
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
                        Phrase(
                            _l(
                                "the related list uses “%(key)s”, "
                                "which is not a field of “%(entity)s”"
                            ),
                            key=key,
                            entity=other,
                        ),
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
                        Phrase(
                            _l("a timeline is ordered by a date: sort it first by a date field")
                        ),
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
                    Phrase(
                        _l("the condition uses “%(ref)s”, but there is no field “%(key)s”"),
                        ref=ref,
                        key=missing,
                    ),
                )


@app_rule
def navigation(ctx: Ctx) -> Iterator[Problem]:
    def walk(items: Any, prefix: Path) -> Iterator[Problem]:
        for i, item in enumerate(items):
            if "entity" in item and item["entity"] not in ctx.entities:
                yield (
                    (*prefix, i, "entity"),
                    "unknown_entity",
                    Phrase(
                        _l("the menu opens “%(key)s”, which is not an entity"), key=item["entity"]
                    ),
                )
            elif "view" in item:
                entity = ctx.entities.get(item.get("entity", ""))
                if entity is None or item["view"] not in {
                    v["key"] for v in entity.get("views", ())
                }:
                    yield (
                        (*prefix, i, "view"),
                        "unknown_view",
                        Phrase(
                            _l("the menu opens the view “%(key)s”, which does not exist"),
                            key=item["view"],
                        ),
                    )
            yield from walk(item.get("items", ()), (*prefix, i, "items"))

    yield from walk(ctx.doc.get("navigation", ()), ("navigation",))


@field_rule
def rollup_source(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f["type"] != "rollup":
        return
    target = rollup_target(ctx, entity, f)
    if target is None:
        message = Phrase(
            _l(
                "the rollup reads “%(source)s”, which is neither a child table of this entity "
                "nor entity.link_field pointing here"
            ),
            source=f["source"],
        )
        yield ("source",), "bad_source", message
        return
    if f["aggregate"] != "count" and "field" not in f:
        message = Phrase(
            _l("a %(aggregate)s rollup needs the field to aggregate"), aggregate=f["aggregate"]
        )
        yield ("field",), "required", message
    elif "field" in f:
        read = ctx.field(target, f["field"])
        if read is None:
            message = Phrase(
                _l("“%(entity)s” has no field “%(key)s”"), entity=target, key=f["field"]
            )
            yield ("field",), "unknown_field", message
        elif f["aggregate"] in ("sum", "avg") and FIELD_TYPES[read["type"]].value_type_of(
            stored_of(ctx, target, read)
        ).value not in ("number", "decimal", "currency", "duration"):
            yield (
                ("field",),
                "not_numeric",
                Phrase(
                    _l("cannot %(aggregate)s “%(key)s”: it is not a number"),
                    aggregate=f["aggregate"],
                    key=f["field"],
                ),
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
            Phrase(
                _l("a lookup reads through a link field of this entity; “%(key)s” is not one"),
                key=f["link"],
            ),
        )
    elif link["entity"] in ctx.entities:
        read = ctx.field(link["entity"], f["field"])
        if read is None:
            message = Phrase(
                _l("“%(entity)s” has no field “%(key)s”"), entity=link["entity"], key=f["field"]
            )
            yield ("field",), "unknown_field", message
        elif FIELD_TYPES[read["type"]].storage != "column":
            message = Phrase(
                _l("a lookup cannot show fields of type “%(type)s”"), type=type_name(read["type"])
            )
            yield ("field",), "bad_lookup", message


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
                    Phrase(
                        _l("the formula uses “%(ref)s”, but there is no field “%(key)s”"),
                        ref=ref,
                        key=missing,
                    ),
                )


@entity_rule
def validation_rules(ctx: Ctx, entity: Doc) -> Iterator[Problem]:
    """Validation rules (``error_if`` formulas): unique keys, known fields."""
    rules = entity.get("validations", ())
    for i in _duplicates([r["key"] for r in rules]):
        yield (
            ("validations", i, "key"),
            "duplicate_key",
            Phrase(_l("the key “%(key)s” is used twice"), key=rules[i]["key"]),
        )
    for i, rule in enumerate(rules):
        if "field" in rule and ctx.field(entity["key"], rule["field"]) is None:
            yield (
                ("validations", i, "field"),
                "unknown_field",
                Phrase(
                    _l("there is no field “%(key)s” to show this message on"), key=rule["field"]
                ),
            )
        for ref in sorted(formula_references(rule["error_if"])):
            _, missing = resolve_path(ctx, entity["key"], ref)
            if missing is not None:
                yield (
                    ("validations", i, "error_if"),
                    "unknown_field",
                    Phrase(
                        _l("the rule uses “%(ref)s”, but there is no field “%(key)s”"),
                        ref=ref,
                        key=missing,
                    ),
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
                        Phrase(
                            _l("the condition uses “%(ref)s”, but there is no field “%(key)s”"),
                            ref=ref,
                            key=missing,
                        ),
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
        message = Phrase(_l("the role “%(key)s” is declared twice"), key=roles[i]["key"])
        yield ("roles", i, "key"), "duplicate_key", message
    entities = {e["key"]: e for e in ctx.doc["entities"]}
    for i, role in enumerate(roles):
        for key, rights in (role.get("entities") or {}).items():
            where: Path = ("roles", i, "entities", key)
            entity = entities.get(key)
            if entity is None:
                yield where, "unknown_entity", Phrase(_l("there is no entity “%(key)s”"), key=key)
                continue
            if entity.get("child"):
                yield (
                    where,
                    "child_entity",
                    Phrase(
                        _l(
                            "“%(key)s” is a child table: "
                            "its rows follow the permissions of their parent"
                        ),
                        key=key,
                    ),
                )
                continue
            fields = {f["key"] for f in entity["fields"]}
            for field_key in rights.get("fields", {}):
                if field_key not in fields:
                    yield (
                        (*where, "fields", field_key),
                        "unknown_field",
                        Phrase(
                            _l("“%(entity)s” has no field “%(key)s”"), entity=key, key=field_key
                        ),
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
                        Phrase(
                            _l("“%(key)s” depends on itself: %(chain)s"), key=dep[1], chain=chain
                        ),
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
        yield ("pattern",), "bad_pattern", Phrase(problem)


@field_rule
def default_value(ctx: Ctx, entity: Doc, f: Doc) -> Iterator[Problem]:
    if f.get("default") is None:
        return
    kind = FIELD_TYPES[f["type"]]
    if kind.computed or kind.storage in ("junction", "children"):
        message = Phrase(
            _l("fields of type “%(type)s” cannot have a default"), type=type_name(f["type"])
        )
        yield ("default",), "no_default", message
        return
    if isinstance(f["default"], dict) and set(f["default"]) == {"formula"}:
        # a formula default ({"formula": "TODAY() + 30"}) is computed when a record is created
        source = f["default"]["formula"]
        if not isinstance(source, str) or not source.strip():
            yield ("default", "formula"), "bad_default", Phrase(_l("the default formula is empty"))
            return
        for ref in sorted(formula_references(source)):
            _, missing = resolve_path(ctx, entity["key"], ref)
            if missing is not None:
                yield (
                    ("default", "formula"),
                    "unknown_field",
                    Phrase(
                        _l("the default formula uses “%(ref)s”, but there is no field “%(key)s”"),
                        ref=ref,
                        key=missing,
                    ),
                )
        return
    if f["type"] in ("date", "datetime") and f["default"] in ("today", "now"):
        return
    try:
        kind.validate(f, f["default"])
    except InvalidValue as error:
        message = Phrase(
            _l("the default is not valid: %(problem)s"),
            problem=Phrase(error.template, **error.params),
        )
        yield ("default",), "bad_default", message


def stored_of(ctx: Ctx, entity: str, f: Doc) -> Doc:
    """The spec a computed field's stored result follows (plain fields: themselves)."""
    from tessera.engines.definitions.model import resolve_stored

    return resolve_stored(lambda e, k: ctx.field(e, k), entity, f, depth=0)
