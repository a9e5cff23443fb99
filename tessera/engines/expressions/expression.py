"""A parsed formula: its source text and its AST, stored together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import ast
from .names import label_namer
from .schema import ExprSchema


@dataclass(frozen=True)
class Expression:
    """``source`` is what the author wrote; ``node`` is what everything else uses."""

    source: str
    node: ast.Node

    def to_json(self) -> dict[str, Any]:
        """The stored form: ``{"format": 1, "source": ..., "ast": ...}``."""
        return {"format": ast.FORMAT, "source": self.source, "ast": ast.node_to_json(self.node)}

    @classmethod
    def from_json(cls, data: Any) -> Expression:
        if not isinstance(data, dict) or data.get("format") != ast.FORMAT:
            raise ValueError(f"not a formula of format {ast.FORMAT}: {data!r:.80}")
        return cls(str(data.get("source", "")), ast.node_from_json(data.get("ast")))

    def to_source(
        self, schema: ExprSchema | None = None, entity: str | None = None, locale: str | None = None
    ) -> str:
        """Canonical source; with a schema, fields show as ``[Label]`` in ``locale`` where they
        have one."""
        if schema is None or entity is None:
            return ast.to_source(self.node)
        return ast.to_source(self.node, label_namer(schema, schema.entity(entity), locale))
