"""Each field type's input and display on the runtime pages, and form values read back.

``INPUTS`` maps a field type to the input macro in ``pages/widgets.html``; ``DISPLAYS`` to the
display macro.  :func:`read_form` turns a submitted form (names ``amount``, ``lines.0.qty``,
``where.lat``) into the values the records service takes; the service does the validating, so
this only undoes what HTML forms do to values (everything is text, unchecked boxes are absent,
date-time inputs are local time).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import nh3
from babel import Locale
from babel import dates as babel_dates
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from tessera.engines.definitions import EntityModel, FieldModel
from tessera.engines.definitions.fields.base import babel_locale, option_keys, option_label
from tessera.engines.forms import FieldError

INPUTS: dict[str, str] = {
    "text": "text", "email": "email", "phone": "phone", "url": "url",
    "long_text": "textarea", "rich_text": "rich_text", "json": "json",
    "integer": "number", "decimal": "number", "currency": "number", "percent": "number",
    "duration": "duration", "rating": "rating", "boolean": "boolean",
    "date": "date", "datetime": "datetime", "time": "time",
    "select": "select", "multi_select": "multi_select",
    "user": "choose", "department": "choose",
    "link": "link", "multi_link": "multi_link", "child_table": "child_table",
    "attachment": "files", "image": "files", "location": "location",
    "auto_number": "computed", "formula": "computed", "rollup": "computed", "lookup": "computed",
}  # fmt: skip
DISPLAYS: dict[str, str] = {
    "select": "badge", "multi_select": "chips", "boolean": "yes_no", "rating": "stars",
    "url": "url", "email": "email", "phone": "phone", "rich_text": "html",
    "attachment": "files", "image": "images", "child_table": "rows",
    "link": "link", "multi_link": "links", "location": "location",
}  # fmt: skip
ROW = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{1,4})\.([a-z][a-z0-9_]*)$")
COMPUTED = frozenset({"auto_number", "formula", "rollup", "lookup"})
MAX_ROWS = 500


def label_of(f: FieldModel, locale: str) -> str:
    """A field's label; a field without one shows its key as words (``close_date`` → Close
    date: :func:`~tessera.engines.definitions.humanise`, the model's own fallback)."""
    return f.label(locale)


def input_of(f: FieldModel) -> str:
    return INPUTS.get(f.type, "text")


def display_of(f: FieldModel) -> str:
    return DISPLAYS.get(f.type, "text")


def options(f: FieldModel, locale: str) -> list[tuple[str, str, str]]:
    """``(key, label, colour)`` of a select field's options."""
    out = []
    for option in f.spec.get("options", ()):
        key = option["key"] if isinstance(option, Mapping) else str(option)
        colour = option.get("color", "") if isinstance(option, Mapping) else ""
        out.append((key, option_label(f.spec, key, locale), str(colour or "")))
    return out


def option_tone(f: FieldModel, key: Any) -> int:
    """A stable colour slot (0–7) for an option without a colour of its own."""
    keys = option_keys(f.spec)
    return keys.index(key) % 8 if key in keys else 0


