"""The view of an app's data model that the expression language needs.

The expression engine must not depend on how app definitions are stored or validated, and the
definitions engine must be able to type-check formulas.  This module is the contract between
them: the definitions engine turns a compiled app into an :class:`ExprSchema` (one adapter, in
``tessera.engines.definitions``), and the parser, type checker and both back ends read only this.

Everything here is plain frozen data so a schema can be built once per published app version and
shared by threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ValueType(StrEnum):
    """The types a formula value can have; field types of the app map onto these."""

    TEXT = "text"
    NUMBER = "number"  # integers and floats; percent and rating fields are numbers too
    DECIMAL = "decimal"  # exact decimals (decimal fields)
    CURRENCY = "currency"  # exact decimals with money semantics
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    DURATION = "duration"  # stored as whole seconds
    SELECT = "select"  # one option key (text underneath)
    MULTISELECT = "multiselect"  # a list of option keys
    USER = "user"  # a platform user id
    DEPARTMENT = "department"  # a platform department id
    RECORD = "record"  # a record id of some entity (links)
    JSON = "json"
    LIST = "list"  # a collection produced by a to-many path
    NULL = "null"  # the type of the literal BLANK()/null
    ANY = "any"


class Relation(StrEnum):
    """How a field reaches other records, if it does."""

    SCALAR = "scalar"  # a value stored in a column of this entity's table
    LINK = "link"  # many-to-one: ``column`` holds the target's id
    MULTI_LINK = "multi_link"  # many-to-many through a junction table
    CHILDREN = "children"  # child table: target rows carry ``remote_column`` = this id
    REVERSE = "reverse"  # records of ``target`` whose ``remote_column`` points here


@dataclass(frozen=True)
class FieldSpec:
    """One field as formulas see it.

    ``column`` is the column in the entity's table (``None`` for to-many relations).  For LINK
    fields (and USER/DEPARTMENT scalars, which are links to the platform's ``user`` and
    ``department`` entities) ``target`` names the entity reached.  For CHILDREN and REVERSE,
    ``remote_column`` is the column of the target table that holds this record's id.  For
    MULTI_LINK, ``junction`` is ``(table name, column for this side, column for the target)``.
    """

    key: str
    value_type: ValueType
    #: locale -> label, e.g. ``{"zh-CN": "金额"}``; ``""`` is a label for every language
    labels: Mapping[str, str] = field(default_factory=dict)
    column: str | None = None
    relation: Relation = Relation.SCALAR
    target: str | None = None
    remote_column: str | None = None
    junction: tuple[str, str, str] | None = None
    options: tuple[str, ...] = ()  # option keys of select / multi select fields
    scale: int | None = None  # decimal places of decimal / currency fields


def label_in(labels: Mapping[str, str], locale: str) -> str | None:
    """The label a reader of ``locale`` writes: the locale's own (``zh-CN``), else its
    language's (``zh``, then ``zh-TW``), else one for every language (``""``); None when the
    definition gives none in that language.

    Unlike the pages' fallback (English, then the key as words), it never borrows another
    language: a formula names such a field by its key, which every formula accepts.
    """
    if locale in labels:
        return labels[locale]
    language = locale.split("-", 1)[0]
    if language in labels:
        return labels[language]
    for tag, label in labels.items():
        if tag.split("-", 1)[0] == language:
            return label
    return labels.get("")


@dataclass(frozen=True)
class EntitySpec:
    """An entity (a table of records): its key, table name, and fields by key.

    Every entity has an integer primary key column ``id_column`` (``"id"``); system fields
    (``created_at``, ``owner`` …) are ordinary entries of ``fields``.
    """

    key: str
    table: str
    fields: Mapping[str, FieldSpec]
    labels: Mapping[str, str] = field(default_factory=dict)
    id_column: str = "id"


@dataclass(frozen=True)
class ExprSchema:
    """All entities formulas of one app may reach, including ``user`` and ``department``."""

    entities: Mapping[str, EntitySpec]

    def entity(self, key: str) -> EntitySpec:
        return self.entities[key]
