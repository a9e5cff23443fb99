"""The field types, one class each, registered by type name."""

from __future__ import annotations

from typing import Any

from tessera.engines.definitions.fields.base import FieldType, InvalidValue, Spec
from tessera.engines.definitions.fields.choice import Boolean, MultiSelect, Select
from tessera.engines.definitions.fields.complex import Attachment, Image, Json, Location
from tessera.engines.definitions.fields.computed import AutoNumber, Formula, Lookup, Rollup
from tessera.engines.definitions.fields.numbers import (
    Currency,
    DecimalField,
    Duration,
    Integer,
    Percent,
    Rating,
)
from tessera.engines.definitions.fields.relations import (
    ChildTable,
    Department,
    Link,
    MultiLink,
    User,
)
from tessera.engines.definitions.fields.temporal import Date, DateTime, Time
from tessera.engines.definitions.fields.text import Email, LongText, Phone, RichText, Text, Url
from tessera.engines.messages import Phrase

FIELD_TYPES: dict[str, FieldType] = {
    cls.name: cls()
    for cls in (
        Text,
        LongText,
        RichText,
        Integer,
        DecimalField,
        Currency,
        Percent,
        Boolean,
        Date,
        DateTime,
        Time,
        Duration,
        Select,
        MultiSelect,
        Email,
        Phone,
        Url,
        Rating,
        User,
        Department,
        Link,
        MultiLink,
        ChildTable,
        Attachment,
        Image,
        Location,
        AutoNumber,
        Formula,
        Rollup,
        Lookup,
        Json,
    )
}


def field_type(name: str) -> FieldType:
    """The field type registered as ``name`` (``KeyError`` for unknown names)."""
    return FIELD_TYPES[name]


def type_name(key: Any) -> Phrase | Any:
    """The field type ``key`` as people call it, for a message that names a type (“fields of
    type “%(type)s” cannot be indexed”): a :class:`Phrase` of its ``display_name``, which the
    platform translates (“Multiple links”, “多项关联”); a key that names no type (in a document
    the schema has yet to refuse) as it is written."""
    kind = FIELD_TYPES.get(key) if isinstance(key, str) else None
    return key if kind is None else Phrase(kind.display_name)


__all__ = ["FIELD_TYPES", "FieldType", "InvalidValue", "Spec", "field_type", "type_name"]
