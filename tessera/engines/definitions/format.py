"""The format version of app definitions and the chain of upgrades between versions.

A stored definition is never rewritten in place when the format changes; it is upgraded when
read, one registered step at a time (SpiffWorkflow's serializer works the same way), so a
document written by any earlier release still loads.  Frozen fixture files in the tests pin
each version: they must upgrade to the current format and round-trip unchanged.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator

FORMAT_NAME = "tessera.app"
CURRENT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/{CURRENT_VERSION}"

Doc = dict[str, Any]
UpgradeStep = Callable[[Doc], Doc]

_STEPS: dict[int, UpgradeStep] = {}
_FORMAT_RE = re.compile(r"^tessera\.app/(\d+)$")


class FormatError(ValueError):
    """The document is not an app definition of a format version this release knows."""


def upgrade_step(from_version: int) -> Callable[[UpgradeStep], UpgradeStep]:
    """Register the function that turns a version ``from_version`` document into the next one."""

    def register(step: UpgradeStep) -> UpgradeStep:
        if from_version in _STEPS:
            raise RuntimeError(f"two upgrade steps from version {from_version}")
        _STEPS[from_version] = step
        return step

    return register


def version_of(doc: Any) -> int:
    """The format version of ``doc``; definitions older than the ``format`` key are version 0."""
    if not isinstance(doc, dict):
        raise FormatError("an app definition must be a JSON object")
    if "format" not in doc:
        return 0
    match = _FORMAT_RE.match(str(doc["format"]))
    if not match:
        raise FormatError(f"“{doc['format']}” is not an app definition format (expected {FORMAT})")
    return int(match.group(1))


def upgrade(doc: Any) -> Doc:
    """Return a copy of ``doc`` upgraded to :data:`FORMAT`; the input is left untouched."""
    version = version_of(doc)
    if version > CURRENT_VERSION:
        raise FormatError(
            f"this definition uses format version {version}, newer than this release "
            f"understands ({CURRENT_VERSION}); upgrade Tessera first"
        )
    result: Doc = copy.deepcopy(doc)
    while version < CURRENT_VERSION:
        result = _STEPS[version](result)
        version += 1
        result["format"] = f"{FORMAT_NAME}/{version}"
    return result


@upgrade_step(0)
def _from_unversioned(doc: Doc) -> Doc:
    """Drafts from before the format was versioned: no ``format`` key, ``name`` for ``label``."""
    if "label" not in doc and "name" in doc:
        doc["label"] = doc.pop("name")
    return {"format": f"{FORMAT_NAME}/1", **{k: v for k, v in doc.items() if k != "format"}}


@cache
def app_schema() -> dict[str, Any]:
    """The JSON Schema of the current format, checked against draft 2020-12 when first loaded."""
    text = (
        files("tessera.engines.definitions").joinpath("schema/app.schema.json").read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def schema_validator() -> Draft202012Validator:
    return Draft202012Validator(app_schema())
