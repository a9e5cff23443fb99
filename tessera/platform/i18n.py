"""Interface language, time zone and localised labels.

Catalogues are gettext ``.po`` files in ``translations/<locale>/LC_MESSAGES/messages.po``.  They
are read with Babel's ``read_po`` and compiled in memory when the app starts, so no ``.mo`` build
output is committed or needs a build step.  Tessera speaks of locales as BCP 47 tags (``en``,
``zh-CN``: what browsers send and what app definitions use as label keys); Babel wants
``zh_CN``, and :func:`babel_name` converts.

The locale of a request is, in order: the signed-in user's profile, the choice an anonymous
visitor made with the language switch (kept in the session), the browser's Accept-Language, and
``TESSERA_DEFAULT_LOCALE``.  The time zone is the user's, else UTC.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale, gettext

from tessera.engines.definitions import humanise
from tessera.engines.forms.errors import FieldError
from tessera.engines.messages import Listing, Localised, Phrase
from tessera.platform.config import SUPPORTED_LOCALES

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LOCALE_NAMES = {"en": "English", "zh-CN": "中文"}
#: how a language lists things in a sentence (“a date, a number”; “日期、数字”)
LIST_SEPARATORS = {"zh-CN": "、"}
SESSION_KEY = "locale"


def babel_name(tag: str) -> str:
    """``zh-CN`` -> ``zh_CN`` (Babel's spelling); ``en`` stays ``en``."""
    return tag.replace("-", "_")


def normalise_locale(value: str | None) -> str | None:
    """Map anything a browser or a form sends (``zh``, ``zh_cn``, ``zh-Hans-CN``) to a supported
    tag, or None."""
    if not value:
        return None
    lowered = value.strip().replace("_", "-").lower()
    for tag in SUPPORTED_LOCALES:
        if lowered == tag.lower():
            return tag
    language = lowered.split("-", 1)[0]
    if language == "zh":
        return "zh-CN"
    if language == "en":
        return "en"
    return None


def load_catalogue(tag: str) -> Translations:
    """Read ``<tag>/LC_MESSAGES/messages.po`` and compile it in memory."""
    path = TRANSLATIONS_DIR / babel_name(tag) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=babel_name(tag))
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


class PoDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's domain, fed from catalogues read once at start-up instead of ``.mo`` files."""

    def __init__(self, catalogues: Mapping[str, Translations]) -> None:
        super().__init__()
        self._catalogues = dict(catalogues)

    def get_translations(self) -> Translations | NullTranslations:
        return self._catalogues.get(current_locale(), NullTranslations())


class _Babel(Babel):  # type: ignore[misc]
    def __init__(self, catalogues: Mapping[str, Translations]) -> None:
        super().__init__()
        self._po_domain = PoDomain(catalogues)

    @cached_property
    def domain_instance(self) -> Domain:
        return self._po_domain


def _select_locale() -> str:
    return babel_name(choose_locale())


def choose_locale() -> str:
    """The locale of the current request (see the module docstring for the order)."""
    from tessera.platform.identity.current import current_identity

    identity = current_identity() if has_request_context() else None
    if identity is not None and identity.user_id is not None:
        chosen = normalise_locale(identity.locale)
        if chosen:
            return chosen
    if has_request_context():
        chosen = normalise_locale(session.get(SESSION_KEY))
        if chosen:
            return chosen
        best = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-TW"])
        chosen = normalise_locale(best)
        if chosen:
            return chosen
    default: str = current_app.config.get("TESSERA_DEFAULT_LOCALE", "en")
    return default


def _select_timezone() -> str:
    from tessera.platform.identity.current import current_identity

    identity = current_identity() if has_request_context() else None
    return identity.time_zone if identity is not None else "UTC"


def current_locale() -> str:
    """The current request's locale as a tag (``zh-CN``); the default outside a request."""
    locale = get_locale()
    if locale is None:
        return str(current_app.config.get("TESSERA_DEFAULT_LOCALE", "en"))
    return "zh-CN" if locale.language == "zh" else "en"


