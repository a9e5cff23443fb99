"""The syntax tree of a formula, its JSON form and its rendering back to source.

The JSON AST is what is stored beside the source text: back ends and dependency analysis work
from it, so a stored formula never has to be re-parsed with labels that may have changed since.
Field references hold keys only.  ``FORMAT`` is bumped whenever the JSON shape changes, and
:func:`node_from_json` refuses versions it does not know rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

FORMAT = 1

# Binary operators by binding power (higher binds tighter); all are left associative.
BINARY_PRECEDENCE: dict[str, int] = {
    "OR": 1,
    "AND": 2,
    "=": 4,
    "<>": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "&": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
}
NOT_PRECEDENCE = 3  # NOT a = b means NOT (a = b)
IN_PRECEDENCE = 4
NEG_PRECEDENCE = 8


@dataclass(frozen=True)
class Node:
    """Base of all nodes; ``start``/``end`` locate the node in the source it was parsed from."""

    start: int
    end: int


@dataclass(frozen=True)
class Literal(Node):
    """A constant: ``int``/``Decimal`` numbers, ``str``, ``bool`` or ``None`` (blank)."""

    value: int | Decimal | str | bool | None


@dataclass(frozen=True)
class Field(Node):
    """A field reference: keys from the base entity, through links (``account.owner.name``)."""

    path: tuple[str, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "NOT"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True)
class Call(Node):
    name: str  # upper case
    args: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes, in source order."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, In):
        return (node.operand, *node.items)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> list[Node]:
    """All nodes of the tree, parents before children."""
    out = [node]
    for child in children(node):
        out.extend(walk(child))
    return out


# --- JSON ---------------------------------------------------------------------------------


def node_to_json(node: Node) -> dict[str, Any]:
    """A plain-JSON dict; numbers travel as strings so decimals stay exact."""
    pos = [node.start, node.end]
    if isinstance(node, Literal):
        v = node.value
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return {"t": "lit", "v": v, "pos": pos}
        return {"t": "num", "v": str(v), "pos": pos}
    if isinstance(node, Field):
        return {"t": "field", "path": list(node.path), "pos": pos}
    if isinstance(node, Unary):
        return {"t": "unary", "op": node.op, "arg": node_to_json(node.operand), "pos": pos}
    if isinstance(node, Binary):
        return {
            "t": "binary",
            "op": node.op,
            "left": node_to_json(node.left),
            "right": node_to_json(node.right),
            "pos": pos,
        }
    if isinstance(node, In):
        return {
            "t": "in",
            "arg": node_to_json(node.operand),
            "items": [node_to_json(i) for i in node.items],
            "not": node.negated,
            "pos": pos,
        }
    if isinstance(node, Call):
        return {
            "t": "call",
            "fn": node.name,
            "args": [node_to_json(a) for a in node.args],
            "pos": pos,
        }
    raise TypeError(f"not a node: {node!r}")


def node_from_json(data: Any) -> Node:
    """Rebuild a node; raises ``ValueError`` on anything that is not a well-formed AST."""
    if not isinstance(data, dict):
        raise ValueError("an AST node must be an object")
    pos = data.get("pos", [0, 0])
    if not (isinstance(pos, list) and len(pos) == 2 and all(isinstance(p, int) for p in pos)):
        raise ValueError("bad node position")
    start, end = pos
    kind = data.get("t")
    if kind == "lit":
        v = data.get("v")
        if not (v is None or isinstance(v, bool | str)):
            raise ValueError("bad literal")
        return Literal(start, end, v)
    if kind == "num":
        text = data.get("v")
        if not isinstance(text, str):
            raise ValueError("bad number")
        return Literal(start, end, Decimal(text) if "." in text or "E" in text else int(text))
    if kind == "field":
        path = data.get("path")
        if not (isinstance(path, list) and path and all(isinstance(p, str) for p in path)):
            raise ValueError("bad field path")
        return Field(start, end, tuple(path))
    if kind == "unary" and data.get("op") in ("-", "NOT"):
        return Unary(start, end, data["op"], node_from_json(data.get("arg")))
    if kind == "binary" and data.get("op") in BINARY_PRECEDENCE:
        left, right = node_from_json(data.get("left")), node_from_json(data.get("right"))
        return Binary(start, end, data["op"], left, right)
    if kind == "in":
        items = data.get("items")
        if not isinstance(items, list):
            raise ValueError("bad IN list")
        arg = node_from_json(data.get("arg"))
        return In(start, end, arg, tuple(node_from_json(i) for i in items), bool(data.get("not")))
    if kind == "call":
        name, args = data.get("fn"), data.get("args")
        if not (isinstance(name, str) and name.isidentifier() and isinstance(args, list)):
            raise ValueError("bad function call")
        return Call(start, end, name.upper(), tuple(node_from_json(a) for a in args))
    raise ValueError(f"unknown AST node kind {kind!r}")


# --- rendering back to source ---------------------------------------------------------------

PathNamer = Callable[[Sequence[str]], Sequence[str]]
"""Turns a key path into the segments to print (``[Label]`` or the key)."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_source(node: Node, namer: PathNamer | None = None) -> str:
    """Source text for ``node`` with as few parentheses as the precedence rules allow."""
    return _render(node, namer, 0)


def _render(node: Node, namer: PathNamer | None, outer: int) -> str:
    if isinstance(node, Literal):
        v = node.value
        if v is None:
            return "BLANK()"
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, str):
            return _quote(v)
        return str(v)
    if isinstance(node, Field):
        return ".".join(namer(node.path) if namer else node.path)
    if isinstance(node, Call):
        return node.name + "(" + ", ".join(_render(a, namer, 0) for a in node.args) + ")"
    if isinstance(node, Unary):
        if node.op == "-":
            text, prec = "-" + _render(node.operand, namer, NEG_PRECEDENCE), NEG_PRECEDENCE
        else:
            text, prec = "NOT " + _render(node.operand, namer, NOT_PRECEDENCE), NOT_PRECEDENCE
    elif isinstance(node, Binary):
        prec = BINARY_PRECEDENCE[node.op]
        left = _render(node.left, namer, prec)
        right = _render(node.right, namer, prec + 1)
        text = f"{left} {node.op} {right}"
    elif isinstance(node, In):
        prec = IN_PRECEDENCE
        items = ", ".join(_render(i, namer, 0) for i in node.items)
        op = "NOT IN" if node.negated else "IN"
        text = f"{_render(node.operand, namer, prec + 1)} {op} ({items})"
    else:
        raise TypeError(f"not a node: {node!r}")
    return f"({text})" if prec < outer else text
