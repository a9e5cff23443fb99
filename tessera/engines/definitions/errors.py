"""Errors in app definitions: where (a JSON path) and what (a sentence a business user reads)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tessera.engines.messages import Phrase

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

    The validator's errors keep their words as ``template`` and ``params`` (see
    :mod:`tessera.engines.messages`; :func:`phrased` makes one from a ``Phrase``), so the
    builder shows them in the builder's language; an error without a template (a document in
    an unknown format) is shown as ``message`` says.
    """

    path: tuple[PathElement, ...]
    message: str
    code: str
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def json_path(self) -> str:
        return json_path(self.path)

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


def phrased(path: Sequence[PathElement], code: str, message: Phrase) -> DefinitionError:
    """The error at ``path`` told by ``message``: its English text, template and params."""
    return DefinitionError(tuple(path), str(message), code, message.template, message.params)


class InvalidDefinition(ValueError):
    """Raised by :func:`compile_app` when a definition has errors; all of them are attached."""

    def __init__(self, errors: Sequence[DefinitionError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  {error}" for error in self.errors[:20])
        super().__init__(f"the app definition has {len(self.errors)} error(s):\n{lines}")
