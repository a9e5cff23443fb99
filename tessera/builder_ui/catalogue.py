"""What the designers offer: the palette of field types, grouped, named in every locale.

The palette names each type in the interface language; a field dropped on the canvas starts
with its type's name in *every* supported locale as its label, so an app built in English
already reads sensibly in Chinese.  Filter operators come from the field types themselves
(``tessera.engines.definitions.fields``), so the view designer never offers an operator the
records service would refuse.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from tessera.engines.definitions.fields import FIELD_TYPES
from tessera.platform.config import SUPPORTED_LOCALES
from tessera.platform.i18n import babel_name

#: (group name, (type key, ...)) in palette order; each type names itself
#: (``FieldType.display_name``)
PALETTE: tuple[tuple[LazyString, tuple[str, ...]], ...] = (
    (_l("Text"), ("text", "long_text", "rich_text", "email", "phone", "url")),
    (_l("Numbers"), ("integer", "decimal", "currency", "percent", "rating", "duration")),
    (_l("Choices"), ("select", "multi_select", "boolean")),
    (_l("Dates"), ("date", "datetime", "time")),
    (_l("Relations"), ("link", "multi_link", "child_table", "user", "department")),
    (_l("Calculated"), ("formula", "rollup", "lookup", "auto_number")),
    (_l("Files and more"), ("attachment", "image", "location", "json")),
)

#: a short mark shown beside each type (plain characters: no icon font, no emoji)
MARKS = {
    "text": "Aa",
    "long_text": "¶",
    "rich_text": "B",
    "email": "@",
    "phone": "☏",
    "url": "//",
    "integer": "123",
    "decimal": "1.5",
    "currency": "¥",
    "percent": "%",
    "rating": "★",
    "duration": "h:m",
    "select": "▾",
    "multi_select": "☰",
    "boolean": "✓",
    "date": "31",
    "datetime": "31:",
    "time": "12:",
    "link": "→",
    "multi_link": "⇉",
    "child_table": "▦",
    "user": "☺",
    "department": "⌂",
    "formula": "fx",
    "rollup": "Σ",
    "lookup": "⤷",
    "auto_number": "#",
    "attachment": "⤓",
    "image": "▣",
    "location": "◎",
    "json": "{}",
}


def _in_every_locale(msgid: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for tag in SUPPORTED_LOCALES:
        with force_locale(babel_name(tag)):
            names[tag] = gettext(msgid)
    return names


def palette() -> list[dict[str, Any]]:
    """The palette as JSON for the designer: groups of {type, name, label, mark, computed};
    ``name`` is the type's ``display_name`` in the interface language, ``label`` the same in
    every supported locale."""
    placed = [key for _group, keys in PALETTE for key in keys]
    assert sorted(placed) == sorted(FIELD_TYPES) == sorted(MARKS), (
        "every field type needs one palette place and a mark"
    )
    return [
        {
            "name": str(group),
            "types": [
                {
                    "type": key,
                    "name": gettext(FIELD_TYPES[key].display_name),
                    "label": _in_every_locale(FIELD_TYPES[key].display_name),
                    "mark": MARKS[key],
                    "computed": FIELD_TYPES[key].computed,
                }
                for key in keys
            ],
        }
        for group, keys in PALETTE
    ]


def operators() -> dict[str, list[str]]:
    """The filter operators each field type accepts (what the records service understands)."""
    return {name: list(kind.operators) for name, kind in FIELD_TYPES.items()}
