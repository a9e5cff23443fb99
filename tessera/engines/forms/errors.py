"""What a records call can refuse with, in a shape every caller can show.

The REST layer maps these to HTTP (``ValidationFailed`` → 400 or 422, ``Conflict`` → 409,
``NotFound`` → 404, ``PermissionDenied`` → 403); pages show ``FieldError.message`` next to the
field its ``path`` names.  Paths use the record's own shape: ``amount``, ``line_items[2].quantity``,
and for bulk calls the row first: ``[5].email``.  Messages never contain database error text.

Every message is also kept as a ``template`` (the English gettext msgid) and its ``params``, so
callers that speak other languages translate the template and fill in the values
(:mod:`tessera.engines.messages`); ``message`` is the English sentence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tessera.engines.messages import TemplatedMessage, render


@dataclass(frozen=True)
class FieldError(TemplatedMessage):
    """One problem with one value; ``path`` is empty for problems with the record as a whole.

    ``template`` defaults to ``message`` (a sentence without values is its own msgid); ``params``
    is a private copy, to be read only, and left out of the hash (``message`` already carries
    the values, which need not be hashable)."""

    path: str
    message: str
    code: str = "invalid"
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, path: str, template: str, code: str = "invalid", /, **params: Any) -> FieldError:
        """An error from a template and its values: ``FieldError.of("qty", _l("“%(value)s” is
        not a number"), "invalid", value="x")``."""
        return cls(path, render(template, params), code, template, params)

    def at(self, path: str) -> FieldError:
        """The same error at another path (template and params kept)."""
        return dataclasses.replace(self, path=path)

    def under(self, prefix: str) -> FieldError:
        """The same error one level deeper: ``[3]`` + ``email`` → ``[3].email``."""
        if not self.path:
            return self.at(prefix)
        joiner = "" if self.path.startswith("[") else "."
        return self.at(f"{prefix}{joiner}{self.path}")


class RecordsError(Exception):
    """Base class of everything the records service refuses with.

    ``str(error)`` is the English sentence: ``template`` filled with ``params``."""

    def __init__(self, template: str = "", /, **params: Any) -> None:
        self.template = template
        self.params: dict[str, Any] = params
        super().__init__(render(template, params))


class ValidationFailed(RecordsError):
    """The values (or a filter, sort or cursor) are not acceptable; ``errors`` lists them all."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__("; ".join(f"{e.path or 'record'}: {e.message}" for e in self.errors))

    @classmethod
    def one(
        cls, path: str, template: str, code: str = "invalid", /, **params: Any
    ) -> ValidationFailed:
        """One error: ``template`` filled with ``params`` (see :meth:`FieldError.of`)."""
        return cls([FieldError.of(path, template, code, **params)])


class Conflict(RecordsError):
    """The write was based on an older version; ``changed_fields`` changed since then."""

    def __init__(self, changed_fields: Sequence[str], current_version: int) -> None:
        self.changed_fields = list(changed_fields)
        self.current_version = current_version
        fields = ", ".join(self.changed_fields) or "the record"
        super().__init__(
            f"someone else saved this record (now version {current_version}) after you opened "
            f"it; changed since: {fields}"
        )


class NotFound(RecordsError):
    """No such record, or one the actor may not see (the two are deliberately the same)."""


class PermissionDenied(RecordsError):
    """The actor may see the record but not do this to it."""
