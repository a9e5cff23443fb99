"""Text-like field types: text, long text, rich text, email, phone and URL."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

import nh3
import sqlalchemy as sa

from tessera.engines.definitions.fields.base import (
    TEXT_OPS,
    FieldType,
    InvalidValue,
    Spec,
    normalise,
    require_text,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import _l

_WORDS = ("alpha", "delta", "harbor", "lotus", "maple", "nova", "orbit", "summit", "华东", "星辰")


class Text(FieldType):
    name = "text"
    display_name = _l("Text")
    value_type = ValueType.TEXT
    operators: ClassVar[tuple[str, ...]] = TEXT_OPS
    default_length: ClassVar[int] = 255

    def max_length(self, spec: Spec) -> int:
        return int(spec.get("max_length", self.default_length))

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length(spec))

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        text = require_text(value)
        if len(text) > self.max_length(spec):
            raise InvalidValue(
                _l("this text is too long: at most %(limit)s characters"),
                limit=self.max_length(spec),
            )
        return text

    def validator(self, spec: Spec) -> Callable[[Any], Any]:
        """The length limit read from the spec once; a string within it is returned as it is,
        anything else goes through :meth:`validate` (same results and refusals).  A subclass
        that validates otherwise (rich text sanitises) keeps its own :meth:`validate`."""
        validate = partial(self.validate, spec)
        if type(self).validate is not Text.validate:
            return validate
        limit = self.max_length(spec)

        def check(value: Any) -> Any:
            if type(value) is str and len(value) <= limit:
                return value
            return validate(value)

        return check

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return f"{rng.choice(_WORDS)} {rng.randint(1, 999)}"[: self.max_length(spec)]


class LongText(Text):
    name = "long_text"
    display_name = _l("Long text")
    default_length = 1_000_000

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return "\n".join(" ".join(rng.choice(_WORDS) for _ in range(8)) for _ in range(2))


class RichText(LongText):
    """HTML from the editor, sanitised with nh3 on the way in so stored text is always safe."""

    name = "rich_text"
    display_name = _l("Rich text")
    operators: ClassVar[tuple[str, ...]] = ("contains", "not_contains", "is_empty", "is_not_empty")

    def validate(self, spec: Spec, value: Any) -> Any:
        text = super().validate(spec, value)
        return None if text is None else nh3.clean(text)

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        """Display text without markup (the HTML itself is rendered by templates)."""
        return "" if value is None else re.sub(r"<[^>]+>", "", value)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return f"<p><strong>{rng.choice(_WORDS)}</strong> {rng.choice(_WORDS)}</p>"


class _CheckedText(Text):
    """Text with a fixed shape: blanks pass, anything else is normalised, then checked."""

    def validate(self, spec: Spec, value: Any) -> Any:
        text = super().validate(spec, value)
        return None if text is None else self.canonical(normalise(text), value)

    def canonical(self, text: str, value: Any) -> str:
        """The stored form of ``text`` (already normalised); ``value`` is what was given."""
        raise NotImplementedError

    def validator(self, spec: Spec) -> Callable[[Any], Any]:
        """As :meth:`validate`, with the limit read once and ASCII text (which NFKC leaves as
        it is) only trimmed before :meth:`canonical`."""
        validate, canonical = partial(self.validate, spec), self.canonical
        if type(self).validate is not _CheckedText.validate:
            return validate
        limit = self.max_length(spec)

        def check(value: Any) -> Any:
            if type(value) is str and len(value) <= limit and value.isascii():
                return canonical(value.strip(), value)
            return validate(value)

        return check


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Email(_CheckedText):
    name = "email"
    display_name = _l("Email")
    default_length = 254

    def canonical(self, text: str, value: Any) -> str:
        if not _EMAIL_RE.match(text):
            raise InvalidValue(_l("“%(value)s” is not an email address"), value=value)
        local, domain = text.rsplit("@", 1)
        return f"{local}@{domain.lower()}"

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return f"{rng.choice(_WORDS[:8])}{rng.randint(1, 99)}@example.com"


_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-.]{4,30}(?:(?:ext\.?|x|转)\s*[0-9]{1,6})?$")


class Phone(_CheckedText):
    name = "phone"
    display_name = _l("Phone")
    default_length = 40

    def canonical(self, text: str, value: Any) -> str:
        if not _PHONE_RE.match(text):
            raise InvalidValue(_l("“%(value)s” is not a phone number"), value=value)
        return text

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return f"+86 138 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


class Url(_CheckedText):
    """http(s) addresses only: ``javascript:`` and ``file:`` links never reach a page."""

    name = "url"
    display_name = _l("Web address")
    default_length = 2048

    def canonical(self, text: str, value: Any) -> str:
        if "://" not in text and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", text, re.I):
            text = f"https://{text}"
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidValue(
                _l("“%(value)s” is not a web address (http:// or https://)"), value=value
            )
        return text

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return f"https://{rng.choice(_WORDS[:8])}.example.com/"
