"""The words the diff and the schema plan use for things of a definition, in any language.

A field type or a view type is named by a :class:`~tessera.engines.messages.Phrase` (or a
:class:`~tessera.engines.messages.Term` where the English sentence writes the key itself), an
entity, a field or a view by its label as a :class:`~tessera.engines.messages.Localised`, so
the platform can show the sentence in the reader's language while ``str()`` keeps the English
the CLI and the logs have always read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.engines.definitions.fields.base import humanise
from tessera.engines.messages import Localised, Phrase, Term, _l

#: each field type in words (the English is the key with spaces, as the diff has written it)
TYPE_WORDS = {
    "text": _l("text"),
    "long_text": _l("long text"),
    "rich_text": _l("rich text"),
    "integer": _l("integer"),
    "decimal": _l("decimal"),
    "currency": _l("currency"),
    "percent": _l("percent"),
    "boolean": _l("boolean"),
    "date": _l("date"),
    "datetime": _l("datetime"),
    "time": _l("time"),
    "duration": _l("duration"),
    "select": _l("select"),
    "multi_select": _l("multi select"),
    "email": _l("email"),
    "phone": _l("phone"),
    "url": _l("url"),
    "rating": _l("rating"),
    "user": _l("user"),
    "department": _l("department"),
    "link": _l("link"),
    "multi_link": _l("multi link"),
    "child_table": _l("child table"),
    "attachment": _l("attachment"),
    "image": _l("image"),
    "location": _l("location"),
    "auto_number": _l("auto number"),
    "formula": _l("formula"),
    "rollup": _l("rollup"),
    "lookup": _l("lookup"),
    "json": _l("json"),
}

#: each view type in words
VIEW_WORDS = {"list": _l("list"), "kanban": _l("kanban"), "calendar": _l("calendar")}


def type_words(key: str) -> Phrase | str:
    """A field type in words (``long text``); an unknown type as its key with spaces."""
    return Phrase(TYPE_WORDS[key]) if key in TYPE_WORDS else key.replace("_", " ")


def type_key(key: str) -> Term | str:
    """A field type as English writes its key (``long_text``), in words in other languages."""
    return Term(TYPE_WORDS[key], key) if key in TYPE_WORDS else key


def view_words(key: str) -> Phrase | str:
    """A view type in words (``kanban``); an unknown one as it is written."""
    return Phrase(VIEW_WORDS[key]) if key in VIEW_WORDS else key


def named(item: Mapping[str, Any]) -> Localised:
    """The label of an app, entity, field or view of a definition, in the reader's language;
    its key as words where it has none (as :meth:`EntityModel.label` reads it)."""
    return Localised.of(item.get("label"), humanise(str(item.get("key", "?"))))
