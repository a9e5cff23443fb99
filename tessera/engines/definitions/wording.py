"""The words the diff and the schema plan use for things of a definition, in any language.

A field type is named by a :class:`~tessera.engines.messages.Term`: the name its class gives it
(the palette's name) in the reader's language, the key in the English of ``str()``; a view type
by a :class:`~tessera.engines.messages.Phrase`; an entity, a field or a view by its label as a
:class:`~tessera.engines.messages.Localised`, so the platform can show the sentence in the
reader's language while ``str()`` keeps the English the CLI and the logs have always read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.engines.definitions.fields import FIELD_TYPES
from tessera.engines.definitions.fields.base import humanise
from tessera.engines.messages import Localised, Phrase, Term, _l

#: each view type in words
VIEW_WORDS = {"list": _l("list"), "kanban": _l("kanban"), "calendar": _l("calendar")}


def type_words(key: str) -> Term | str:
    """A field type as people call it (the palette's “Long text”, “多行文本”); its key with
    spaces (``long text``) in the English text of ``str()``, as the CLI has always read it."""
    kind, words = FIELD_TYPES.get(key), key.replace("_", " ")
    return words if kind is None else Term(kind.display_name, words)


def type_key(key: str) -> Term | str:
    """A field type as people call it in the reader's language; its key (``long_text``) in
    the English text of ``str()``."""
    kind = FIELD_TYPES.get(key)
    return key if kind is None else Term(kind.display_name, key)


def view_words(key: str) -> Phrase | str:
    """A view type in words (``kanban``); an unknown one as it is written."""
    return Phrase(VIEW_WORDS[key]) if key in VIEW_WORDS else key


def named(item: Mapping[str, Any]) -> Localised:
    """The label of an app, entity, field or view of a definition, in the reader's language;
    its key as words where it has none (as :meth:`EntityModel.label` reads it)."""
    return Localised.of(item.get("label"), humanise(str(item.get("key", "?"))))
