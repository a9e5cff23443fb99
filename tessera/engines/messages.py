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

Templates are wrapped in :func:`_l` where they are written so that ``pybabel extract`` (which
reads ``tessera/engines/**.py`` with the keyword ``_l``, see ``translations/babel.cfg``) puts them
into the catalogues, and the catalogue test demands their Chinese translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


class Localised(str):
    """A name with a text per language (a field's or an entity's label) used as a parameter.

    It *is* its English text (``str``), so the English sentence, JSON and comparisons see
    just that; the platform calls :meth:`pick` with the reader's language when it shows the
    message, so a Chinese reader sees “名称”为必填项, not “Name”为必填项."""

    __slots__ = ("_pick",)
    _pick: Callable[[str], str]

    def __new__(cls, english: str, pick: Callable[[str], str]) -> Localised:
        made = super().__new__(cls, english)
        made._pick = pick
        return made

    def pick(self, locale: str) -> str:
        """The text in ``locale`` (or the nearest the definition provides)."""
        return self._pick(locale)
