"""Exports: every record of a list query as CSV or XLSX, streamed page by page.

Rows are read with the records service's keyset pages (so the export sees exactly what the
actor may see, filtered and sorted as the list is) and written as they come: CSV row by row to
the response, XLSX through openpyxl's write-only workbook into a temporary file that is then
streamed (a ZIP's directory is written last, so an XLSX cannot leave before it is complete).

CSV is UTF-8 with a BOM, which Excel (the Chinese edition included) needs to open UTF-8.  Every
text cell that a spreadsheet could take for a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab, a carriage return or NUL, possibly after spaces) is prefixed with ``'`` (OWASP, ASVS
1.2.10); plain numbers such as ``-12.50`` are left alone.  Imports strip that prefix again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import IO, Any

from tessera.engines.definitions import EntityModel, FieldModel
from tessera.engines.definitions.fields.base import option_label
from tessera.engines.forms import ListQuery, RecordService

PAGE = 500
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_NUMERIC = ("integer", "decimal", "currency", "percent", "rating", "duration")


def neutralise(text: str) -> str:
    """``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``; numbers and ordinary text unchanged."""
    if not text:
        return text
    stripped = text.lstrip(" ")
    if (text[0] in DANGEROUS_START or stripped[:1] in DANGEROUS_START) and not _PLAIN_NUMBER.match(
        text
    ):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """What :func:`neutralise` made of a cell, back (for re-imported exports)."""
    if text.startswith("'") and len(text) > 1 and text[1:].lstrip(" ")[:1] in DANGEROUS_START:
        return text[1:]
    return text


def header(entity: EntityModel, columns: Sequence[str], locale: str) -> list[str]:
    return [neutralise(entity.field(key).label(locale)) for key in columns]


def cell(f: FieldModel, value: Any, locale: str, *, typed: bool) -> Any:
    """A value as one spreadsheet cell: select options as pages show them (their label, else
    their key as words; imports accept both), the rest as the field type exports it; ``typed``
    keeps numbers and dates native (XLSX)."""
    if value is None:
        return None
    kind = f.type
    stored = f.spec.get("_stored") or {}
    if kind in ("formula", "rollup", "lookup"):
        kind = stored.get("type", kind)
    if kind in ("link", "multi_link") and isinstance(value, str):
        return neutralise(value)  # the linked records' titles (see :func:`with_titles`)
    if kind in ("select", "multi_select"):
        spec = stored or f.spec  # a lookup of a select names the options of the field it reads
        if kind == "select":
            return neutralise(option_label(spec, value, locale))
        return neutralise(", ".join(option_label(spec, v, locale) for v in value))
    if typed:
        if (
            kind in _NUMERIC
            and isinstance(value, int | Decimal | float)
            and not isinstance(value, bool)
        ):
            return value
        if kind == "boolean" and isinstance(value, bool):
            return value
        if kind == "date" and isinstance(value, dt.date):
            return value
        if kind == "datetime" and isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no time zones
    exported = f.kind.to_export(f.spec, value)
    if isinstance(exported, bool):
        return "true" if exported else "false"
    if isinstance(exported, str):
        return neutralise(exported)
    return exported


def records(
    service: RecordService, entity: str, query: ListQuery, *, locale: str = "en"
) -> Iterator[dict[str, Any]]:
    """Every record of ``query``, page after page (keyset pages: constant cost per page), with
    link fields as the linked records' titles (:func:`with_titles`)."""
    model = service.entity(entity)
    page_query = replace(query, limit=PAGE, after=None, with_total=False)
    while True:
        page = service.list(entity, page_query)
        yield from with_titles(service, model, page.records, locale)
        if page.next_cursor is None:
            return
        page_query = replace(page_query, after=page.next_cursor)


def with_titles(
    service: RecordService, entity: EntityModel, page: list[dict[str, Any]], locale: str
) -> list[dict[str, Any]]:
    """A page of records whose link and multi-link values are the linked records' titles (a
    multi link's joined by ", "), as people read them; a spreadsheet of ids means nothing to
    them.  The titles are read through the same scoped service, one query per link field and
    page: a linked record the exporter may not see, or whose title field is hidden from them,
    shows as ``#id`` (the id is what the record itself holds), never its title."""
    links = [f for f in entity.fields if f.type in ("link", "multi_link") and f.target]
    links = [f for f in links if any(f.key in r for r in page)]
    for f in links:
        wanted = sorted({i for r in page for i in _link_ids(r.get(f.key))})
        titles = _titles(service, str(f.target), wanted, locale) if wanted else {}
        for record in page:
            ids = _link_ids(record.get(f.key))
            if record.get(f.key) is not None:
                record[f.key] = ", ".join(titles.get(i) or f"#{i}" for i in ids)
    return page


def _link_ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(i) for i in (value if isinstance(value, list) else [value])]


def _titles(service: RecordService, target: str, ids: list[int], locale: str) -> dict[int, str]:
    model = service.entity(target)
    title = model.title if model.title and model.has_field(model.title) else None
    if title is None or title in service.hidden(model):
        return {}
    f = model.field(title)
    found: dict[int, str] = {}
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        page = service.list(
            target,
            ListQuery(filter={"field": "id", "op": "in", "value": chunk}, fields=[title],
                      limit=PAGE),
        )  # fmt: skip
        for record in page.records:
            value = record.get(title)
            if value is not None:
                found[int(record["id"])] = f.kind.format(f.spec, value, locale)
    return found


def csv_chunks(
    entity: EntityModel, columns: Sequence[str], rows: Iterator[dict[str, Any]], locale: str
) -> Iterator[bytes]:
    """The CSV file in chunks of about 64 KB: BOM and header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header(entity, columns, locale))
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    fields = [entity.field(key) for key in columns]
    for record in rows:
        writer.writerow(
            [
                "" if (v := cell(f, record.get(f.key), locale, typed=False)) is None else v
                for f in fields
            ]
        )
        if buffer.tell() > 65536:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(
    entity: EntityModel,
    columns: Sequence[str],
    rows: Iterator[dict[str, Any]],
    locale: str,
    title: str,
) -> IO[bytes]:
    """The XLSX file in a temporary file (rewound), written with openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1")
    bold = Font(bold=True)
    heads = []
    for text in header(entity, columns, locale):
        head = WriteOnlyCell(sheet, value=text)
        head.font = bold
        heads.append(head)
    sheet.append(heads)
    fields = [entity.field(key) for key in columns]
    for record in rows:
        values = []
        for f in fields:
            value = cell(f, record.get(f.key), locale, typed=True)
            if isinstance(value, str):
                value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)  # XML 1.0
            values.append(value)
        sheet.append(values)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - streamed later
    book.save(out)
    out.seek(0)
    return out


def file_chunks(handle: IO[bytes], size: int = 65536) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()
