"""What a records call can refuse with, in a shape every caller can show.

The REST layer maps these to HTTP (``ValidationFailed`` → 400 or 422, ``Conflict`` → 409,
``NotFound`` → 404, ``PermissionDenied`` → 403); pages show ``FieldError.message`` next to the
field its ``path`` names.  Paths use the record's own shape: ``amount``, ``line_items[2].quantity``,
and for bulk calls the row first: ``[5].email``.  Messages never contain database error text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one value; ``path`` is empty for problems with the record as a whole."""

    path: str
    message: str
    code: str = "invalid"

    def under(self, prefix: str) -> FieldError:
        """The same error one level deeper: ``[3]`` + ``email`` → ``[3].email``."""
        if not self.path:
            return FieldError(prefix, self.message, self.code)
        joiner = "" if self.path.startswith("[") else "."
        return FieldError(f"{prefix}{joiner}{self.path}", self.message, self.code)


class RecordsError(Exception):
    """Base class of everything the records service refuses with."""


class ValidationFailed(RecordsError):
    """The values (or a filter, sort or cursor) are not acceptable; ``errors`` lists them all."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__("; ".join(f"{e.path or 'record'}: {e.message}" for e in self.errors))

    @classmethod
    def one(cls, path: str, message: str, code: str = "invalid") -> ValidationFailed:
        return cls([FieldError(path, message, code)])


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
