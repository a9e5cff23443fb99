"""Names of the database objects an app owns.

Every app table starts with ``x_`` (platform tables never do), then the app key, then ``__``:
``x_crm__account`` for an entity, ``x_crm__account__tags`` for the junction table of a multi
link, ``x_crm___counters`` for auto-number counters (entity keys start with a letter, so a third
underscore cannot be an entity).  Keys have no ``__`` and are limited to 16 (app) and 20
(entity, field) characters, which keeps every name within PostgreSQL's 63.  Index and
constraint names are explicit and shortened with a hash when they would not fit.  Things moved
aside by a confirmed drop are named ``xt_<tag>_<app>__…`` (tables) and ``_trash_<column>_<tag>``
(columns) until :func:`~tessera.engines.definitions.live_schema.purge` removes them.
"""

from __future__ import annotations

import hashlib

MAX_NAME = 63


def fit(name: str) -> str:
    """``name`` itself when short enough, else a prefix plus a stable hash of the whole."""
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def table_prefix(app: str) -> str:
    return f"x_{app}__"


def entity_table(app: str, entity: str) -> str:
    return f"x_{app}__{entity}"


def junction_table(app: str, entity: str, field: str) -> str:
    return f"x_{app}__{entity}__{field}"


#: prefix of full-text search objects (FTS tables, trigram indexes): never part of a schema plan
SEARCH_PREFIX = "xs_"


def search_name(table: str) -> str:
    """The search table (SQLite FTS5) or index stem (PostgreSQL) of an entity table."""
    return fit(f"{SEARCH_PREFIX}{table[2:]}")


def counter_table(app: str) -> str:
    return f"x_{app}___counters"


def index_name(table: str, columns: list[str] | tuple[str, ...], unique: bool = False) -> str:
    return fit(f"{'uq' if unique else 'ix'}_{table}_{'_'.join(columns)}")


def fk_name(table: str, column: str) -> str:
    return fit(f"fk_{table}_{column}")


def trash_table(table: str, tag: str) -> str:
    return fit(f"xt_{tag}_{table[2:]}")


def trash_column(column: str, tag: str) -> str:
    return fit(f"_trash_{column}_{tag}")


def is_trash_table(name: str, app: str) -> bool:
    return name.startswith("xt_") and f"_{app}__" in name


def owns_table(name: str, app: str) -> bool:
    """Whether ``name`` is a live table of ``app`` (not a trash table, not another app's)."""
    return name.startswith(table_prefix(app))