@dataclass
class Titles:
    """Display names of linked records, users and departments, fetched once per page."""

    records: dict[tuple[str, int], str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    departments: dict[int, str] = field(default_factory=dict)

    def of(self, f: FieldModel, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, Mapping):
            value = value.get("id")
        if f.type == "user":
            return self.users.get(int(value), f"#{value}")
        if f.type == "department":
            return self.departments.get(int(value), f"#{value}")
        return self.records.get((str(f.target), int(value)), f"#{value}")


def text(f: FieldModel, value: Any, locale: str, tz: str, titles: Titles | None = None) -> str:
    """A value as plain display text in ``locale`` and the user's time zone."""
    if value is None or value == [] or value == "":
        return ""
    titles = titles or Titles()
    if f.type in ("link", "user", "department"):
        return titles.of(f, value)
    if f.type == "multi_link":
        return ", ".join(titles.of(f, v) for v in value)
    if f.type == "child_table":
        return str(len(value))
    stored = (f.spec.get("_stored") or {}).get("type") or f.spec.get("result")
    if f.type == "datetime" or (f.type in COMPUTED and stored == "datetime"):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return babel_dates.format_datetime(
            moment, "medium", tzinfo=ZoneInfo(tz), locale=parsed_locale(locale)
        )
    try:
        if f.type in BABEL_TYPES:
            # Babel's Locale.parse hands a Locale back as it is (documented), so the parsed
            # locale is reused instead of being parsed again for every cell of a list.
            return f.kind.format(f.spec, value, parsed_locale(locale))  # type: ignore[arg-type]
        return f.kind.format(f.spec, value, locale)
    except (ValueError, TypeError, KeyError, ArithmeticError):
        return str(value)


#: field types whose ``format`` only hands the locale to Babel
BABEL_TYPES = frozenset({"integer", "decimal", "currency", "date", "time"})


@functools.lru_cache(maxsize=16)
def parsed_locale(locale: str) -> Locale:
    return babel_locale(locale)


_CHECK = (
    '<svg class="icon" width="16" height="16" viewBox="0 0 24 24" fill="none" '
    'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" '
    'aria-hidden="true" '
    'focusable="false"><path d="m5 12.5 4.5 4.5L19 7.5"/></svg>'
)
_FILE = (
    '<svg class="icon" width="16" height="16" viewBox="0 0 24 24" fill="none" '
    'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" '
    'aria-hidden="true" '
    'focusable="false"><path d="M6 3h8l4 4v14H6z"/><path d="M14 3v4h4"/></svg>'
)
BLANK = Markup('<span class="rt-blank">—</span>')


def _size(n: Any) -> str:
    size = float(n or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def display_html(
    f: FieldModel, value: Any, titles: Titles, app: str, locale: str, tz: str
) -> Markup:
    """A value as safe HTML for a record page, a list cell or a card.  Every piece of text
    is escaped here and rich text is cleaned again with nh3.  Written in Python rather than as
    a template macro because a list page calls it for every cell."""
    if value is None or value == "" or value == []:
        return BLANK
    html = _display(display_of(f), f, value, titles, escape(app), locale, tz)
    return Markup(html)  # noqa: S704 - _display escapes every value it puts in


def _display(
    kind: str, f: FieldModel, value: Any, titles: Titles, app: str, locale: str, tz: str
) -> str:
    def badge(key: Any) -> str:
        shown = escape(option_label(f.spec, key, locale))
        return f'<span class="rt-badge tone-{option_tone(f, key)}">{shown}</span>'

    def link(target: Any) -> str:
        href = f"/apps/{app}/{escape(f.target)}/{int(target)}"
        return f'<a class="rt-link-chip" href="{href}">{escape(titles.of(f, target))}</a>'

    if kind == "text":
        return str(escape(text(f, value, locale, tz, titles)))
    if kind == "badge":
        return badge(value)
    if kind == "chips":
        return "".join(badge(key) for key in value)
    if kind == "yes_no":
        if value:
            return f'<span class="rt-yes">{_CHECK}{escape(_("Yes"))}</span>'
        return f'<span class="muted">{escape(_("No"))}</span>'
    if kind == "stars":
        top = int(f.spec.get("max", 5))
        stars = "".join(
            f'<span class="{"on" if n <= value else "off"}">★</span>' for n in range(1, top + 1)
        )
        label = escape(_("%(n)d of %(max)d", n=value, max=top))
        return f'<span class="rt-stars" role="img" aria-label="{label}">{stars}</span>'
    if kind in ("url", "email", "phone"):
        scheme = {"url": "", "email": "mailto:", "phone": "tel:"}[kind]
        extra = ' target="_blank" rel="noopener noreferrer nofollow"' if kind == "url" else ""
        return f'<a href="{scheme}{escape(value)}"{extra}>{escape(value)}</a>'
    if kind == "html":
        return f'<div class="rt-rich">{nh3.clean(str(value))}</div>'
    if kind in ("files", "images"):
        return _files(kind, value)
    if kind == "link":
        return link(value).replace(' class="rt-link-chip"', "")
    if kind == "links":
        return "".join(link(target) for target in value)
    if kind == "location":
        lat, lng = float(value["lat"]), float(value["lng"])
        osm = f"https://www.openstreetmap.org/?mlat={lat}&amp;mlon={lng}#map=15/{lat}/{lng}"
        return (
            f'<span>{escape(text(f, value, locale, tz, titles))}</span> <a class="small" '
            f'href="{osm}" target="_blank" rel="noopener noreferrer">{escape(_("Map"))}</a>'
        )
    if kind == "rows":
        return f"<span>{escape(_('%(n)d rows', n=len(value)))}</span>"
    return str(escape(text(f, value, locale, tz, titles)))


def _files(kind: str, refs: list[Mapping[str, Any]]) -> str:
    items = []
    for ref in refs:
        file_id, name = quote(str(ref.get("id", ""))), str(ref.get("name", ""))
        href = f"/files/{file_id}/{quote(name)}"
        if kind == "images":
            items.append(
                f'<a class="rt-thumb" href="{href}"><img src="/files/{file_id}?inline=1" '
                f'alt="{escape(name)}" loading="lazy"></a>'
            )
        else:
            items.append(
                f'<li class="rt-file">{_FILE}<a href="{href}">{escape(name)}</a>'
                f'<span class="muted small">{_size(ref.get("size"))}</span></li>'
            )
    if kind == "images":
        return f'<div class="rt-thumbs">{"".join(items)}</div>'
    return f'<ul class="rt-file-list">{"".join(items)}</ul>'


def table_rows(
    records: list[dict[str, Any]],
    columns: list[FieldModel],
    titles: Titles,
    *,
    app: str,
    entity: str,
    locale: str,
    tz: str,
    labels: Mapping[str, str],
    select_label: str,
) -> Markup:
    """The ``<tr>`` rows of a list page: a selection box, the first column as the record's
    link, then each value as :func:`display_html` shows it (one Python loop, not 50 × columns
    template calls)."""
    numeric = {f.key for f in columns if f.type in ("integer", "decimal", "currency", "percent")}
    out: list[str] = []
    for record in records:
        record_id = int(record["id"])
        cells = [
            f'<tr><td class="rt-check-cell"><input type="checkbox" name="ids" value="{record_id}" '
            f'form="bulk" data-row-check aria-label="{escape(select_label)} #{record_id}"></td>'
        ]
        for n, f in enumerate(columns):
            css = ' class="rt-num-cell"' if f.key in numeric else ""
            value = record.get(f.key)
            if n == 0:
                shown = escape(text(f, value, locale, tz, titles) or f"#{record_id}")
                href = f"/apps/{escape(app)}/{escape(entity)}/{record_id}"
                inner = f'<a class="row-link" href="{href}">{shown}</a>'
            else:
                inner = str(display_html(f, value, titles, app, locale, tz))
            cells.append(f'<td{css} data-label="{escape(labels.get(f.key, f.key))}">{inner}</td>')
        cells.append("</tr>")
        out.append("".join(cells))
    return Markup("\n".join(out))  # noqa: S704 - every value above is escaped


def input_value(f: FieldModel, value: Any, tz: str) -> str:
    """A stored value as the text an ``<input>`` holds; text a field type refused (a form shown
    again with its errors) stays as the user typed it."""
    if value is None:
        return ""
    if isinstance(value, str) and f.type in ("date", "time", "duration"):
        return value
    if f.type == "datetime":
        try:
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)
        return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    if f.type in ("date", "time"):
        iso = str(value.isoformat())
        return iso[:5] if f.type == "time" else iso
    if f.type == "json":
        return json.dumps(value, ensure_ascii=False, indent=2)
    if f.type == "duration":
        return f.kind.format(f.spec, value)
    return str(value)


# -- reading a submitted form -----------------------------------------------------------------


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def read_value(
    f: FieldModel, form: MultiDict[str, str], name: str, tz: str
) -> tuple[bool, Any, str | None]:
    """``(present, value, problem)`` for one input (or input group) named ``name``."""
    kind = f.type
    if kind == "boolean":
        if f"{name}.present" not in form and name not in form:
            return False, None, None
        raw = form.get(name)
        return True, raw in ("1", "on", "true", "yes"), None
    if kind in ("multi_select", "multi_link"):
        if f"{name}.present" not in form and name not in form:
            return False, None, None
        return True, [v for v in form.getlist(name) if v.strip()], None
    if kind == "location":
        if f"{name}.lat" not in form:
            return False, None, None
        lat, lng = form.get(f"{name}.lat", ""), form.get(f"{name}.lng", "")
        if _blank(lat) and _blank(lng):
            return True, None, None
        return True, {"lat": lat.strip(), "lng": lng.strip()}, None
    if name not in form:
        return False, None, None
    raw = form.get(name, "")
    if _blank(raw):
        return True, None, None
    if kind == "datetime":
        try:
            local = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            return True, None, "invalid_datetime"
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(tz))
        return True, local.astimezone(dt.UTC).isoformat(), None
    if kind == "json":
        try:
            return True, json.loads(raw), None
        except ValueError:
            return True, None, "invalid_json"
    if kind in ("text", "email", "phone", "url", "select", "link", "user", "department"):
        return True, raw.strip(), None
    return True, raw, None


