"""The type checker: infers a type for every node against the app's schema.

It turns an :class:`Expression` into a tree of :class:`Typed` nodes that the back ends compile
from, and collects every problem it can find in one pass (an unknown field does not hide a type
error elsewhere).  Messages name the field and the types in the words the builder uses: a
field as the reader writes it (:func:`.names.field_name`: `amount` in the English sentence,
``[金额]`` to a Chinese reader, ``[Amount]`` to an English one).

Each message is a :class:`~tessera.engines.messages.Phrase` built from phrases: what an operand
is (:func:`subject`, “`amount` is a number”), the other operand (:func:`obj`), type names
(:func:`.types.phrase`), quoted names (:func:`.errors.code`).  ``str()`` of it is the English
sentence; the platform translates every part, so a Chinese builder reads it all in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tessera.engines.messages import Listing, Phrase, _l

from . import ast
from . import types as T
from .errors import ExpressionError, ExpressionErrors, code
from .expression import Expression
from .names import Segment, Step, field_name, resolve, target_of
from .registry import DIALECTS, REGISTRY, Function, unknown_function
from .schema import EntitySpec, ExprSchema, Relation
from .schema import ValueType as V

ARITHMETIC = {"+", "-", "*", "/"}
COMPARISON = {"=", "<>", "<", "<=", ">", ">="}
#: what cannot be done with an operand, by operator (``hint`` may add how to do it instead)
_CANNOT = {
    "+": _l("%(subject)s; it cannot be added to %(other)s%(hint)s"),
    "-": _l("%(subject)s; it cannot be subtracted from %(other)s%(hint)s"),
    "*": _l("%(subject)s; it cannot be multiplied by %(other)s%(hint)s"),
    "/": _l("%(subject)s; it cannot be divided by %(other)s%(hint)s"),
}
_PARAM_WORDS = {
    "number": _l("a number"),
    "text": _l("a text"),
    "textset": _l("a text or a multiple choice"),
    "cond": _l("a condition (yes/no)"),
    "date": _l("a date"),
    "datetime": _l("a date and time"),
    "scalar": _l("a single value"),
    "list": _l("a list of related values (like `line_items.subtotal`)"),
    "records": _l("related records (like `line_items`)"),
    "any": _l("a value"),
    "digits": _l("digits"),
    "unit": _l("unit"),
}
#: the ordinal of an argument (“the *third* argument of DATEADD”)
_ORDINAL = [
    _l("first"), _l("second"), _l("third"), _l("fourth"),
    _l("fifth"), _l("sixth"), _l("seventh"), _l("eighth"),
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class Typed:
    """A node with its type; fields carry their resolved steps, calls their function."""

    node: ast.Node
    type: T.Type
    args: tuple[Typed, ...] = ()
    steps: tuple[Step, ...] = ()
    fn: Function | None = None
    scope: EntitySpec | None = None  # entity the node is evaluated against


@dataclass(frozen=True)
class CheckedExpression:
    expr: Expression
    schema: ExprSchema
    entity: EntitySpec
    root: Typed
    needs_loader: bool = False
    node_count: int = 0
    types: dict[int, T.Type] = field(default_factory=dict)  # id(ast node) -> type

    @property
    def type(self) -> T.Type:
        return self.root.type


def literal(text: str) -> Phrase:
    """A text written in the formula: "won" (“won” in Chinese)."""
    return Phrase(_l('"%(text)s"'), text=text)


def named(t: Typed, n: ast.Field) -> Phrase:
    """A field operand by name: by its labels once resolved, else by the keys written."""
    return field_name(t.steps) if t.steps else code(".".join(n.path))


def subject(t: Typed) -> Phrase:
    """How a message names an operand: the field, the literal, or its type."""
    n = t.node
    if isinstance(n, ast.Field):
        return Phrase(_l("%(what)s is %(type)s"), what=named(t, n), type=T.phrase(t.type))
    if isinstance(n, ast.Literal) and isinstance(n.value, str):
        return Phrase(_l("%(what)s is %(type)s"), what=literal(n.value), type=T.phrase(t.type))
    return Phrase(_l("this is %(type)s"), type=T.phrase(t.type))


def obj(t: Typed) -> Phrase:
    """How a message names the other operand."""
    n = t.node
    if isinstance(n, ast.Literal) and isinstance(n.value, str):
        return Phrase(_l("the text %(text)s"), text=literal(n.value))
    if isinstance(n, ast.Field):
        return Phrase(_l("%(field)s, which is %(type)s"), field=named(t, n), type=T.phrase(t.type))
    return T.phrase(t.type)


def _ordinal(i: int) -> Phrase:
    return Phrase(_ORDINAL[min(i, len(_ORDINAL) - 1)])


def _param_words(kind: str) -> Phrase | str:
    """What a parameter of ``kind`` needs, in words (``a number``)."""
    words = _PARAM_WORDS.get(kind)
    return Phrase(words) if words is not None else kind


def _needs(name: str, what: Phrase | str, given: Typed) -> Phrase:
    """“SUM needs numbers; `tags.name` is a list of texts”."""
    template = _l("%(name)s needs %(what)s; %(subject)s")
    return Phrase(template, name=name, what=what, subject=subject(given))


def _arguments(fn: Function, required: int, variadic: bool, given: int) -> Phrase:
    """“ROUND takes 1 to 2 arguments (ROUND(number, digits?)); it was given 4”."""
    most = len(fn.params)
    if variadic:
        return Phrase(
            _l("%(name)s takes %(least)s or more arguments (%(signature)s); "
               "it was given %(given)s"),
            name=fn.name, least=required, signature=fn.signature, given=given,
        )  # fmt: skip
    if most > required:
        return Phrase(
            _l("%(name)s takes %(least)s to %(most)s arguments (%(signature)s); "
               "it was given %(given)s"),
            name=fn.name, least=required, most=most, signature=fn.signature, given=given,
        )  # fmt: skip
    template = (
        _l("%(name)s takes %(count)s argument (%(signature)s); it was given %(given)s")
        if most == 1
        else _l("%(name)s takes %(count)s arguments (%(signature)s); it was given %(given)s")
    )
    return Phrase(template, name=fn.name, count=required, signature=fn.signature, given=given)


class _Checker:
    def __init__(self, schema: ExprSchema, need_sql: bool, dialect: str | None) -> None:
        self.schema = schema
        self.errors: list[ExpressionError] = []
        self.need_sql = need_sql
        self.dialects = {dialect} if dialect else set(DIALECTS)
        self.needs_loader = False
        self.count = 0

    def err(self, node: ast.Node, message: Phrase, code: str = "type") -> None:
        self.errors.append(ExpressionError.of(code, message, node.start, node.end))

    def cannot_compare(self, node: ast.Node, left: Typed, right: Typed) -> None:
        self.err(
            node,
            Phrase(
                _l("%(subject)s; it cannot be compared with %(other)s"),
                subject=subject(left),
                other=obj(right),
            ),
        )

    def visit(self, node: ast.Node, scope: EntitySpec, allow_list: bool = False) -> Typed:
        self.count += 1
        out = self._visit(node, scope)
        if out.type.kind is V.LIST and not allow_list:
            message = Phrase(
                _l("%(subject)s; use it inside SUM, AVG, COUNT, MAXOF or MINOF"),
                subject=subject(out),
            )
            self.err(node, message, "list")
            return Typed(node, T.ANY, out.args, out.steps, out.fn, scope)
        return out

    def _visit(self, node: ast.Node, scope: EntitySpec) -> Typed:
        if isinstance(node, ast.Literal):
            v = node.value
            t = (
                T.NULL
                if v is None
                else T.BOOLEAN
                if isinstance(v, bool)
                else T.TEXT
                if isinstance(v, str)
                else T.NUMBER
            )
            return Typed(node, t, scope=scope)
        if isinstance(node, ast.Field):
            return self.field(node, scope)
        if isinstance(node, ast.Unary):
            arg = self.visit(node.operand, scope)
            if node.op == "-":
                if not T.numeric(arg.type):
                    self.err(
                        node,
                        Phrase(
                            _l("%(subject)s; only numbers can be negated"), subject=subject(arg)
                        ),
                    )
                return Typed(
                    node,
                    arg.type if T.numeric(arg.type) and not T.is_null(arg.type) else T.NUMBER,
                    (arg,),
                    scope=scope,
                )
            self.condition(arg, "NOT")
            return Typed(node, T.BOOLEAN, (arg,), scope=scope)
        if isinstance(node, ast.Binary):
            return self.binary(node, scope)
        if isinstance(node, ast.In):
            arg = self.visit(node.operand, scope)
            items = [self.visit(i, scope) for i in node.items]
            for item in items:
                if not T.comparable(arg.type, item.type):
                    self.cannot_compare(item.node, arg, item)
                self.option(arg, item)
            return Typed(node, T.BOOLEAN, (arg, *items), scope=scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        raise TypeError(node)

    def field(self, node: ast.Field, scope: EntitySpec) -> Typed:
        segs = [Segment(k, False, node.start, node.end) for k in node.path]
        steps, errs = resolve(self.schema, scope, segs)
        if errs:
            self.errors.extend(errs)
            return Typed(node, T.ANY, scope=scope)
        many = [s for s in steps if s.to_many]
        if len(many) > 1:
            message = Phrase(_l("a path may go through only one list of related records"))
            self.err(node, message, "path")
            return Typed(node, T.ANY, scope=scope)
        if len(steps) > 1:
            self.needs_loader = True
        last = steps[-1].field
        target = target_of(self.schema, last)
        if last.relation in (Relation.CHILDREN, Relation.REVERSE, Relation.MULTI_LINK):
            self.needs_loader = True
            t = T.Type(V.LIST, T.Type(V.RECORD, entity=last.target), entity=last.target)
            return Typed(node, t, steps=tuple(steps), scope=scope)
        if last.relation is Relation.LINK:
            base = T.Type(V.RECORD, entity=target.key if target else last.target)
        elif last.value_type in (V.SELECT, V.MULTISELECT):
            base = T.Type(last.value_type, options=last.options)
        else:
            base = T.Type(last.value_type)
        if many:
            return Typed(
                node,
                T.Type(V.LIST, base, entity=many[0].field.target),
                steps=tuple(steps),
                scope=scope,
            )
        return Typed(node, base, steps=tuple(steps), scope=scope)

    def condition(self, arg: Typed, where: str) -> None:
        if arg.type.kind not in (V.BOOLEAN, V.NULL, V.ANY):
            message = Phrase(
                _l("%(name)s needs yes/no values; %(subject)s"), name=where, subject=subject(arg)
            )
            self.err(arg.node, message)

    def option(self, left: Typed, right: Typed) -> None:
        """`stage = "wonn"`: a text literal compared with a choice must be one of its options."""
        for a, b in ((left, right), (right, left)):
            lit = b.node
            if (
                a.type.kind in (V.SELECT, V.MULTISELECT)
                and a.type.options
                and isinstance(lit, ast.Literal)
                and isinstance(lit.value, str)
                and lit.value not in a.type.options
            ):
                message = Phrase(
                    _l("%(subject)s with the options %(options)s; %(text)s is not one of them"),
                    subject=subject(a),
                    options=Listing(literal(o) for o in a.type.options),
                    text=literal(lit.value),
                )
                self.err(lit, message, "option")

    def binary(self, node: ast.Binary, scope: EntitySpec) -> Typed:
        left, right = self.visit(node.left, scope), self.visit(node.right, scope)
        lt, rt, op = left.type, right.type, node.op
        args = (left, right)
        if op in ("AND", "OR"):
            self.condition(left, op)
            self.condition(right, op)
            return Typed(node, T.BOOLEAN, args, scope=scope)
        if op == "&":
            for a in args:
                if a.type.kind not in T.SCALARS and not T.is_null(a.type):
                    message = Phrase(
                        _l("%(subject)s; only single values can be joined with &"),
                        subject=subject(a),
                    )
                    self.err(a.node, message)
            return Typed(node, T.TEXT, args, scope=scope)
        if op in COMPARISON:
            if not T.comparable(lt, rt):
                self.cannot_compare(node, left, right)
            elif op not in ("=", "<>") and (
                lt.kind in T.IDS | {V.BOOLEAN} or rt.kind in T.IDS | {V.BOOLEAN}
            ):
                message = Phrase(
                    _l("%(subject)s; it can be compared only with = and <>"), subject=subject(left)
                )
                self.err(node, message)
            self.option(left, right)
            return Typed(node, T.BOOLEAN, args, scope=scope)
        # arithmetic
        if op in ("+", "-") and lt.kind is V.DATE and T.numeric(rt) and rt.kind is not V.DURATION:
            return Typed(node, T.DATE, args, scope=scope)
        if T.numeric(lt) and T.numeric(rt):
            if op in ("*", "/") and V.DURATION in (lt.kind, rt.kind):
                if lt.kind is V.DURATION and rt.kind is V.DURATION:
                    if op == "*":
                        self.err(node, Phrase(_l("two durations cannot be multiplied")))
                    return Typed(node, T.NUMBER, args, scope=scope)
                if rt.kind is V.DURATION and op == "/":
                    message = Phrase(
                        _l("%(subject)s; it cannot be divided by a duration"), subject=subject(left)
                    )
                    self.err(node, message)
                return Typed(node, T.DURATION, args, scope=scope)
            if (
                op in ("+", "-")
                and (lt.kind is V.DURATION) != (rt.kind is V.DURATION)
                and not (T.is_null(lt) or T.is_null(rt))
            ):
                message = Phrase(_CANNOT[op], subject=subject(left), other=obj(right), hint="")
                self.err(node, message)
            return Typed(node, T.arithmetic_result(lt, rt), args, scope=scope)
        bad, other = (left, right) if not T.numeric(lt) else (right, left)
        hint: Phrase | str = ""
        if op == "+" and bad.type.kind in T.TEXTUAL:
            hint = Phrase(_l("; use & to join texts"))
        elif bad.type.kind in T.TEMPORAL:
            hint = Phrase(_l("; use DATEADD or DATEDIFF for dates"))
        self.err(node, Phrase(_CANNOT[op], subject=subject(bad), other=obj(other), hint=hint))
        return Typed(node, T.NUMBER, args, scope=scope)

    def call(self, node: ast.Call, scope: EntitySpec) -> Typed:
        fn = REGISTRY.get(node.name)
        if fn is None:
            self.err(node, unknown_function(node.name), "unknown_function")
            for a in node.args:
                self.visit(a, scope)
            return Typed(node, T.ANY, scope=scope)
        params = list(fn.params)
        required = sum(1 for p in params if not p.endswith(("?", "*")))
        variadic = bool(params) and params[-1].endswith("*")
        n = len(node.args)
        if n < required or (not variadic and n > len(params)):
            self.err(node, _arguments(fn, required, variadic, n), "arguments")
        refused = sorted(d for d in self.dialects if not fn.runs_in_sql(d))
        if self.need_sql and refused:
            message = Phrase(
                _l("%(name)s cannot run in the database on %(dialects)s, "
                   "so it cannot be used in filters or measures"),
                name=fn.name,
                dialects=Listing(refused),
            )  # fmt: skip
            self.err(node, message, "no_sql")
        if fn.kind == "aggregate":
            return self.aggregate(fn, node, scope)
        args: list[Typed] = []
        for i, a in enumerate(node.args):
            kind = params[min(i, len(params) - 1)].rstrip("?*") if params else "any"
            if i in fn.choices:
                args.append(self.choice(fn, i, a, scope))
                continue
            t = self.visit(a, scope)
            args.append(t)
            self.param(fn, i, kind, t)
        if fn.name == "CONTAINS" and len(args) == 2 and args[0].type.kind is V.MULTISELECT:
            self.option(args[0], args[1])
        if fn.name in ("IF", "IFS", "SWITCH", "COALESCE", "MIN", "MAX"):
            vals = {
                "IF": args[1:],
                "IFS": args[1::2],
                "COALESCE": args,
                "MIN": args,
                "MAX": args,
            }.get(fn.name)
            if fn.name == "SWITCH":
                vals = [*args[2::2], *([args[-1]] if len(args) % 2 == 0 else [])]
                for case in args[1::2][: (len(args) - 1) // 2]:
                    if args and not T.comparable(args[0].type, case.type):
                        self.cannot_compare(case.node, args[0], case)
            if vals and T.unify([v.type for v in vals]) is None:
                named = {
                    T.describe(v.type): T.phrase(v.type) for v in vals if not T.is_null(v.type)
                }
                message = Phrase(
                    _l("the results of %(name)s must have one type; they are %(kinds)s"),
                    name=fn.name,
                    kinds=Listing(named[k] for k in sorted(named)),
                )
                self.err(node, message)
        result = fn.result_type([a.type for a in args]) if n >= required else T.ANY
        return Typed(node, result, tuple(args), fn=fn, scope=scope)

    def choice(self, fn: Function, i: int, a: ast.Node, scope: EntitySpec) -> Typed:
        choices = fn.choices[i]
        val = a.value if isinstance(a, ast.Literal) else None
        text = (
            str(val).lower() if isinstance(val, str | int) and not isinstance(val, bool) else None
        )
        if text not in choices:
            shown: Phrase | Listing = (
                Listing(literal(c) for c in choices)
                if not choices[0].isdigit()
                else Phrase(_l("%(low)s to %(high)s"), low=choices[0], high=choices[-1])
            )
            message = Phrase(
                _l("the %(ordinal)s argument of %(name)s must be written as one of %(choices)s"),
                ordinal=_ordinal(i),
                name=fn.name,
                choices=shown,
            )
            self.err(a, message, "choice")
            text = choices[0]
        return Typed(a, T.Type(V.TEXT, options=(text or choices[0],)), scope=scope)

    def param(self, fn: Function, i: int, kind: str, t: Typed) -> None:
        k = t.type.kind
        ok = (
            T.is_null(t.type)
            or kind in ("any",)
            or (kind == "number" and k in T.NUMERIC)
            or (kind == "text" and k in T.TEXTUAL)
            or (kind == "textset" and (k in T.TEXTUAL or k is V.MULTISELECT))
            or (kind == "cond" and k is V.BOOLEAN)
            or (kind == "date" and k in T.TEMPORAL)
            or (kind == "datetime" and k is V.DATETIME)
            or (kind == "scalar" and k in T.SCALARS)
        )
        if not ok:
            message = Phrase(
                _l("%(name)s needs %(kind)s as its %(ordinal)s argument; %(subject)s"),
                name=fn.name,
                kind=_param_words(kind),
                ordinal=_ordinal(i),
                subject=subject(t),
            )
            self.err(t.node, message)

    def aggregate(self, fn: Function, node: ast.Call, scope: EntitySpec) -> Typed:
        if not node.args:
            return Typed(node, T.ANY, scope=scope)
        coll = self.visit(node.args[0], scope, allow_list=True)
        ct = coll.type
        if ct.kind is not V.LIST:
            if not T.is_null(ct):
                self.err(coll.node, _needs(fn.name, _param_words(fn.params[0]), coll))
            return Typed(node, T.ANY, (coll,), fn=fn, scope=scope)
        item = ct.item or T.ANY
        if fn.params[0] == "records" and fn.name == "COUNTIF" and item.kind is not V.RECORD:
            self.err(coll.node, _needs("COUNTIF", _param_words("records"), coll))
        if fn.params[0] == "list":
            if item.kind is V.RECORD:
                path = ".".join(coll.node.path) if isinstance(coll.node, ast.Field) else "items"
                message = Phrase(
                    _l("%(name)s needs values of the related records; "
                       "name a field, like %(example)s"),
                    name=fn.name,
                    example=code(f"{path}.amount"),
                )  # fmt: skip
                self.err(coll.node, message)
            elif fn.name in ("SUM", "AVG") and item.kind not in T.NUMERIC:
                self.err(coll.node, _needs(fn.name, Phrase(_l("numbers")), coll))
            elif fn.name in ("MAXOF", "MINOF") and item.kind not in T.NUMERIC | T.TEMPORAL:
                self.err(coll.node, _needs(fn.name, Phrase(_l("numbers or dates")), coll))
        args = [coll]
        if fn.name == "COUNTIF" and len(node.args) > 1 and ct.entity:
            inner = self.schema.entities[ct.entity]
            cond = self.visit(node.args[1], inner)
            self.condition(cond, "COUNTIF")
            args.append(cond)
        return Typed(node, fn.result_type([ct]), tuple(args), fn=fn, scope=scope)


def check(
    expr: Expression,
    schema: ExprSchema,
    entity: str,
    *,
    need_sql: bool = False,
    dialect: str | None = None,
) -> CheckedExpression:
    """Type-check ``expr`` against ``entity``.

    Raises :class:`ExpressionErrors` with every error found.

    ``need_sql`` is for contexts that run in the database (list filters, report measures): it
    rejects functions that the target ``dialect`` (default: every supported one) cannot run.
    """
    if entity not in schema.entities:
        message = Phrase(_l("there is no entity %(entity)s"), entity=code(entity))
        raise ExpressionErrors([ExpressionError.of("unknown_entity", message)], expr.source)
    if dialect is not None and dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {sorted(DIALECTS)}")
    checker = _Checker(schema, need_sql, dialect)
    spec = schema.entity(entity)
    root = checker.visit(expr.node, spec)
    if checker.errors:
        raise ExpressionErrors(checker.errors, expr.source)
    types: dict[int, T.Type] = {}

    def collect(t: Typed) -> None:
        types[id(t.node)] = t.type
        for a in t.args:
            collect(a)

    collect(root)
    return CheckedExpression(expr, schema, spec, root, checker.needs_loader, checker.count, types)
