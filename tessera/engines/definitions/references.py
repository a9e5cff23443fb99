"""Which fields an expression reads: the reference and cycle rules of the validator use this.

:func:`formula_references` asks the expression language's parser.  Text that does not parse
yet is scanned for identifiers instead (``amount``, ``account.industry`` outside string
literals), so the reference rules can still name unknown fields; the validator's expression
phase reports the syntax error itself.
"""

from __future__ import annotations

import re

from tessera.engines.expressions import ExpressionErrors, parse
from tessera.engines.expressions.ast import Field, walk

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
    try:
        expr = parse(source)
    except ExpressionErrors:
        return _scan(source)
    # ``[Label]`` references need the app's labels; the expression phase resolves and checks them.
    return {
        ".".join(node.path)
        for node in walk(expr.node)
        if isinstance(node, Field) and source[node.start : node.start + 1] != "["
    }


def _scan(source: str) -> set[str]:
    text = _STRING_RE.sub('""', source)
    found: set[str] = set()
    for match in _IDENT_RE.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        found.add(name)
    return found
