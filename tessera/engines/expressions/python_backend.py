"""The Python back end: a checked formula compiled once into nested closures.

Each node becomes a closure ``(record, env) -> value``; the closures are built once, so
evaluating a formula for another record costs only the calls, with no tree walk and no dispatch
on node kinds.  The compiler keeps those calls few and cheap:

* sub-formulas made only of literals and pure operators or functions are folded into constants;
* a field of the record is read with one ``dict.get`` (no conversion when none is needed), and a
  comparison of such a field with a constant is one closure;
* ``a AND b AND c`` (operators or the functions, nested or not) is one short-circuit closure;
* the per-evaluation environment (:class:`.registry.PyEnv`) is built only for formulas that
  follow links or read related records, the only ones that can loop; the others share one per
  context, since nothing in them can change it.

Steps are counted where work can grow with the data: one per link followed, one per related
record read and, for ``COUNTIF``, the parts of its condition for each record.  The parts of the
formula itself count once per evaluation (at most ``MAX_NODES``, fewer than ``MAX_STEPS``, for a
parsed formula).  Null rules are implemented here for operators and in :mod:`.functions` for
functions; ``docs/formulas.md`` states them and the property tests compare with SQL.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from . import ast
from . import types as T
from .checker import CheckedExpression, Typed
from .context import EvalContext, NoLoader, RecordLoader
from .errors import EvaluationError
from .names import Step, target_of
from .parser import MAX_NODES
from .registry import (
    MAX_STEPS,
    PyEnv,
    as_utc,
    check_text,
    local_date,
    py_text,
    to_dec,
    too_many_steps,
)
from .schema import FieldSpec, Relation
from .schema import ValueType as V

Ev = Callable[[Mapping[str, Any], PyEnv], Any]
Evaluator = Callable[..., Any]

assert MAX_NODES <= MAX_STEPS, "loop-free formulas rely on this to skip step counting"

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
# Categories whose functions depend only on their arguments: calls with constant arguments are
# folded at compile time.  (Date functions read the context's time zone; aggregates and context
# functions read the world.)
_PURE_CATEGORIES = frozenset({"logical", "math", "text"})


class _NotConstant:
    """Marker: the sub-formula depends on the record or the context."""


_NO = _NotConstant()


def _normalise(t: T.Type) -> Callable[[Any], Any] | None:
    """Reads a stored value as formulas see it (SQLite hands back naive datetimes, 0/1 ...);
    ``None`` when the stored value is already right."""
    if t.kind is V.DATETIME:
        return lambda v: as_utc(v) if isinstance(v, datetime) else v
    if t.kind is V.BOOLEAN:
        return lambda v: None if v is None else bool(v)
    if t.kind in T.EXACT:
        return lambda v: None if v is None else to_dec(v)
    return None


def _is_blank(v: Any) -> bool:
    return v is None or v == "" or v == []


def _constant(value: Any) -> Ev:
    return lambda rec, env: value


def _nodes(t: Typed) -> int:
    return 1 + sum(_nodes(a) for a in t.args)


class _Compiler:
    def __init__(self, checked: CheckedExpression) -> None:
        self.checked = checked
        self.schema = checked.schema
        self._consts: dict[int, Any] = {}
        # Folding runs pure closures once; they never read the context, but take an env.
        self._fold_env = PyEnv(EvalContext(now=datetime(2000, 1, 1, tzinfo=UTC)), NoLoader())

    # -- constants ---------------------------------------------------------------------------
    def constant(self, t: Typed) -> Any:
        """The value of ``t`` if it does not depend on the record or the context, else ``_NO``."""
        key = id(t)
        if key not in self._consts:
            self._consts[key] = self._fold(t)
        return self._consts[key]

    def _fold(self, t: Typed) -> Any:
        n = t.node
        if isinstance(n, ast.Literal):
            return float(n.value) if isinstance(n.value, Decimal) else n.value
        if isinstance(n, ast.Field):
            return _NO
        if isinstance(n, ast.Call):
            fn = t.fn
            if (
                fn is None
                or fn.kind not in ("plain", "lazy")
                or fn.category not in _PURE_CATEGORIES
            ):
                return _NO
            choices = fn.choices
            if any(self.constant(a) is _NO for i, a in enumerate(t.args) if i not in choices):
                return _NO
        elif not t.args or any(self.constant(a) is _NO for a in t.args):
            return _NO
        try:
            return self.build(t)({}, self._fold_env)
        except EvaluationError:
            return _NO  # e.g. a text too long: fails at run time, as it would unfolded

    # -- dispatch ----------------------------------------------------------------------------
    def compile(self, t: Typed) -> Ev:
        value = self.constant(t)
        if value is not _NO:
            return _constant(value)
        return self.build(t)

    def build(self, t: Typed) -> Ev:
        n = t.node
        if isinstance(n, ast.Literal):
            return _constant(self.constant(t))
        if isinstance(n, ast.Field):
            return self.field(t)
        if isinstance(n, ast.Unary):
            if n.op == "NOT":
                return self.not_(t.args[0])
            arg = self.compile(t.args[0])
            return lambda rec, env: None if (v := arg(rec, env)) is None else -v
        if isinstance(n, ast.Binary):
            return self.binary(t, n.op)
        if isinstance(n, ast.In):
            return self.in_(t)
        if isinstance(n, ast.Call):
            return self.call(t)
        raise TypeError(n)

    # -- conditions --------------------------------------------------------------------------
    def is_bool(self, t: Typed) -> bool:
        """Whether ``t`` always gives ``True``/``False`` (never blank, never another value)."""
        n = t.node
        if isinstance(n, ast.Binary):
            return n.op in ("AND", "OR", "=", "<>", "<", "<=", ">", ">=")
        if isinstance(n, ast.In) or (isinstance(n, ast.Unary) and n.op == "NOT"):
            return True
        if isinstance(n, ast.Literal):
            return isinstance(n.value, bool)
        return (
            t.fn is not None
            and t.fn.never_blank
            and t.type.kind is V.BOOLEAN
            and t.fn.name not in ("IF", "IFS", "SWITCH", "COALESCE")
        )

    def condition(self, t: Typed) -> Ev:
        """``t`` as a condition: ``True`` or ``False``, blank counting as false."""
        value = self.constant(t)
        if value is not _NO:
            return _constant(bool(value))
        if self.is_bool(t):
            return self.compile(t)
        key = self.plain_key(t)
        if key is not None and t.type.kind in (V.BOOLEAN, V.NULL, V.ANY):
            # 0/1/True/False/None as stored: truthiness is the normalised value's
            return lambda rec, env: bool(rec.get(key))
        f = self.compile(t)
        return lambda rec, env: bool(f(rec, env))

    def not_(self, t: Typed) -> Ev:
        f = self.condition(t)
        return lambda rec, env: not f(rec, env)

    def _flatten(self, t: Typed, name: str) -> list[Typed]:
        n = t.node
        nested = (isinstance(n, ast.Binary) and n.op == name) or (
            isinstance(n, ast.Call) and n.name == name and t.fn is not None and t.fn.kind == "lazy"
        )
        if not nested:
            return [t]
        return [p for a in t.args for p in self._flatten(a, name)]

    def chain(self, t: Typed, name: str) -> Ev:
        """``a AND b AND ...`` / ``a OR b OR ...`` as one short-circuit closure."""
        stop = name == "OR"  # the value that decides the result
        parts: list[Ev] = []
        for p in self._flatten(t, name):
            value = self.constant(p)
            if value is _NO:
                parts.append(self.condition(p))
            elif bool(value) == stop:
                return _constant(stop)
            # else: a constant that cannot decide the result is dropped
        if not parts:
            return _constant(not stop)
        if len(parts) == 1:
            return parts[0]
        if name == "AND":
            if len(parts) == 2:
                a, b = parts
                return lambda rec, env: a(rec, env) and b(rec, env)
            if len(parts) == 3:
                a, b, c = parts
                return lambda rec, env: a(rec, env) and b(rec, env) and c(rec, env)

            return lambda rec, env: all(p(rec, env) for p in parts)
        if len(parts) == 2:
            a, b = parts
            return lambda rec, env: a(rec, env) or b(rec, env)
        if len(parts) == 3:
            a, b, c = parts
            return lambda rec, env: a(rec, env) or b(rec, env) or c(rec, env)

        return lambda rec, env: any(p(rec, env) for p in parts)

    # -- fields ------------------------------------------------------------------------------
    def plain_key(self, t: Typed) -> str | None:
        """The key of a field of the record itself that needs no conversion, else ``None``."""
        if not isinstance(t.node, ast.Field) or len(t.steps) != 1 or t.steps[0].to_many:
            return None
        if t.steps[0].field.value_type is V.BOOLEAN:
            return t.steps[0].field.key if t.type.kind is V.BOOLEAN else None
        return t.steps[0].field.key if _normalise(t.type) is None else None

    def field(self, t: Typed) -> Ev:
        steps = t.steps
        norm = _normalise(t.type.item if t.type.kind is V.LIST and t.type.item else t.type)
        if len(steps) == 1 and not steps[0].to_many:
            key = steps[0].field.key
            if norm is None:
                return lambda rec, env: rec.get(key)
            return lambda rec, env: norm(rec.get(key))
        if any(s.to_many for s in steps):
            collect = self.collection(steps)
            if steps[-1].to_many or norm is None:
                return collect
            return lambda rec, env: [norm(v) for v in collect(rec, env)]
        follow = self.to_one(steps)
        if norm is None:
            return follow
        return lambda rec, env: norm(follow(rec, env))

    def to_one(self, steps: Sequence[Step]) -> Callable[[Mapping[str, Any] | None, PyEnv], Any]:
        """Follows link steps and reads the last field (``None`` as soon as a link is empty)."""
        hops = [(s.field.key, target_of(self.schema, s.field)) for s in steps[:-1]]
        last = steps[-1].field.key

        def follow(rec: Mapping[str, Any] | None, env: PyEnv) -> Any:
            for key, target in hops:
                if rec is None:
                    return None
                ref = rec.get(key)
                if ref is None or target is None:
                    return None
                env.spend(1)
                rec = env.loader.load_one(target, ref)
            return None if rec is None else rec.get(last)

        return follow

    def collection(self, steps: Sequence[Step]) -> Callable[[Mapping[str, Any], PyEnv], list[Any]]:
        """Values (or records) reached through the one to-many step of the path."""
        i = next(i for i, s in enumerate(steps) if s.to_many)
        many = steps[i].field
        target = target_of(self.schema, many)
        assert target is not None, f"{many.key} has no target entity"
        prefix = self.to_one([*steps[:i], Step(steps[i].entity, _ID)]) if i else None
        suffix = self.to_one(steps[i + 1 :]) if i + 1 < len(steps) else None

        def collect(rec: Mapping[str, Any], env: PyEnv) -> list[Any]:
            owner = prefix(rec, env) if prefix else rec.get("id")
            if owner is None:
                return []
            if many.relation is Relation.MULTI_LINK:
                rows = env.loader.load_linked(many, target, owner)
            else:
                rows = env.loader.load_many(target, many.remote_column or "", owner)
            env.spend(len(rows))
            if suffix is None:
                return list(rows)
            return [suffix(r, env) for r in rows]

        return collect

    # -- operators ---------------------------------------------------------------------------
    def binary(self, t: Typed, op: str) -> Ev:
        if op in ("AND", "OR"):
            return self.chain(t, op)
        if op in _CMP:
            return self.compare(t, op)
        left, right = (self.compile(a) for a in t.args)
        lt, rt = t.args[0].type, t.args[1].type
        if op == "&":
            return lambda rec, env: check_text(
                py_text(env, left(rec, env), lt) + py_text(env, right(rec, env), rt)
            )
        if t.type.kind is V.DATE:
            sign = 1 if op == "+" else -1

            def shift(rec: Mapping[str, Any], env: PyEnv) -> Any:
                d = left(rec, env)
                if d is None:
                    return None
                n = right(rec, env)
                return None if n is None else date.fromordinal(d.toordinal() + sign * int(n))

            return shift
        fn = _ARITH[op]
        if t.type.kind in T.EXACT:

            def exact(rec: Mapping[str, Any], env: PyEnv) -> Any:
                a = left(rec, env)
                if a is None:
                    return None
                b = right(rec, env)
                if b is None:
                    return None
                b = to_dec(b)
                if op == "/" and b == 0:
                    return None
                return fn(to_dec(a), b)

            return exact

        def arith(rec: Mapping[str, Any], env: PyEnv) -> Any:
            a = left(rec, env)
            if a is None:
                return None
            b = right(rec, env)
            if b is None:
                return None
            if isinstance(a, Decimal) or isinstance(b, Decimal):
                a, b = float(a), float(b)
            if op == "/" and b == 0:
                return None
            return fn(a, b)

        return arith

    def compare(self, t: Typed, op: str) -> Ev:
        args = t.args
        blank_lit = [
            (isinstance(a.node, ast.Literal) and a.node.value is None)
            or (isinstance(a.node, ast.Call) and a.node.name == "BLANK")
            for a in args
        ]
        if any(blank_lit) and op in ("=", "<>"):
            other = self.compile(args[1] if blank_lit[0] else args[0])
            want = op == "="
            return lambda rec, env: _is_blank(other(rec, env)) == want
        lt, rt = args[0].type, args[1].type
        cmp = _CMP[op]
        ne = op == "<>"
        mixed_dates = {lt.kind, rt.kind} == {V.DATE, V.DATETIME}
        exact = lt.kind in T.EXACT or rt.kind in T.EXACT
        if not mixed_dates:
            fast = self.compare_field(args, op, exact)
            if fast is not None:
                return fast
        left, right = self.compile(args[0]), self.compile(args[1])

        if mixed_dates:

            def dates(rec: Mapping[str, Any], env: PyEnv) -> bool:
                a, b = left(rec, env), right(rec, env)
                if a is None or b is None:
                    return ne
                return cmp(local_date(env, a), local_date(env, b))

            return dates
        if exact:

            def decimals(rec: Mapping[str, Any], env: PyEnv) -> bool:
                a, b = left(rec, env), right(rec, env)
                if a is None or b is None:
                    return ne
                return cmp(to_dec(a), to_dec(b))

            return decimals

        def run(rec: Mapping[str, Any], env: PyEnv) -> bool:
            a, b = left(rec, env), right(rec, env)
            if a is None or b is None:
                return ne
            return bool(cmp(a, b))

        return run

    def compare_field(self, args: tuple[Typed, ...], op: str, exact: bool) -> Ev | None:
        """``field <op> constant`` (either way round) as one closure, or ``None``."""
        ne = op == "<>"
        for f, c, flipped in ((args[0], args[1], False), (args[1], args[0], True)):
            value = self.constant(c)
            if value is _NO:
                continue
            if value is None:  # a blank constant: comparisons with it are decided
                return _constant(ne)
            if f.type.kind is V.BOOLEAN or not isinstance(f.node, ast.Field):
                continue
            if len(f.steps) != 1 or f.steps[0].to_many:
                continue
            key = f.steps[0].field.key
            cmp = _CMP[op]
            if exact:
                k = to_dec(value)
                if flipped:
                    return lambda rec, env: ne if (a := rec.get(key)) is None else cmp(k, to_dec(a))
                return lambda rec, env: ne if (a := rec.get(key)) is None else cmp(to_dec(a), k)
            if self.plain_key(f) is None:
                continue
            k = value
            if op == "=":
                return lambda rec, env: rec.get(key) == k
            if op == "<>":
                return lambda rec, env: rec.get(key) != k
            if flipped:
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
            if op == "<":
                return lambda rec, env: (a := rec.get(key)) is not None and a < k
            if op == "<=":
                return lambda rec, env: (a := rec.get(key)) is not None and a <= k
            if op == ">":
                return lambda rec, env: (a := rec.get(key)) is not None and a > k
            return lambda rec, env: (a := rec.get(key)) is not None and a >= k
        return None

    def in_(self, t: Typed) -> Ev:
        node = t.node
        assert isinstance(node, ast.In)
        exact = any(a.type.kind in T.EXACT for a in t.args)
        negated = node.negated
        consts = [self.constant(a) for a in t.args[1:]]
        key = self.plain_key(t.args[0])
        if all(c is not _NO for c in consts) and (key is not None or exact):
            found = frozenset((to_dec(c) if exact else c) for c in consts if c is not None)
            arg = self.compile(t.args[0])
            if exact:
                return lambda rec, env: (
                    negated if (v := arg(rec, env)) is None else (to_dec(v) in found) != negated
                )
            assert key is not None
            if negated:
                return lambda rec, env: (v := rec.get(key)) is None or v not in found
            return lambda rec, env: (v := rec.get(key)) is not None and v in found
        arg = self.compile(t.args[0])
        items = [self.compile(a) for a in t.args[1:]]

        def run(rec: Mapping[str, Any], env: PyEnv) -> bool:
            v = arg(rec, env)
            if v is None:
                return negated
            if exact:
                v = to_dec(v)
            hit = any(
                (x := i(rec, env)) is not None and (to_dec(x) if exact else x) == v for i in items
            )
            return hit != negated

        return run

    # -- functions ---------------------------------------------------------------------------
    def call(self, t: Typed) -> Ev:
        fn = t.fn
        assert fn is not None
        if fn.kind == "lazy":
            return self.lazy(t)
        if fn.kind == "aggregate":
            return self.aggregate(t)
        if fn.name == "RECORD_ID":
            return lambda rec, env: rec.get("id")
        impl = fn.py
        assert impl is not None, f"{fn.name} has no Python implementation"
        args = [self.compile(a) for a in t.args]
        types = [a.type for a in t.args]
        for i, a in enumerate(t.args):
            if i in fn.choices:
                v = a.type.options[0]
                args[i] = _constant(int(v) if v.isdigit() else v)
        params = [fn.params[min(i, len(fn.params) - 1)].rstrip("?*") for i in range(len(args))]
        # "text" parameters read blank as "" and other values as TEXT() of them; "textset" ones
        # (text or multiple choice) do the same but keep a list of options as it is.
        as_text = [fn.blank == "text" and p in ("text", "textset") for p in params]
        strict = fn.blank in ("strict", "text")
        if strict and not any(as_text):
            if len(args) == 0:
                return lambda rec, env: impl(env, [], types)
            if len(args) == 1:
                (a0,) = args
                return lambda rec, env: (
                    None if (v := a0(rec, env)) is None else impl(env, [v], types)
                )
            if len(args) == 2:
                a0, a1 = args

                def run2(rec: Mapping[str, Any], env: PyEnv) -> Any:
                    v0 = a0(rec, env)
                    if v0 is None:
                        return None
                    v1 = a1(rec, env)
                    return None if v1 is None else impl(env, [v0, v1], types)

                return run2

        def run(rec: Mapping[str, Any], env: PyEnv) -> Any:
            vals = [a(rec, env) for a in args]
            for i, v in enumerate(vals):
                if v is None:
                    if as_text[i]:
                        vals[i] = ""
                    elif strict:
                        return None
                elif as_text[i] and not isinstance(v, str | list):
                    vals[i] = py_text(env, v, types[i])
            return impl(env, vals, types)

        return run

    def lazy(self, t: Typed) -> Ev:
        fn = t.fn
        assert fn is not None
        name = fn.name
        if name in ("AND", "OR"):
            return self.chain(t, name)
        if name == "NOT":
            return self.not_(t.args[0])
        if name == "IF":
            cond, then = self.condition(t.args[0]), self.compile(t.args[1])
            if len(t.args) > 2:
                other = self.compile(t.args[2])
                return lambda rec, env: then(rec, env) if cond(rec, env) else other(rec, env)
            return lambda rec, env: then(rec, env) if cond(rec, env) else None
        if name == "IFS":
            pairs = [
                (self.condition(c), self.compile(v))
                for c, v in zip(t.args[0::2], t.args[1::2], strict=False)
            ]

            def ifs(rec: Mapping[str, Any], env: PyEnv) -> Any:
                for c, v in pairs:
                    if c(rec, env):
                        return v(rec, env)
                return None

            return ifs
        args = [self.compile(a) for a in t.args]
        if name == "COALESCE":

            def coalesce(rec: Mapping[str, Any], env: PyEnv) -> Any:
                for a in args:
                    v = a(rec, env)
                    if v is not None:
                        return v
                return None

            return coalesce
        if name == "SWITCH":
            subject, rest = args[0], args[1:]
            cases = list(zip(rest[0::2], rest[1::2], strict=False))
            default = rest[-1] if len(rest) % 2 == 1 else None
            exact = any(a.type.kind in T.EXACT for a in t.args[:1] + t.args[1::2])

            def switch(rec: Mapping[str, Any], env: PyEnv) -> Any:
                v = subject(rec, env)
                if v is not None:
                    for case, value in cases:
                        c = case(rec, env)
                        if c is not None and ((to_dec(c) == to_dec(v)) if exact else c == v):
                            return value(rec, env)
                return default(rec, env) if default else None

            return switch
        raise NotImplementedError(name)

    def aggregate(self, t: Typed) -> Ev:
        fn = t.fn
        assert fn is not None
        coll = self.compile(t.args[0])
        name = fn.name
        item = t.args[0].type.item or T.NUMBER
        exact = item.kind in T.EXACT
        if name == "COUNT":
            return lambda rec, env: sum(1 for v in coll(rec, env) if v is not None)
        if name == "COUNTIF":
            cond = self.condition(t.args[1])
            per_record = _nodes(t.args[1])

            def countif(rec: Mapping[str, Any], env: PyEnv) -> int:
                rows = coll(rec, env)
                env.spend(len(rows) * per_record)
                return sum(1 for r in rows if cond(r, env))

            return countif

        def values(rec: Mapping[str, Any], env: PyEnv) -> list[Any]:
            vals = [v for v in coll(rec, env) if v is not None]
            if exact or any(isinstance(v, Decimal) for v in vals):
                return [to_dec(v) for v in vals]
            return vals

        if name == "SUM":
            zero: Any = Decimal(0) if exact else 0
            return lambda rec, env: sum(values(rec, env), zero)
        if name == "AVG":

            def avg(rec: Mapping[str, Any], env: PyEnv) -> Any:
                vals = values(rec, env)
                if not vals:
                    return None
                total = sum(vals, Decimal(0) if exact else 0)
                return total / len(vals)

            return avg
        pick = max if name == "MAXOF" else min
        return lambda rec, env: pick(vals) if (vals := values(rec, env)) else None


_ID = FieldSpec("id", V.NUMBER, column="id")  # reads the id of the record a path reached


def compile_python(checked: CheckedExpression) -> Evaluator:
    """Compile once; call ``evaluate(record, context, loader=None)`` for each record.

    ``record`` maps field keys (and ``"id"``) to values.  A loader is needed only when
    ``checked.needs_loader`` (paths through links, aggregates).  The evaluator may be shared by
    threads.
    """
    body = _Compiler(checked).compile(checked.root)
    cost = checked.node_count
    default_loader = NoLoader()

    if checked.needs_loader or cost > MAX_STEPS:

        def evaluate(
            record: Mapping[str, Any], context: EvalContext, loader: RecordLoader | None = None
        ) -> Any:
            env = PyEnv(context, loader or default_loader, cost)
            if cost > MAX_STEPS:
                raise too_many_steps()
            return body(record, env)

        return evaluate

    # Nothing here follows a link or reads related records, so nothing loops, the step count
    # stays at ``cost`` and the environment never changes: share one per context.
    last = [PyEnv(EvalContext(now=datetime(2000, 1, 1, tzinfo=UTC)), default_loader, cost)]

    def evaluate_local(
        record: Mapping[str, Any], context: EvalContext, loader: RecordLoader | None = None
    ) -> Any:
        env = last[0]
        if env.ctx is not context:
            env = PyEnv(context, default_loader, cost)
            last[0] = env
        return body(record, env)

    return evaluate_local
