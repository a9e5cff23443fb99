"""The schema plan of a publish as it is kept in ``app_versions.plan``, and read back.

A plan is shown in the reader's language, so a version keeps each step's sentence as a
template with its params (:func:`tessera.engines.messages.to_json`), not as English text.  The
stored value carries its format, as the app definitions do (``tessera.plan/2``), and is
upgraded when read:

- version 1 (rows written before this format existed): a JSON list of English lines, a
  destructive step starting with ``⚠``; such a line is shown as it was written.
- version 2: ``{"format": "tessera.plan/2", "steps": [{"destructive", "text", "message"}]}``
  where ``text`` is the English line (for whoever reads the table directly, and the fallback
  when a message cannot be read) and ``message`` the sentence to translate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tessera.engines import definitions as defs
from tessera.engines.messages import Phrase, from_json, to_json

FORMAT_NAME = "tessera.plan"
CURRENT_VERSION = 2
FORMAT = f"{FORMAT_NAME}/{CURRENT_VERSION}"
_FORMAT_RE = re.compile(r"^tessera\.plan/(\d+)$")
#: how version 1 marked a step that can lose data
WARNING = "⚠ "


@dataclass(frozen=True)
class PlanLine:
    """One step of a plan: what it does (a phrase; the English text of a version published
    before plans kept their phrases) and whether it can lose data.  ``str()`` is the English
    line the CLI prints, ``⚠`` first when the step can lose data."""

    message: Phrase | str
    destructive: bool = False

    def __str__(self) -> str:
        return flagged(str(self.message), self.destructive)


def flagged(text: str, destructive: bool) -> str:
    """A step's line as one text: ``⚠`` first when the step can lose data."""
    return (WARNING if destructive else "") + text


def lines_of(schema_plan: defs.SchemaPlan) -> tuple[PlanLine, ...]:
    """The steps of ``schema_plan`` in words."""
    return tuple(PlanLine(step.phrase, step.destructive) for step in schema_plan.steps)


def stored(lines: Iterable[PlanLine]) -> dict[str, Any]:
    """``lines`` as the current format keeps them."""
    return {
        "format": FORMAT,
        "steps": [
            {
                "destructive": line.destructive,
                "text": str(line.message),
                "message": to_json(line.message),
            }
            for line in lines
        ],
    }


def version_of(value: Any) -> int:
    """The format version of a stored plan (a bare list is version 1)."""
    if isinstance(value, list) or value is None:
        return 1
    match = _FORMAT_RE.match(str(value.get("format", ""))) if isinstance(value, dict) else None
    if match is None:
        raise ValueError(f"not a stored plan: {str(value)[:80]}")
    return int(match.group(1))


def _from_v1(value: Any) -> dict[str, Any]:
    steps = []
    for line in value or ():
        text = str(line)
        destructive = text.startswith(WARNING.strip())
        text = text.removeprefix(WARNING.strip()).lstrip() if destructive else text
        steps.append({"destructive": destructive, "text": text, "message": text})
    return {"format": FORMAT, "steps": steps}


#: each function takes a stored plan of its version to the next
UPGRADES: dict[int, Callable[[Any], dict[str, Any]]] = {1: _from_v1}


def upgrade(value: Any) -> dict[str, Any]:
    """A stored plan of any known version in the current format."""
    version = version_of(value)
    if version > CURRENT_VERSION:
        raise ValueError(f"a plan of format {version} is newer than this release knows")
    while version < CURRENT_VERSION:
        value = UPGRADES[version](value)
        version = version_of(value)
    return dict(value)


def read(value: Any) -> list[PlanLine]:
    """The lines of a stored plan, whatever version wrote it."""
    lines = []
    for step in upgrade(value)["steps"]:
        text = str(step.get("text", ""))
        message = from_json(step.get("message", text))
        if not isinstance(message, Phrase | str):
            message = text
        lines.append(PlanLine(message, bool(step.get("destructive"))))
    return lines
