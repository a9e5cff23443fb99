"""Compiled apps: validated, upgraded, immutable objects with lookups by key.

:func:`compile_app` is the only way in: it upgrades the document, validates it (raising
:class:`InvalidDefinition` with every error) and builds frozen models.  Each field's ``spec`` is
its mapping from the definition plus, for rollup and lookup fields, the resolved ``_stored``
spec that says which column type holds the result.  :meth:`AppModel.to_doc` returns the
definition exactly as given (after upgrade), which is what gets stored and diffed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

from tessera.engines.definitions import naming
from tessera.engines.definitions.errors import InvalidDefinition
from tessera.engines.definitions.fields import FIELD_TYPES, FieldType
from tessera.engines.definitions.fields.base import humanise, pick_label
from tessera.engines.definitions.fields.computed import Stored
from tessera.engines.definitions.format import upgrade
from tessera.engines.definitions.validate import validate
from tessera.engines.messages import Localised

_NOT_STORAGE = {"key", "label", "help", "required", "unique", "index", "read_only", "default"}


def labels_of(label: Any) -> Mapping[str, str]:
    """A label as ``{locale: text}``; a plain string is stored under ``""`` (any locale), no
    label at all is ``{}`` (the labels the definition gives, nothing made up)."""
    if isinstance(label, str):
        return MappingProxyType({"": label})
    return MappingProxyType(dict(label or {}))


def _label(labels: Mapping[str, str], locale: str, key: str) -> str:
    """The label in ``locale``; without one, the key read as words (:func:`humanise`)."""
    if "" in labels:
        return labels[""]
    if not labels:  # the words are made only when there is no label to show
        return humanise(key)
    return pick_label(dict(labels), locale, key)


@dataclass(frozen=True)
class FieldModel:
    entity: str
    key: str
    type: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]

    @property
    def kind(self) -> FieldType:
        return FIELD_TYPES[self.type]

    @property
    def required(self) -> bool:
        return bool(self.spec.get("required"))

    @property
    def columns(self) -> tuple[str, ...]:
        return self.kind.column_names(self.spec)

    @property
    def target(self) -> str | None:
        """The entity a link, multi link or child table reaches."""
        return (
            self.spec.get("entity") if self.type in ("link", "multi_link", "child_table") else None
        )

    def label(self, locale: str = "en") -> str:
        return _label(self.labels, locale, self.key)

    def named(self) -> Localised:
        """The label as a message parameter, read in the reader's language when shown."""
        return Localised(self.label(), self.label, self.labels)


@dataclass(frozen=True)
class IndexModel:
    fields: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class EntityModel:
    app: str
    key: str
    labels: Mapping[str, str]
    fields: tuple[FieldModel, ...]
    title: str | None
    child: bool
    parent: str | None  # for child entities: the parent entity's key
    indexes: tuple[IndexModel, ...]

    @property
    def table(self) -> str:
        return naming.entity_table(self.app, self.key)

    @cached_property
    def _by_key(self) -> Mapping[str, FieldModel]:
        return {f.key: f for f in self.fields}

    def field(self, key: str) -> FieldModel:
        return self._by_key[key]

    def has_field(self, key: str) -> bool:
        return key in self._by_key

    def label(self, locale: str = "en") -> str:
        return _label(self.labels, locale, self.key)

    def named(self) -> Localised:
        """The label as a message parameter, read in the reader's language when shown."""
        return Localised(self.label(), self.label, self.labels)


@dataclass(frozen=True)
class AppModel:
    key: str
    labels: Mapping[str, str]
    entities: tuple[EntityModel, ...]
    source: str  # the upgraded definition as canonical JSON text

    @cached_property
    def _by_key(self) -> Mapping[str, EntityModel]:
        return {e.key: e for e in self.entities}

    def entity(self, key: str) -> EntityModel:
        return self._by_key[key]

    def has_entity(self, key: str) -> bool:
        return key in self._by_key

    def label(self, locale: str = "en") -> str:
        return _label(self.labels, locale, self.key)

    def named(self) -> Localised:
        """The label as a message parameter, read in the reader's language when shown."""
        return Localised(self.label(), self.label, self.labels)

    def to_doc(self) -> dict[str, Any]:
        """The definition (a fresh copy each call)."""
        result: dict[str, Any] = json.loads(self.source)
        return result


