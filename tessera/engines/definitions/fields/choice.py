"""Boolean, single select and multi select field types.

Select fields store option keys, never labels, so relabelling an option is not a data change.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tessera.engines.definitions.fields.base import (
    CHOICE_OPS,
    MULTI_OPS,
    Exported,
    FieldType,
    InvalidValue,
    Spec,
    humanise,
    normalise,
    option_keys,
    option_label,
    option_named,
    pick_label,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import Listing, Phrase, _l

_TRUE = {"true", "yes", "y", "1", "on", "是", "真", "对", "√", "✓", "✔", "t"}
_FALSE = {"false", "no", "n", "0", "off", "否", "假", "错", "×", "✗", "✘", "f"}


class Boolean(FieldType):
    name = "boolean"
    display_name = _l("Yes / no")
    value_type = ValueType.BOOLEAN
    operators = ("eq", "ne", "is_empty", "is_not_empty")

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.Boolean(create_constraint=False)

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = normalise(value).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise InvalidValue(_l("“%(value)s” is not yes or no"), value=value)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        words = {"zh": ("是", "否")}.get(locale.split("-")[0], ("Yes", "No"))
        return words[0] if value else words[1]

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return rng.random() < 0.5


def _shown_as(option: Any) -> tuple[str, list[Any]]:
    """An option's key and the texts people see it as: its label in every language, or, for
    an option without a label, its key read as words (what :func:`option_label` shows, so an
    export of ``closed_won`` as “Closed won” imports again).  The words are accepted only
    where they are shown: a labelled option's key as words appears nowhere."""
    if isinstance(option, str):
        return option, [humanise(option)]
    if "label" not in option:
        return str(option["key"]), [humanise(option["key"])]
    label = option["label"]
    return str(option["key"]), list(label.values()) if isinstance(label, dict) else [label]


def _match_option(spec: Spec, value: Any) -> str:
    """An option key from its key or from the text it is shown as (imports carry labels)."""
    keys = option_keys(spec)
    text = normalise(value) if isinstance(value, str) else value
    if text in keys:
        return str(text)
    for option in spec.get("options", ()):
        key, shown = _shown_as(option)
        if text in shown:
            return key
    raise InvalidValue(
        _l("“%(value)s” is not one of the options: %(options)s"),
        value=value,
        options=options_named(spec),
    )


#: how many options a refusal names; a select of a hundred cities is told by its first ones
OPTIONS_NAMED = 10


def options_named(spec: Spec) -> Listing | Phrase:
    """The options of a select as a refusal lists them to people: by their labels in the
    reader's language (an import carries labels, and a Chinese user knows “赢单”, not
    ``won``), the first :data:`OPTIONS_NAMED` of them and how many more there are."""
    options = list(spec.get("options", ()))
    named = Listing(option_named(o) for o in options[:OPTIONS_NAMED])
    if len(options) <= OPTIONS_NAMED:
        return named
    return Phrase(
        _l("%(options)s and %(count)s more"), options=named, count=len(options) - OPTIONS_NAMED
    )


def _option_lookup(spec: Spec) -> dict[Any, str]:
    """Everything a select accepts, to its option key, as :func:`_match_option` decides it: an
    option's key first, else the first option shown as that text (a label in any language,
    an unlabelled option's key as words)."""
    accepted: dict[Any, str] = {}
    for option in spec.get("options", ()):
        key, shown = _shown_as(option)
        for text in shown:
            accepted.setdefault(text, key)
    accepted.update((key, key) for key in option_keys(spec))
    return accepted


class Select(FieldType):
    name = "select"
    display_name = _l("Single choice")
    value_type = ValueType.SELECT
    operators = CHOICE_OPS

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.String(64)

    def validate(self, spec: Spec, value: Any) -> Any:
        return None if value is None else _match_option(spec, value)

    def validator(self, spec: Spec) -> Callable[[Any], Any]:
        accepted = _option_lookup(spec)

        def validate(value: Any) -> Any:
            if value is None:
                return None
            try:
                return accepted[normalise(value) if isinstance(value, str) else value]
            except (KeyError, TypeError):  # not an option (or not hashable): say so as validate
                return _match_option(spec, value)

        return validate

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return "" if value is None else option_label(spec, value, locale)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return rng.choice(option_keys(spec))


class MultiSelect(FieldType):
    """A JSON list of option keys, in the order the options are defined."""

    name = "multi_select"
    display_name = _l("Multiple choice")
    value_type = ValueType.MULTISELECT
    operators = MULTI_OPS
    indexable = False

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = [
                part for part in normalise(value).replace("，", ",").replace(";", ",").split(",")
            ]
            value = [part.strip() for part in value if part.strip()]
        if not isinstance(value, list | tuple):
            raise InvalidValue(_l("“%(value)s” is not a list of options"), value=value)
        chosen = {_match_option(spec, item) for item in value}
        return [key for key in option_keys(spec) if key in chosen]

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return ", ".join(option_label(spec, key, locale) for key in value or ())

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else ", ".join(value)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        keys = option_keys(spec)
        return [k for k in keys if rng.random() < 0.5] or [keys[0]]


__all__ = ["Boolean", "MultiSelect", "Select", "pick_label"]
