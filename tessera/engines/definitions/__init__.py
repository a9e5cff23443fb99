"""App definitions: the JSON format, its validator, field types and the live schema.

An app is one JSON document (format ``tessera.app/1``).  This package turns it into checked,
immutable objects (:func:`compile_app`), SQLAlchemy tables (:func:`build_metadata`), a schema
change plan against a live database (:func:`plan`, :func:`apply`) and a diff in words
(:func:`diff`).  It does no HTTP, queue or platform I/O: callers pass a ``Connection``.
"""

from __future__ import annotations

from tessera.engines.definitions.autonumber import format_number, next_number, period_key
from tessera.engines.definitions.diff import (
    Change,
    diff,
    key_change_phrases,
    key_changes,
    key_changes_said,
)
from tessera.engines.definitions.errors import DefinitionError, InvalidDefinition
from tessera.engines.definitions.fields.base import humanise
from tessera.engines.definitions.format import FORMAT, FormatError, upgrade
from tessera.engines.definitions.live_schema import (
    DestructiveChangeRefused,
    PlanError,
    SchemaPlan,
    Step,
    apply,
    plan,
    purge,
    schema_transaction,
)
from tessera.engines.definitions.model import AppModel, EntityModel, FieldModel, compile_app
from tessera.engines.definitions.tables import PlatformTables, build_metadata
from tessera.engines.definitions.validate import validate

__all__ = [
    "FORMAT",
    "AppModel",
    "Change",
    "DefinitionError",
    "DestructiveChangeRefused",
    "EntityModel",
    "FieldModel",
    "FormatError",
    "InvalidDefinition",
    "PlanError",
    "PlatformTables",
    "SchemaPlan",
    "Step",
    "apply",
    "build_metadata",
    "compile_app",
    "diff",
    "format_number",
    "humanise",
    "key_change_phrases",
    "key_changes",
    "key_changes_said",
    "next_number",
    "period_key",
    "plan",
    "purge",
    "schema_transaction",
    "upgrade",
    "validate",
]
