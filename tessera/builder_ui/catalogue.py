"""What the designers offer: the palette of field types, grouped, named in every locale.

The palette names each type in the interface language; a field dropped on the canvas starts
with its type's name in *every* supported locale as its label, so an app built in English
already reads sensibly in Chinese.  Filter operators come from the field types themselves
(``tessera.engines.definitions.fields``), so the view designer never offers an operator the
records service would refuse.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from tessera.engines.definitions.fields import FIELD_TYPES
from tessera.platform.config import SUPPORTED_LOCALES
from tessera.platform.i18n import babel_name

#: (group name, [(type, name), ...]) in palette order
PALETTE: tuple[tuple[Any, tuple[tuple[str, Any], ...]], ...] = (
    (
        _l("Text"),
        (
            ("text", _l("Text")),
            ("long_text", _l("Long text")),
            ("rich_text", _l("Rich text")),
            ("email", _l("Email")),
            ("phone", _l("Phone")),
            ("url", _l("Web address")),
        ),
    ),
    (
        _l("Numbers"),
        (
            ("integer", _l("Whole number")),
            ("decimal", _l("Decimal")),
            ("currency", _l("Amount")),
            ("percent", _l("Percent")),
            ("rating", _l("Rating")),
            ("duration", _l("Duration")),
        ),
    ),
    (
        _l("Choices"),
        (
            ("select", _l("Single choice")),
            ("multi_select", _l("Multiple choice")),
            ("boolean", _l("Yes / no")),
        ),
    ),
    (
        _l("Dates"),
        (("date", _l("Date")), ("datetime", _l("Date and time")), ("time", _l("Time"))),
    ),
    (
        _l("Relations"),
        (
            ("link", _l("Link")),
            ("multi_link", _l("Multiple links")),
            ("child_table", _l("Child table")),
            ("user", _l("User")),
            ("department", _l("Department")),
        ),
    ),
    (
        _l("Calculated"),
        (
            ("formula", _l("Formula")),
            ("rollup", _l("Rollup")),
            ("lookup", _l("Lookup")),
            ("auto_number", _l("Auto number")),
        ),
    ),
    (
        _l("Files and more"),
        (
            ("attachment", _l("Attachment")),
            ("image", _l("Image")),
            ("location", _l("Location")),
            ("json", _l("JSON data")),
        ),
    ),
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


def _in_every_locale(text: LazyString) -> dict[str, str]:
    names: dict[str, str] = {}
    for tag in SUPPORTED_LOCALES:
        with force_locale(babel_name(tag)):
            names[tag] = str(text)
    return names


def palette() -> list[dict[str, Any]]:
    """The palette as JSON for the designer: groups of {type, name, label, mark, computed}."""
    assert set(MARKS) == set(FIELD_TYPES), "every field type needs a palette entry"
    return [
        {
            "name": str(group),
            "types": [
                {
                    "type": key,
                    "name": str(name),
                    "label": _in_every_locale(name),
                    "mark": MARKS[key],
                    "computed": FIELD_TYPES[key].computed,
                }
                for key, name in types
            ],
        }
        for group, types in PALETTE
    ]


def operators() -> dict[str, list[str]]:
    """The filter operators each field type accepts (what the records service understands)."""
    return {name: list(kind.operators) for name, kind in FIELD_TYPES.items()}