def read_form(
    entity: EntityModel,
    child_entities: Mapping[str, EntityModel],
    form: MultiDict[str, str],
    editable: Iterable[str],
    tz: str,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The values of the ``editable`` fields found in ``form``, and problems found on the way
    (only those HTML itself causes: malformed JSON, a date-time that is no date-time)."""
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for key in editable:
        f = entity.field(key)
        if f.type in COMPUTED or f.type in ("attachment", "image"):
            continue
        if f.type == "child_table":
            if f"{key}.present" in form:
                rows, row_problems = _read_rows(f, child_entities[key], form, tz)
                values[key] = rows
                problems += row_problems
            continue
        present, value, problem = read_value(f, form, key, tz)
        if problem:
            problems.append(FieldError(key, problem_text(problem), problem))
        elif present:
            values[key] = value
    return values, problems


def problem_text(code: str) -> str:
    """What to tell the user about an input HTML let through but no field type can read."""
    if code == "invalid_json":
        return str(_("this is not valid JSON"))
    return str(_("this is not a date and time"))


def _read_rows(
    f: FieldModel, child: EntityModel, form: MultiDict[str, str], tz: str
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Child rows from ``lines.<n>.<field>`` inputs, in the order of ``n``; a new row left
    entirely blank is dropped (forms show one empty row to type into)."""
    indexes: set[int] = set()
    prefix = f"{f.key}."
    for name in form:
        if name.startswith(prefix):
            match = ROW.match(
                name.removesuffix(".present").removesuffix(".lat").removesuffix(".lng")
            )
            if match and match.group(1) == f.key:
                indexes.add(int(match.group(2)))
    rows: list[dict[str, Any]] = []
    problems: list[FieldError] = []
    for n in sorted(indexes)[:MAX_ROWS]:
        position = len(rows)
        row: dict[str, Any] = {}
        for cf in child.fields:
            if cf.type in COMPUTED or cf.type in ("attachment", "image", "child_table"):
                continue
            present, value, problem = read_value(cf, form, f"{f.key}.{n}.{cf.key}", tz)
            if problem:
                problems.append(
                    FieldError(f"{f.key}[{position}].{cf.key}", problem_text(problem), problem)
                )
            elif present:
                row[cf.key] = value
        row_id = form.get(f"{f.key}.{n}.id", "")
        filled = any(v not in (None, [], False) for v in row.values())
        if row_id.isdigit():
            row["id"] = int(row_id)
        elif not filled:
            continue
        rows.append(row)
    return rows, problems
