"""Errors a formula author can see.

Every problem found in a formula -- a syntax error, an unknown field, a type mismatch, a limit
exceeded at run time -- is an :class:`ExpressionError` with the character span it is about and a
sentence meant for a business user.  Parsing and checking collect several errors where that
helps the author (all unknown fields at once), so the raised exception carries a list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExpressionError:
    """One problem: ``start``/``end`` are character offsets into the source (end exclusive)."""

    code: str  # stable machine-readable kind, e.g. "syntax", "unknown_field", "type"
    message: str
    start: int = 0
    end: int = 0

    def describe(self, source: str | None = None) -> str:
        """The message with a caret line under the offending characters, for logs and the CLI."""
        if source is None:
            return f"{self.message} (at character {self.start + 1})"
        width = max(1, self.end - self.start)
        return f"{self.message}\n  {source}\n  {' ' * self.start}{'^' * width}"


class ExpressionErrors(Exception):
    """Raised by parse/check with every error found; ``errors[0]`` is the first in the source."""

    def __init__(self, errors: list[ExpressionError], source: str = "") -> None:
        self.errors = sorted(errors, key=lambda e: (e.start, e.end))
        self.source = source
        super().__init__("; ".join(e.message for e in self.errors))


class EvaluationError(Exception):
    """A limit was hit while evaluating (too many steps, a regular expression timed out)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
