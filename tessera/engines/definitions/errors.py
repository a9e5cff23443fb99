"""Errors in app definitions: where (a JSON path) and what (a sentence a business user reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PathElement = str | int


def json_path(path: Sequence[PathElement]) -> str:
    """Render ``("entities", 2, "fields", 0)`` as ``$.entities[2].fields[0]``."""
    out = "$"
    for element in path:
        out += f"[{element}]" if isinstance(element, int) else f".{element}"
    return out


@dataclass(frozen=True)
class DefinitionError:
    """One problem in a definition.

    ``path`` is the list form (keys and indexes from the document root), ``message`` is meant
    for the person editing the app, ``code`` is a stable identifier for tests and UIs.
    """

    path: tuple[PathElement, ...]
    message: str
    code: str

    @property
    def json_path(self) -> str:
        return json_path(self.path)

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


class InvalidDefinition(ValueError):
    """Raised by :func:`compile_app` when a definition has errors; all of them are attached."""

    def __init__(self, errors: Sequence[DefinitionError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  {error}" for error in self.errors[:20])
        super().__init__(f"the app definition has {len(self.errors)} error(s):\n{lines}")
