"""Which fields an expression reads, until the expression language's parser takes over.

:func:`formula_references` is the one place that reads expression text here.  It scans for
identifiers (``amount``, ``account.industry``) outside string literals and skips function
names and keywords; when ``tessera.engines.expressions`` offers ``references()``, this function
switches to it and nothing else in the package changes.
"""

from __future__ import annotations

import re

_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_IDENT_RE = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\s*\()?")
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "blank", "in", "is"}

#: system fields every entity has, as formulas name them
SYSTEM_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by", "owner", "version")
#: keys a user field may not take: system fields, their columns, and child-table columns
RESERVED_KEYS = frozenset(
    {*SYSTEM_FIELDS, "owner_id", "deleted_at", "parent", "parent_id", "sort_order"}
)


def formula_references(source: str) -> set[str]:
    """Dotted field paths read by ``source``: ``{"amount", "account.industry"}``."""
    text = _STRING_RE.sub('""', source)
    found: set[str] = set()
    for match in _IDENT_RE.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        found.add(name)
    return found
