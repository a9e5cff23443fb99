"""Message templates: how the engines say what went wrong without speaking any language.

The engines import no Flask or Babel, yet their refusals (:class:`InvalidValue`, ``FieldError``,
``NotFound`` …) reach people in their own language.  So a refusal carries a *template*, the
English gettext msgid with ``%(name)s`` placeholders, and the *params* that fill it; the
platform translates the template and then fills in the params (values are never translated).
The English sentence (``str(error)``, ``FieldError.message``) is the template filled in here.

Some sentences are built from parts, each in its own words: a formula error says what an
operand *is* (“`amount` is a number”) and then what is wrong with it.  Such a part is a
:class:`Phrase` (a template and its params, itself a param of the sentence), and a list of parts
is a :class:`Listing`; the platform translates every part in the reader's language before it
fills the sentence, so no English word is left in a Chinese one.  A part may also be named
differently per reader (:meth:`Phrase.for_reader`): a formula's field is `amount` in the English
sentence and ``[金额]`` to a Chinese reader.

A name with a text per language (a label) is a :class:`Localised` param, and a word whose
English form is a key (``long_text``) but whose translation comes from words (``long text``) a
:class:`Term`.  A message that is shown later than it is made (a version's schema plan) is
stored with :func:`to_json` and read back with :func:`from_json`, params and labels included,
so it can still be shown in any language.

Templates are wrapped in :func:`_l` where they are written so that ``pybabel extract`` (which
reads ``tessera/engines/**.py`` with the keyword ``_l``, see ``translations/babel.cfg``) puts them
into the catalogues, and the catalogue test demands their Chinese translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any


def _l(template: str) -> str:
    """Mark ``template`` for the catalogues; it is returned unchanged (translation happens in
    the platform, at the time a message is shown)."""
    return template


def render(template: str, params: Mapping[str, Any]) -> str:
    """``template`` filled with ``params``; the template itself when it cannot be filled (a
    sentence without placeholders may contain a bare ``%``)."""
    if not params:
        return template
    try:
        return template % dict(params)
    except (KeyError, ValueError, TypeError):
        return template


class TemplatedMessage:
    """For the frozen dataclasses that carry a sentence (``message``) with its ``template``
    and ``params`` (a field's error, a formula's error): the template defaults to the message
    (a sentence without values is its own msgid) and the params are a private copy, so a
    caller's dict is never shared."""

    message: str
    template: str
    params: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not self.template:
            object.__setattr__(self, "template", self.message)
        object.__setattr__(self, "params", dict(self.params))


