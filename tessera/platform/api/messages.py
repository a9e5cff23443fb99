"""API problem text in the caller's language (the token user's locale, else Accept-Language).

The API's own titles and messages are gettext calls where they are raised.  The records
service's messages arrive as English sentences (the forms engine knows nothing of Flask or
catalogues), so :func:`translated` matches them against the service's message templates below
and translates the template, keeping the values it found (``“abc” is not a date`` →
``“abc” 不是日期``).  A sentence no template matches stays as the service wrote it.  Field paths
are never translated.
"""

from __future__ import annotations

import re

from flask_babel import gettext

from tessera.platform.i18n import current_locale


def _l(text: str) -> str:
    """Mark ``text`` for the catalogues (``pybabel extract`` and the catalogue test read
    ``_l``); it is translated when a message matches it."""
    return text


#: The records service's messages, as templates; specific ones before general ones.
RECORD_MESSAGES = (
    _l("“%(label)s” is required"),
    _l("“%(value)s” is out of range: it must be between %(low)s and %(high)s"),
    _l("“%(value)s” is not one of the options: %(options)s"),
    _l("“%(value)s” is not a date; write it like 2024-03-05"),
    _l("“%(value)s” is not a date and time"),
    _l("“%(value)s” is not a date"),
    _l("“%(value)s” is not a time of day; write it like 14:30"),
    _l("“%(value)s” is not a whole number"),
    _l("“%(value)s” is not a number"),
    _l("“%(value)s” is not yes or no"),
    _l("“%(value)s” is not an email address"),
    _l("“%(value)s” is not a phone number"),
    _l("“%(value)s” is not a web address (http:// or https://)"),
    _l("“%(value)s” is not a list of options"),
    _l("“%(value)s” is not a list of records"),
    _l("this text is too long: at most %(limit)s characters"),
    _l("“%(key)s” is set by the system"),
    _l("“%(entity)s” has no field “%(key)s”"),
    _l("“%(label)s” is computed and cannot be written"),
    _l("“%(label)s” is read-only"),
    _l("you may not change the owner"),
    _l("you may not change “%(label)s”"),
    _l("there is no record #%(id)s to link to"),
    _l("there is no user #%(id)s"),
    _l("there is no department #%(id)s"),
    _l("there is no entity “%(key)s”"),
    _l("there is no record “%(id)s”"),
    _l("the record must be an object of field values"),
    _l("field names are text"),
    _l("give a list of records"),
)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(regex + r"\Z", re.S)


_PATTERNS = [(template, _pattern(template)) for template in RECORD_MESSAGES]


def translated(message: str) -> str:
    """``message`` (a records-service sentence) in the request's language."""
    if current_locale() == "en":
        return message
    for template, pattern in _PATTERNS:
        found = pattern.match(message)
        if found is not None:
            return str(gettext(template, **found.groupdict()))
    return message
