"""Field names in formulas: keys, ``[Labels]`` in any language, and paths through links.

A path segment written bare (``amount``) must be a field key; a segment in brackets
(``[金额]``, ``[Amount]``, ``[amount]``) may be a key or a label in any locale.  Resolution turns
both into keys so the stored AST never depends on labels; :func:`label_namer` goes the other way
for the editor, and :func:`field_name` for messages (a field named as the reader writes it).
A bracketed name matching more than one field is an error naming all of them: guessing would
silently change what a formula means when someone adds a field.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tessera.engines.messages import Listing, Phrase, _l

from .errors import ExpressionError, FieldName, code
from .schema import EntitySpec, ExprSchema, FieldSpec, Relation, ValueType, label_in

TO_MANY = frozenset({Relation.CHILDREN, Relation.REVERSE, Relation.MULTI_LINK})


@dataclass(frozen=True)
class Segment:
    """One written path segment with its span in the source."""

    text: str
    bracketed: bool
    start: int
    end: int


@dataclass(frozen=True)
class Step:
    """One resolved segment: the entity it was looked up in and the field found there."""

    entity: EntitySpec
    field: FieldSpec

    @property
    def to_many(self) -> bool:
        return self.field.relation in TO_MANY


def target_of(schema: ExprSchema, fs: FieldSpec) -> EntitySpec | None:
    """The entity a field leads to (links, user/department fields, to-many relations)."""
    if fs.target is not None and fs.target in schema.entities:
        return schema.entities[fs.target]
    if fs.relation is Relation.SCALAR and fs.value_type in (ValueType.USER, ValueType.DEPARTMENT):
        key = fs.value_type.value
        return schema.entities.get(key)
    return None


def _matches(entity: EntitySpec, seg: Segment) -> list[FieldSpec]:
    if not seg.bracketed:
        fs = entity.fields.get(seg.text)
        return [fs] if fs is not None else []
    wanted = seg.text.strip().casefold()
    return [
        fs
        for fs in entity.fields.values()
        if fs.key.casefold() == wanted
        or any(lb.strip().casefold() == wanted for lb in fs.labels.values())
    ]


def _names(entity: EntitySpec) -> list[str]:
    """Keys and labels to suggest, each once (a label may be spelled like a key)."""
    out = list(entity.fields)
    for fs in entity.fields.values():
        out.extend(fs.labels.values())
    return list(dict.fromkeys(out))


def resolve(
    schema: ExprSchema, entity: EntitySpec, segments: Sequence[Segment]
) -> tuple[list[Step], list[ExpressionError]]:
    """Resolve written segments to steps, starting at ``entity``; stops at the first error."""
    steps: list[Step] = []
    current: EntitySpec | None = entity
    for i, seg in enumerate(segments):
        if current is None:
            message = Phrase(
                _l("%(field)s is not a link to other records, so it has no field %(name)s"),
                field=field_name(steps[-1:]),
                name=code(seg.text),
            )
            return steps, [ExpressionError.of("not_a_link", message, seg.start, seg.end)]
        found = _matches(current, seg)
        if not found:
            close = difflib.get_close_matches(seg.text, _names(current), n=3)
            message = (
                Phrase(
                    _l("%(entity)s has no field %(name)s; did you mean %(names)s?"),
                    entity=code(current.key),
                    name=code(seg.text),
                    names=Listing(code(c) for c in close),
                )
                if close
                else Phrase(
                    _l("%(entity)s has no field %(name)s"),
                    entity=code(current.key),
                    name=code(seg.text),
                )
            )
            return steps, [ExpressionError.of("unknown_field", message, seg.start, seg.end)]
        if len(found) > 1:
            message = Phrase(
                _l("[%(name)s] could mean several fields of %(entity)s: %(keys)s; "
                   "use the field key instead"),
                name=seg.text,
                entity=code(current.key),
                keys=Listing(code(f.key) for f in found),
            )  # fmt: skip
            return steps, [ExpressionError.of("ambiguous_field", message, seg.start, seg.end)]
        fs = found[0]
        steps.append(Step(current, fs))
        current = target_of(schema, fs) if i + 1 < len(segments) else None
    return steps, []


def usable_labels(entity: EntitySpec, fs: FieldSpec) -> Mapping[str, str]:
    """The labels of ``fs`` that, written in brackets, mean ``fs`` and nothing else in
    ``entity``: not one with a ``]`` in it, nor one another field shares as label or key."""
    return {
        locale: label
        for locale, label in fs.labels.items()
        if "]" not in label and len(_matches(entity, Segment(label, True, 0, 0))) == 1
    }


def field_name(steps: Sequence[Step]) -> FieldName:
    """The resolved path ``steps`` as a message names it: its keys in the English sentence,
    the reader's labels when shown (:class:`~.errors.FieldName`)."""
    return FieldName(
        [step.field.key for step in steps],
        [usable_labels(step.entity, step.field) for step in steps],
    )


def label_namer(
    schema: ExprSchema, entity: EntitySpec, locale: str | None
) -> Callable[[Sequence[str]], list[str]]:
    """A namer for :func:`ast.to_source` that prints ``[Label]`` in ``locale`` where one exists
    (the same names a message shows that reader: :func:`field_name`)."""

    def name(path: Sequence[str]) -> list[str]:
        out: list[str] = []
        current: EntitySpec | None = entity
        for key in path:
            fs = current.fields.get(key) if current is not None else None
            label = (
                label_in(usable_labels(current, fs), locale)
                if fs is not None and current is not None and locale
                else None
            )
            out.append(key if label is None else f"[{label}]")
            current = target_of(schema, fs) if fs is not None else None
        return out

    return name