class Phrase:
    """A sentence, or a part of one, not yet in any language: ``template`` (an English msgid
    marked with :func:`_l`) and the ``params`` that fill it, which may be phrases themselves.

    ``str(phrase)`` is the English text (``%s`` of a nested phrase is its own English text)::

        Phrase(_l("%(subject)s; only numbers can be negated"),
               subject=Phrase(_l("%(what)s is %(type)s"), what="name", type=Phrase(_l("a text"))))
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params: dict[str, Any] = params

    def __str__(self) -> str:
        return render(self.template, self.params)

    def for_reader(self, locale: str) -> Phrase | str:
        """What a reader of ``locale`` is shown in place of this phrase: the phrase itself (to
        be translated), unless a subclass reads differently per reader in a way no catalogue
        can say (a formula's field named by its label in that language: ``[金额]``,
        :class:`~tessera.engines.expressions.errors.FieldName`).  A text is shown as it is."""
        return self

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Phrase):
            return NotImplemented
        return (self.template, self.params) == (other.template, other.params)

    __hash__ = None  # type: ignore[assignment]  # params are a dict: equal, never hashed


class Listing(tuple[Any, ...]):
    """Parts of a sentence named one after another (“a date, a number”): ``str()`` joins their
    English with ``", "``; the platform joins their translations the way the reader's language
    lists things (``、`` in Chinese)."""

    __slots__ = ()

    def __str__(self) -> str:
        return ", ".join(str(item) for item in self)


class Refusal(ValueError):
    """A refusal told as a template and its params: ``str(error)`` is the English sentence,
    and the platform shows it in the reader's language (``i18n.error_text``)::

        raise InvalidValue(_l("“%(value)s” is not a date"), value=value)
    """

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params: dict[str, Any] = params
        self.message = render(template, params)
        super().__init__(self.message)


def pick_label(label: Any, locale: str, fallback: str) -> str:
    """A label in ``locale``, else its language, else English, else any, else ``fallback``."""
    if isinstance(label, str):
        return label
    if not isinstance(label, dict) or not label:
        return fallback
    language = locale.split("-")[0]
    for candidate in (locale, language, "en"):
        if candidate in label:
            return str(label[candidate])
    for key, text in label.items():
        if key.split("-")[0] == language:
            return str(text)
    return str(next(iter(label.values())))


class Localised(str):
    """A name with a text per language (a field's or an entity's label) used as a parameter.

    It *is* its English text (``str``), so the English sentence, JSON and comparisons see
    just that; the platform calls :meth:`pick` with the reader's language when it shows the
    message, so a Chinese reader sees “名称”为必填项, not “Name”为必填项.

    ``texts`` is the label as the definition writes it (a text or ``{locale: text}``), kept
    so that a message stored with :func:`to_json` can be read later in any language.
    """

    __slots__ = ("_pick", "texts")
    _pick: Callable[[str], str]
    texts: Any

    def __new__(cls, english: str, pick: Callable[[str], str], texts: Any = None) -> Localised:
        made = super().__new__(cls, english)
        made._pick = pick
        made.texts = dict(texts) if isinstance(texts, Mapping) else texts
        return made

    @classmethod
    def of(cls, label: Any, fallback: str) -> Localised:
        """A label as a definition writes it (a text, ``{locale: text}`` or nothing), read as
        ``fallback`` (the key as words) where it has no text."""
        texts = dict(label) if isinstance(label, Mapping) else label
        return cls(pick_label(texts, "en", fallback), partial(_pick, texts, fallback), texts)

    def pick(self, locale: str) -> str:
        """The text in ``locale`` (or the nearest the definition provides)."""
        return self._pick(locale)


def _pick(texts: Any, fallback: str, locale: str) -> str:
    return pick_label(texts, locale, fallback)


class Term(Phrase):
    """A word the English sentence writes as it is stored (a type key such as ``long_text``)
    and the pages show by its name, translated from its msgid (``Long text``)::

        Phrase(_l("Change the field %(field)s from %(old)s to %(new)s"),
               field=..., old=Term(_l("Long text"), "long_text"), new=Term(_l("Text"), "text"))

    ``str(term)`` is ``english``; the platform translates ``template`` like any phrase (so a
    page reads the name, and the CLI and the logs the key, as they always have).
    """

    __slots__ = ("english",)

    def __init__(self, template: str, english: str) -> None:
        super().__init__(template)
        self.english = english

    def __str__(self) -> str:
        return self.english

    def __repr__(self) -> str:
        return f"Term({self.template!r}, {self.english!r})"


def sentences(parts: Sequence[Any]) -> Any:
    """Sentences said one after another (“…; …”), each in the reader's language: a phrase
    that joins them two by two, so no language needs a list form for them.  One part is
    itself, none an empty text."""
    if not parts:
        return ""
    *head, said = parts
    for part in reversed(head):
        said = Phrase(_l("%(first)s; %(rest)s"), first=part, rest=said)
    return said


# -- storing messages -----------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """``value`` (a message, or a param of one) as JSON, so a message written now can be shown
    later in whatever language its reader speaks; :func:`from_json` reads it back.

    A phrase keeps its template and params, a term its English, a label its texts per
    language; values are kept as they are (numbers, text) or as their text."""
    if isinstance(value, Term):
        return {"term": value.template, "text": value.english}
    if isinstance(value, Phrase):
        return {
            "phrase": value.template,
            "params": {k: to_json(v) for k, v in value.params.items()},
        }
    if isinstance(value, Listing):
        return {"listing": [to_json(item) for item in value]}
    if isinstance(value, Localised):
        return {"label": value.texts, "text": str(value)}
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def from_json(data: Any) -> Any:
    """The message :func:`to_json` wrote (anything else is read as the text it is)."""
    if isinstance(data, Mapping):
        if "term" in data:
            return Term(str(data["term"]), str(data.get("text", data["term"])))
        if "phrase" in data:
            params = data.get("params")
            given = params.items() if isinstance(params, Mapping) else ()
            return Phrase(str(data["phrase"]), **{str(k): from_json(v) for k, v in given})
        if "listing" in data and isinstance(data["listing"], list):
            return Listing(from_json(item) for item in data["listing"])
        if "label" in data:
            english = str(data.get("text", ""))
            texts = data["label"]
            return Localised(english, partial(_pick, texts, english), texts)
        return str(data)
    if data is None or isinstance(data, str | bool | int | float):
        return data
    return str(data)
