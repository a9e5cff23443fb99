"""Errors a formula author can see.

Every problem found in a formula -- a syntax error, an unknown field, a type mismatch, a limit
exceeded at run time -- is an :class:`ExpressionError` with the character span it is about and a
sentence meant for a business user.  Parsing and checking collect several errors where that
helps the author (all unknown fields at once), so the raised exception carries a list.

The sentence is kept twice: ``message`` is the English text (logs, the CLI, tests), and
``template`` with ``params`` is the same sentence not yet in any language
(:mod:`tessera.engines.messages`), which the platform shows in the reader's language.  Params
may be :class:`~tessera.engines.messages.Phrase` parts (“`amount` is a number”), translated too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tessera.engines.messages import Phrase, TemplatedMessage, _l, render


def code(text: str) -> Phrase:
    """A piece of formula text named in a message: `amount` (“amount” in Chinese)."""
    return Phrase(_l("`%(code)s`"), code=text)


@dataclass(frozen=True)
class ExpressionError(TemplatedMessage):
    """One problem: ``start``/``end`` are character offsets into the source (end exclusive).

    ``template`` defaults to ``message`` (a sentence without values is its own msgid); build
    one from a phrase with :meth:`of`."""

    code: str  # stable machine-readable kind, e.g. "syntax", "unknown_field", "type"
    message: str
    start: int = 0
    end: int = 0
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, code: str, phrase: Phrase, start: int = 0, end: int = 0) -> ExpressionError:
        """The error that says ``phrase`` about ``source[start:end]``."""
        return cls(code, str(phrase), start, end, phrase.template, phrase.params)

    @property
    def phrase(self) -> Phrase:
        """The message as a phrase, to be part of a longer sentence (a definition error)."""
        return Phrase(self.template, **self.params)

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
    """A limit was hit while evaluating (too many steps, a regular expression timed out).

    Told like every refusal: ``str(error)`` (and ``message``) is the English sentence,
    ``template`` and ``params`` let the platform say it in the reader's language::

        raise EvaluationError("too_many_steps", _l("…more than %(limit)s steps"), limit=100_000)
    """

    def __init__(self, code: str, template: str, /, **params: Any) -> None:
        self.code = code
        self.template = template
        self.params: dict[str, Any] = params
        self.message = render(template, params)
        super().__init__(self.message)
