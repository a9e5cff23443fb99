"""Who may export and import, in the app's permission model (``docs/permissions.md``).

``export`` and ``import`` are rights of their own in a role's entity grant, next to ``read``,
``create`` and ``update``, and each needs the others it relies on:

* exporting needs ``export`` **and** ``read``; what is exported is what the read scope shows
  (in-scope records only, hidden fields never, filters and sorts on hidden fields refused);
* importing needs ``import`` **and** ``create`` (and ``update`` to update existing records by
  a unique key); only fields the user may write can be mapped, and every row is written
  through the records service under the user's own scope, so a row outside it is refused.

A scope without the permission model (an app whose roles declare no entity permissions, a
system administrator) allows everything, as reading and writing do.
"""

from __future__ import annotations

from typing import Literal

from tessera.engines.definitions import EntityModel
from tessera.engines.forms import Scope


def granted(scope: Scope, right: Literal["import", "export"], entity: EntityModel) -> bool:
    """Whether some role of the user grants ``right`` on ``entity``."""
    may = getattr(scope, "may", None)
    if callable(may):
        return bool(may(right, entity))
    return scope.can("read", entity, None)  # no permission model: as open as reading


def may_export(scope: Scope, entity: EntityModel) -> bool:
    return granted(scope, "export", entity) and scope.can("read", entity, None)


def may_import(scope: Scope, entity: EntityModel, *, updates: bool = False) -> bool:
    """``updates``: the import may change existing records (upsert by a unique field)."""
    if not (granted(scope, "import", entity) and scope.can("create", entity, None)):
        return False
    return not updates or scope.can("update", entity, None)


def writable(scope: Scope, entity: EntityModel) -> set[str] | None:
    """Fields the user may fill (None: every field); hidden and read-only fields are not."""
    return scope.writable_fields(entity)