def compile_app(doc: Mapping[str, Any]) -> AppModel:
    """Upgrade, validate and freeze ``doc``; raises :class:`InvalidDefinition` with all errors."""
    upgraded = upgrade(doc)
    errors = validate(upgraded)
    if errors:
        raise InvalidDefinition(errors)
    return build_model(upgraded)


def build_model(upgraded: Mapping[str, Any]) -> AppModel:
    """Freeze a structurally valid, upgraded document without validating it again.

    The validator's last phase type-checks expressions against the model of the very document
    it is validating, so it needs the model before the document is declared valid.
    """
    by_key = {(e["key"], f["key"]): f for e in upgraded["entities"] for f in e["fields"]}

    def find(entity: str, key: str) -> Mapping[str, Any] | None:
        return by_key.get((entity, key))

    parents = {
        f["entity"]: e["key"]
        for e in upgraded["entities"]
        for f in e["fields"]
        if f["type"] == "child_table"
    }
    entities = []
    for e in upgraded["entities"]:
        fields = tuple(
            FieldModel(
                entity=e["key"],
                key=f["key"],
                type=f["type"],
                labels=labels_of(f.get("label")),
                spec=_freeze(resolve_stored(find, e["key"], f, depth=0)),
            )
            for f in e["fields"]
        )
        entities.append(
            EntityModel(
                app=upgraded["key"],
                key=e["key"],
                labels=labels_of(e.get("label")),
                fields=fields,
                title=e.get("title"),
                child=bool(e.get("child")),
                parent=parents.get(e["key"]),
                indexes=tuple(
                    IndexModel(tuple(i["fields"]), bool(i.get("unique")))
                    for i in e.get("indexes", ())
                ),
            )
        )
    source = json.dumps(upgraded, ensure_ascii=False, sort_keys=False)
    return AppModel(upgraded["key"], labels_of(upgraded["label"]), tuple(entities), source)


def resolve_stored(
    find: Callable[[str, str], Mapping[str, Any] | None],
    entity: str,
    f: Mapping[str, Any],
    depth: int,
) -> dict[str, Any]:
    """``f`` plus, for lookups and rollups, ``_stored``: the spec of the result's column."""
    result = copy.deepcopy(dict(f))
    if depth > 16 or f["type"] not in ("lookup", "rollup"):
        return result
    if f["type"] == "lookup":
        link = find(entity, f["link"])
        target_entity = link.get("entity") if link else None
    elif "." in f["source"]:
        target_entity = f["source"].split(".")[0]
    else:
        child = find(entity, f["source"])
        target_entity = child.get("entity") if child else None
    read = find(target_entity, f["field"]) if target_entity and "field" in f else None
    if f["type"] == "rollup" and (f["aggregate"] == "count" or read is None):
        result["_stored"] = {"type": "integer"} if f["aggregate"] == "count" else None
        return result
    if read is None or target_entity is None:
        return result
    inner = resolve_stored(find, target_entity, read, depth + 1)
    kind = FIELD_TYPES[inner["type"]]
    stored = kind.stored_spec(inner) if isinstance(kind, Stored) else dict(inner)
    stored = {k: v for k, v in stored.items() if k not in _NOT_STORAGE}
    if f["type"] == "rollup" and f["aggregate"] in ("sum", "avg"):
        default_scale = {
            "integer": 0,
            "duration": 0,
            "rating": 0,
            "decimal": 2,
            "currency": 2,
            "percent": 2,
        }
        scale = stored.get("scale", default_scale.get(stored["type"], 6))
        stored = {
            "type": "decimal",
            "precision": 24,
            "scale": max(int(scale), 2 if f["aggregate"] == "avg" else 0),
        }
    result["_stored"] = stored
    return result


def _freeze(spec: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(spec)
