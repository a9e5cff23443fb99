"""Errors a formula author can see.

Every problem found in a formula -- a syntax error, an unknown field, a type mismatch, a limit
exceeded at run time -- is an :class:`ExpressionError` with the character span it is about and a
sentence meant for a business user.  Parsing and checking collect several errors where that
helps the author (all unknown fields at once), so the raised exception carries a list.

The sentence is kept twice: ``message`` is the English text (logs, the CLI, tests), and
``template`` with ``params`` is the same sentence not yet in any language
(:mod:`tessera.engines.messages`), which the platform shows in the reader's language.  Params
may be :class:`~tessera.engines.messages.Phrase` parts (“`amount` is a number”), translated too;
a field is a :class:`FieldName`, `amount` in English and ``[金额]`` to a Chinese reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tessera.engines.messages import Phrase, TemplatedMessage, _l, render

from .schema import label_in

CODE = _l("`%(code)s`")


def code(text: str) -> Phrase:
    """A piece of formula text named in a message: `amount` (“amount” in Chinese)."""
    return Phrase(CODE, code=text)


class FieldName(Phrase):
    """A field, or a path through links, named in a message: as a person writes it.

    In the English sentence (``message``: logs, the CLI, tests) it is the quoted key path, the
    phrase :func:`code` makes, and it equals that phrase.  A reader is shown the name they would
    write in their own language, the way the editor shows a formula back
    (:func:`.names.label_namer`): each segment as ``[its label]`` in the reader's locale
    (:func:`.schema.label_in`), its key where it has no label there.  Labels only are shown as
    they are (``[金额]``, ``[Account].[Industry]``); a name with a key in it keeps the quotes of
    :func:`code` (“amount”, “account.[行业]”), so it stands out of the sentence either way.

    ``segments`` pairs each key with only those of its labels that name that field alone in
    its entity (:func:`.names.field_name` picks them): another would not mean the same field if
    the reader wrote it.  It lives in the engine, not the platform, because only the formula's
    schema knows the labels and which of them can be written.
    """

    __slots__ = ("segments",)

    def __init__(self, path: Sequence[str], labels: Sequence[Mapping[str, str]]) -> None:
        super().__init__(CODE, code=".".join(path))
        self.segments: tuple[tuple[str, Mapping[str, str]], ...] = tuple(
            (key, MappingProxyType(dict(named))) for key, named in zip(path, labels, strict=True)
        )

    def for_reader(self, locale: str) -> Phrase | str:
        written = [(key, label_in(named, locale)) for key, named in self.segments]
        if all(label is None for _key, label in written):
            return self
        text = ".".join(key if label is None else f"[{label}]" for key, label in written)
        if all(label is not None for _key, label in written):
            return text
        return code(text)

    def __repr__(self) -> str:
        return f"FieldName({self.params['code']!r}, {[dict(n) for _k, n in self.segments]!r})"


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
