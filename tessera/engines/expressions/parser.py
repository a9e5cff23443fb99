"""Tokenizer and parser: formula source text to the AST of :mod:`.ast`.

A hand-written Pratt parser over a small token set.  The grammar has no attribute access, no
subscripts, no lambdas and no way to name anything but fields and allowlisted functions, which is
what makes the sandbox-escape payloads of other platforms (``().__class__...``) syntax errors
here.  Limits on length, nesting depth and node count bound the work any formula can cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from tessera.engines.messages import Phrase, _l

from . import ast
from . import functions as _functions  # noqa: F401  (fills REGISTRY)
from .errors import ExpressionError, ExpressionErrors, code
from .names import Segment, resolve, target_of
from .registry import REGISTRY, unknown_function
from .schema import EntitySpec, ExprSchema

MAX_SOURCE_LENGTH = 10_000
MAX_DEPTH = 50
MAX_NODES = 2_000

KEYWORDS = {"AND", "OR", "NOT", "IN", "TRUE", "FALSE", "NULL"}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<bracket>\[[^\[\]]*\])
  | (?P<name>[^\W\d]\w*)
  | (?P<op><>|!=|<=|>=|==|[-+*/&=<>(),.])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, bracket, name, op, end
    text: str
    start: int
    end: int


def _describe(tok: Token) -> Phrase:
    if tok.kind == "end":
        return Phrase(_l("the end of the formula"))
    return code(tok.text)


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; the first character no token starts with is an error."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            ch = source[pos]
            message = (
                Phrase(_l("unexpected character %(char)s (unclosed text?)"), char=code(ch))
                if ch in "\"'"
                else Phrase(_l("unexpected character %(char)s"), char=code(ch))
            )
            raise ExpressionErrors([ExpressionError.of("syntax", message, pos, pos + 1)], source)
        kind = m.lastgroup or ""
        if kind != "ws":
            text = m.group()
            if kind == "name" and text.upper() in KEYWORDS:
                kind, text = "op", text.upper()
            if kind == "op":
                text = {"!=": "<>", "==": "="}.get(text, text)
            tokens.append(Token(kind, text, m.start(), m.end()))
        pos = m.end()
    tokens.append(Token("end", "", len(source), len(source)))
    return tokens


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _private_name(name: str) -> Phrase:
    return Phrase(_l("names may not start with `_` or contain `__`: %(name)s"), name=code(name))


@dataclass(frozen=True)
class _RawField(ast.Field):
    """A field as written: keeps which segments were bracketed until names are resolved."""

    segments: tuple[Segment, ...] = ()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # -- helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self) -> Token:
        return self.tokens[min(self.i + 1, len(self.tokens) - 1)]

    def fail(self, message: Phrase, tok: Token | None = None) -> ExpressionErrors:
        t = tok or self.tok
        return ExpressionErrors(
            [ExpressionError.of("syntax", message, t.start, max(t.end, t.start + 1))], self.source
        )

    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, text: str, what: Phrase) -> Token:
        if self.tok.kind == "op" and self.tok.text == text:
            return self.advance()
        raise self.fail(
            Phrase(_l("expected %(what)s, found %(found)s"), what=what, found=_describe(self.tok))
        )

    def count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                Phrase(_l("the formula is too long (more than %(limit)s parts)"), limit=MAX_NODES)
            )

    # -- grammar --
    def parse(self) -> ast.Node:
        node = self.expr(0)
        if self.tok.kind != "end":
            raise self.fail(
                Phrase(
                    _l("expected an operator or the end of the formula, found %(found)s"),
                    found=_describe(self.tok),
                )
            )
        return node

    def expr(self, min_prec: int) -> ast.Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                Phrase(
                    _l("the formula is nested too deeply (more than %(limit)s levels)"),
                    limit=MAX_DEPTH,
                )
            )
        left = self.prefix()
        while True:
            tok = self.tok
            if tok.kind != "op":
                break
            if tok.text in ast.BINARY_PRECEDENCE:
                prec = ast.BINARY_PRECEDENCE[tok.text]
                if prec < min_prec:
                    break
                self.advance()
                right = self.expr(prec + 1)
                self.count()
                left = ast.Binary(left.start, right.end, tok.text, left, right)
            elif tok.text in ("IN", "NOT") and min_prec <= ast.IN_PRECEDENCE:
                negated = tok.text == "NOT"
                if negated:
                    nxt = self.peek()
                    if not (nxt.kind == "op" and nxt.text == "IN"):
                        break
                    self.advance()
                self.advance()
                self.expect("(", Phrase(_l("`(` and a list of values after IN")))
                items = [self.expr(0)]
                while self.tok.kind == "op" and self.tok.text == ",":
                    self.advance()
                    items.append(self.expr(0))
                close = self.expect(")", Phrase(_l("`,` or `)` in the IN list")))
                self.count()
                left = ast.In(left.start, close.end, left, tuple(items), negated)
            else:
                break
        self.depth -= 1
        return left

    def prefix(self) -> ast.Node:
        tok = self.tok
        nxt = self.peek()
        self.count()
        if tok.kind == "op" and tok.text in ("AND", "OR", "NOT") and nxt.text == "(":
            return self.call(tok)
        if tok.kind == "op" and tok.text == "NOT":
            self.advance()
            operand = self.expr(ast.NOT_PRECEDENCE + 1)
            return ast.Unary(tok.start, operand.end, "NOT", operand)
        if tok.kind == "op" and tok.text in ("-", "+"):
            self.advance()
            operand = self.expr(ast.NEG_PRECEDENCE)
            if tok.text == "+":
                return operand
            return ast.Unary(tok.start, operand.end, "-", operand)
        if tok.kind == "op" and tok.text == "(":
            self.advance()
            if self.tok.kind == "op" and self.tok.text == ")":
                raise self.fail(
                    Phrase(_l("expected an expression inside the parentheses, found `)`"))
                )
            inner = self.expr(0)
            self.expect(")", code(")"))
            return inner
        if tok.kind == "num":
            self.advance()
            text = tok.text
            value: int | Decimal = (
                int(text)
                if text.isdigit()
                else Decimal(text).normalize()
                if "e" in text.lower()
                else Decimal(text)
            )
            return ast.Literal(tok.start, tok.end, value)
        if tok.kind == "str":
            self.advance()
            return ast.Literal(tok.start, tok.end, _unescape(tok.text[1:-1]))
        if tok.kind == "op" and tok.text in ("TRUE", "FALSE", "NULL"):
            self.advance()
            return ast.Literal(
                tok.start, tok.end, None if tok.text == "NULL" else tok.text == "TRUE"
            )
        if tok.kind == "name" and nxt.kind == "op" and nxt.text == "(":
            return self.call(tok)
        if tok.kind in ("name", "bracket"):
            return self.field()
        raise self.fail(
            Phrase(
                _l("expected a value, a field or a function, found %(found)s"),
                found=_describe(tok),
            )
        )

    def call(self, name_tok: Token) -> ast.Node:
        self.check_name(name_tok)
        self.check_function(name_tok)
        self.advance()
        self.advance()  # "("
        args: list[ast.Node] = []
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            args.append(self.expr(0))
            while self.tok.kind == "op" and self.tok.text == ",":
                self.advance()
                args.append(self.expr(0))
        close = self.expect(
            ")",
            Phrase(
                _l("`,` or `)` in the arguments of %(function)s"), function=name_tok.text.upper()
            ),
        )
        return ast.Call(name_tok.start, close.end, name_tok.text.upper(), tuple(args))

    def check_name(self, tok: Token) -> None:
        if tok.text.startswith("_") or "__" in tok.text:
            raise self.fail(_private_name(tok.text), tok)

    def check_function(self, tok: Token) -> None:
        if tok.text.upper() not in REGISTRY:
            message = unknown_function(tok.text)
            raise ExpressionErrors(
                [ExpressionError.of("unknown_function", message, tok.start, tok.end)], self.source
            )

    def segment(self) -> Segment:
        tok = self.advance()
        if tok.kind == "bracket":
            text = tok.text[1:-1].strip()
            if not text:
                raise self.fail(Phrase(_l("expected a field name or label inside `[ ]`")), tok)
            if text.startswith("_") or "__" in text:
                raise self.fail(_private_name(text), tok)
            return Segment(text, True, tok.start, tok.end)
        if tok.kind != "name":
            raise self.fail(
                Phrase(
                    _l("expected a field name after `.`, found %(found)s"), found=_describe(tok)
                ),
                tok,
            )
        self.check_name(tok)
        return Segment(tok.text, False, tok.start, tok.end)

    def field(self) -> ast.Node:
        segments = [self.segment()]
        while self.tok.kind == "op" and self.tok.text == ".":
            self.advance()
            segments.append(self.segment())
        if self.tok.kind == "op" and self.tok.text == "(":
            raise self.fail(Phrase(_l("only function names may be followed by `(`")))
        if self.tok.kind in ("name", "num", "str", "bracket"):
            raise self.fail(
                Phrase(
                    _l("expected an operator after %(name)s, found %(found)s"),
                    name=code(segments[-1].text),
                    found=_describe(self.tok),
                )
            )
        return _RawField(
            segments[0].start,
            segments[-1].end,
            tuple(s.text for s in segments),
            tuple(segments),
        )


def _finish(
    node: ast.Node,
    schema: ExprSchema | None,
    entity: EntitySpec | None,
    errors: list[ExpressionError],
) -> ast.Node:
    """Replace raw fields by key-only fields, resolving labels when a schema is given."""
    if isinstance(node, _RawField):
        if schema is None or entity is None:
            return ast.Field(node.start, node.end, node.path)
        steps, errs = resolve(schema, entity, node.segments)
        errors.extend(errs)
        keys = tuple(s.field.key for s in steps) if not errs else node.path
        return ast.Field(node.start, node.end, keys)
    if isinstance(node, ast.Unary):
        return ast.Unary(
            node.start, node.end, node.op, _finish(node.operand, schema, entity, errors)
        )
    if isinstance(node, ast.Binary):
        left = _finish(node.left, schema, entity, errors)
        return ast.Binary(
            node.start, node.end, node.op, left, _finish(node.right, schema, entity, errors)
        )
    if isinstance(node, ast.In):
        operand = _finish(node.operand, schema, entity, errors)
        items = tuple(_finish(i, schema, entity, errors) for i in node.items)
        return ast.In(node.start, node.end, operand, items, node.negated)
    if (
        isinstance(node, ast.Call)
        and node.name == "COUNTIF"
        and len(node.args) == 2
        and schema
        and entity
    ):
        # The condition of COUNTIF is written in the fields of the related records.
        coll = _finish(node.args[0], schema, entity, errors)
        inner = _scope(schema, entity, coll)
        cond = _finish(node.args[1], schema, inner, errors) if inner else node.args[1]
        return ast.Call(node.start, node.end, node.name, (coll, _finish(cond, None, None, errors)))
    if isinstance(node, ast.Call):
        args = tuple(_finish(a, schema, entity, errors) for a in node.args)
        return ast.Call(node.start, node.end, node.name, args)
    return node


def _scope(schema: ExprSchema, entity: EntitySpec, node: ast.Node) -> EntitySpec | None:
    """The entity of the records a resolved to-many path leads to."""
    if not isinstance(node, ast.Field):
        return None
    steps, errs = resolve(
        schema, entity, [Segment(k, False, node.start, node.end) for k in node.path]
    )
    if errs or not steps:
        return None
    return target_of(schema, steps[-1].field)


def parse_ast(
    source: str, schema: ExprSchema | None = None, entity: EntitySpec | None = None
) -> ast.Node:
    """Parse ``source``; with a schema, labels become keys and unknown fields are errors."""
    if len(source) > MAX_SOURCE_LENGTH:
        too_long = Phrase(
            _l("the formula is longer than %(limit)s characters"), limit=MAX_SOURCE_LENGTH
        )
        raise ExpressionErrors([ExpressionError.of("too_long", too_long)], source)
    if not source.strip():
        empty = Phrase(_l("the formula is empty"))
        raise ExpressionErrors([ExpressionError.of("syntax", empty)], source)
    raw = _Parser(source).parse()
    errors: list[ExpressionError] = []
    node = _finish(raw, schema, entity, errors)
    if errors:
        raise ExpressionErrors(errors, source)
    return node