def localised(label: Any, locale: str | None = None, fallback: str = "") -> str:
    """The text of a label from an app definition in ``locale`` (default: the request's).

    A label is a plain string or a mapping of locale tags to strings.  Missing translations fall
    back to the same language (``zh`` for ``zh-CN``), then English, then any non-empty value, so
    a half-translated app still shows something sensible rather than a blank.
    """
    if label is None:
        return fallback
    if isinstance(label, str):
        return label
    if not isinstance(label, Mapping):
        return str(label)
    if locale is None:
        locale = current_locale() if has_app_context() else "en"
    language = locale.split("-", 1)[0]
    candidates = [locale, language, *(k for k in label if str(k).split("-")[0] == language), "en"]
    for key in candidates:
        value = label.get(key)
        if isinstance(value, str) and value:
            return value
    for value in label.values():
        if isinstance(value, str) and value:
            return value
    return fallback


@lru_cache(maxsize=8)
def catalogue(tag: str) -> Translations:
    """The catalogue of ``tag`` for work outside a request (a background job writing for the
    person who started it), loaded once per process."""
    return load_catalogue(normalise_locale(tag) or "en")


def message_text(
    template: str, params: Mapping[str, Any], message: str, locale: str | None = None
) -> str:
    """A refusal from the engines in the request's language, or in ``locale`` when given (a
    job has no request): ``template`` (an English msgid) translated, then filled with
    ``params`` (values, never translated; names given as ``Localised`` in that language;
    parts of the sentence given as ``Phrase`` or ``Listing`` translated the same way first,
    a phrase read as :meth:`~tessera.engines.messages.Phrase.for_reader` gives it for
    ``locale``: a formula's field is then named as that reader writes it, ``[金额]``).

    ``message`` (the English sentence) is the answer when there is no template, or when a
    translation does not fit its params (a broken catalogue entry must not hide the error).
    """
    if not template:
        return message
    translate: Callable[[str], str]
    if locale is None:
        translate, locale = _request_gettext, current_locale()
    else:
        translate = catalogue(locale).gettext
    try:
        return _filled(template, params, translate, locale)
    except (KeyError, ValueError, TypeError):
        return message


def _request_gettext(msgid: str) -> str:
    return str(gettext(msgid))


def _filled(
    template: str, params: Mapping[str, Any], translate: Callable[[str], str], locale: str
) -> str:
    """``template`` translated and filled; raises when a translation does not fit."""
    text = translate(template)
    if not params:
        return text
    return text % {k: _param(v, translate, locale) for k, v in params.items()}


def _param(value: Any, translate: Callable[[str], str], locale: str) -> Any:
    if isinstance(value, Localised):
        return value.pick(locale)
    if isinstance(value, Phrase):
        shown = value.for_reader(locale)  # a formula's field: [金额] to a Chinese reader
        if shown is not value:
            return _param(shown, translate, locale)
        return _filled(value.template, value.params, translate, locale)
    if isinstance(value, Listing):
        separator = LIST_SEPARATORS.get(locale, ", ")
        return separator.join(str(_param(item, translate, locale)) for item in value)
    return value


def error_text(error: Any, locale: str | None = None) -> str:
    """:func:`message_text` of a ``FieldError`` or ``DefinitionError`` (``.message``), of an
    engine exception (``InvalidValue``, ``NotFound``, ``EvaluationError`` …: ``str(error)``)
    or of a ``Phrase``; anything without a template is shown as it is."""
    message = error.message if isinstance(getattr(error, "message", None), str) else str(error)
    return message_text(
        getattr(error, "template", ""), getattr(error, "params", {}), message, locale
    )


def translated_errors(errors: Iterable[FieldError]) -> list[FieldError]:
    """``errors`` with their ``message`` in the request's language (paths, codes, templates and
    params unchanged), for the API's problems and the pages' field messages."""
    return [dataclasses.replace(e, message=error_text(e)) for e in errors]


def init_app(app: Flask, default_locale: str) -> None:
    """Load every catalogue now, so a broken ``.po`` file stops start-up instead of a page."""
    app.config["TESSERA_DEFAULT_LOCALE"] = default_locale
    catalogues = {tag: load_catalogue(tag) for tag in SUPPORTED_LOCALES}
    babel = _Babel(catalogues)
    babel.init_app(
        app,
        default_locale=babel_name(default_locale),
        locale_selector=_select_locale,
        timezone_selector=_select_timezone,
    )
    app.jinja_env.filters["localised"] = localised
    app.jinja_env.filters["humanise"] = humanise  # a key as words: what an unlabelled thing shows
    app.jinja_env.globals.update(
        current_locale=current_locale, locale_names=LOCALE_NAMES, localised=localised
    )
    app.jinja_env.filters["isodatetime"] = _iso


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
