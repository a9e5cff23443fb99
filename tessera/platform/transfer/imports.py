"""Imports: a CSV or XLSX file into an entity, as a background job with progress.

1. :func:`store_upload` keeps the file under ``<instance>/imports/`` by a random name, sniffs
   what it is from its bytes (an XLSX is a ZIP; anything else must decode as text: BOM,
   UTF-8, else charset-normalizer's guess, GB2312/GBK widened to GB18030), reads the header and
   proposes a mapping (:func:`auto_map`: by field key or by label in any locale).
2. The user edits the mapping and chooses the options; :func:`submit` queues the job.
3. :func:`run` (the ``transfer.import`` task) checks the user's rights again (:mod:`.rights`),
   streams the rows (csv reader / openpyxl read-only: never the whole file in memory),
   converts each cell with a converter built once per field (:func:`converter`: the field
   type's ``from_import`` for Chinese Excel habits — ``2024/3/5``, ``是/否``, ``¥1,234.50`` —
   or, for plain text cells, a trim, leaving validation to the service), and writes batches of
   :data:`BATCH` rows through the records service (``bulk_create``/``bulk_update``, so
   validation, defaults, formulas, search index, audit and events apply), publishing progress
   to Redis after each (:mod:`.progress`).  ``upsert`` updates the record whose unique field has the
   row's value and creates the others.  ``all_or_nothing`` keeps one transaction and rolls it
   back if any row failed; ``skip`` commits each batch without its bad rows.  A dry run does
   everything and rolls back.  Every problem goes to a CSV report: row, column, value, message.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tessera.engines.definitions import EntityModel, FieldModel
from tessera.engines.definitions.fields import FieldType, InvalidValue
from tessera.engines.forms import (
    AllowAll,
    FieldError,
    ListQuery,
    RecordService,
    ValidationFailed,
)
from tessera.engines.forms.reads import MAX_LIMIT
from tessera.engines.forms.search import tidy
from tessera.engines.messages import Phrase, Refusal, _l
from tessera.platform import apps, jobs
from tessera.platform.files import EMPTY, TOO_LARGE
from tessera.platform.i18n import error_text, message_text
from tessera.platform.identity.current import load_identity
from tessera.platform.models import Import, utcnow
from tessera.platform.records import scope_for, service_for
from tessera.platform.runtime import Platform
from tessera.platform.transfer import rights
from tessera.platform.transfer.exports import unneutralise
from tessera.platform.transfer.progress import Publisher

BATCH = 1000  # rows per bulk_create call: the records service's own chunk
UPSERT_LOOKUP = MAX_LIMIT  # keys looked up per list call when upserting (one page's worth)
MAX_COLUMNS = 200
MAX_REPORTED_ERRORS = 100_000
#: what the audit trail says an import's writes came from (``Actor.source``): ``import:<id>``
SOURCE_PREFIX = "import:"
#: an import that wrote at least this many rows, and a tenth of the table, tidies the entity's
#: search index afterwards (a job of its own: ``search.tidy``)
TIDY_AFTER = 5 * BATCH
SAMPLE_BYTES = 256 * 1024
MODES = ("create", "upsert")
ON_ERROR = ("all_or_nothing", "skip")
_UNMAPPABLE = ("child_table",)


class UploadRefused(Refusal):
    """The file cannot be imported; the message says why, for the person who uploaded it (in
    their language: a template and its params, as every refusal)."""


# -- files -------------------------------------------------------------------------------------


def folder(platform: Platform) -> Path:
    path = Path(platform.settings.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff(head: bytes) -> str:
    """``xlsx`` for a ZIP (what XLSX files are), else ``csv``; the name's extension is ignored."""
    return "xlsx" if head.startswith(b"PK\x03\x04") else "csv"


def detect_encoding(sample: bytes) -> str:
    """The text encoding of a CSV file from its first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\0" in sample:
        raise UploadRefused(_l("this is not a CSV or XLSX file"))
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 3:  # a character cut by the end of the sample
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise UploadRefused(
            _l("the file's text encoding could not be recognised; save it as UTF-8 CSV")
        )
    name = best.encoding.lower().replace("-", "_")
    if name in ("gb2312", "gbk", "gb18030", "hz", "big5") or name.startswith("cp936"):
        return "gb18030" if name != "big5" else "big5"
    return best.encoding


def rows(path: Path, kind: str, encoding: str | None) -> Iterator[list[Any]]:
    """Every row of the file (the header first), streamed."""
    if kind == "xlsx":
        from openpyxl import load_workbook

        with path.open("rb") as handle:  # a file object: openpyxl would judge a path by its name
            book = load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                for values in sheet.iter_rows(values_only=True):
                    yield list(values)
            finally:
                book.close()
        return
    with path.open(encoding=encoding or "utf-8", errors="replace", newline="") as handle:
        sample = handle.read(8192)
        handle.seek(0)
        if sample.startswith("\ufeff"):  # a BOM the codec keeps (GB18030's, for one)
            handle.read(1)
        try:
            dialect: Any = csv.Sniffer().sniff(sample.lstrip("\ufeff"), delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(handle, dialect)


def count_rows(path: Path, kind: str, encoding: str | None) -> int:
    if kind == "xlsx":
        from openpyxl import load_workbook

        with path.open("rb") as handle:
            book = load_workbook(handle, read_only=True)
            try:
                return max((book.worksheets[0].max_row or 1) - 1, 0)
            finally:
                book.close()
    return max(sum(1 for _ in rows(path, kind, encoding)) - 1, 0)


def store_upload(
    platform: Platform,
    session: Session,
    stream: IO[bytes],
    file_name: str,
    *,
    app: str,
    entity: EntityModel,
    user_id: int | None,
    max_bytes: int,
    writable: set[str] | None = None,
) -> Import:
    """Save the upload by a random name, check it, read its header, and record it."""
    stored = secrets.token_hex(16)
    path = folder(platform) / stored
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                path.unlink(missing_ok=True)
                raise UploadRefused(TOO_LARGE, limit=max_bytes // (1024 * 1024))
            out.write(chunk)
    try:
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
        if not head:
            raise UploadRefused(EMPTY)
        kind = sniff(head)
        encoding = None
        if kind == "xlsx":
            try:
                with zipfile.ZipFile(path) as archive:
                    if "xl/workbook.xml" not in archive.namelist():
                        raise UploadRefused(_l("this ZIP file is not an Excel workbook (XLSX)"))
            except zipfile.BadZipFile:
                raise UploadRefused(_l("this Excel file is damaged")) from None
        else:
            encoding = detect_encoding(head)
        try:
            first = next(rows(path, kind, encoding), [])
        except Exception as error:  # openpyxl raises many kinds for a broken workbook
            raise UploadRefused(_l("the file could not be read as CSV or XLSX")) from error
        columns = [_header_text(v) for v in first][:MAX_COLUMNS]
        if not any(columns):
            raise UploadRefused(_l("the first row must hold the column names"))
    except UploadRefused:
        path.unlink(missing_ok=True)
        raise
    record = Import(
        app=app,
        entity=entity.key,
        file_name=file_name[:255] or "upload",
        stored_name=stored,
        file_kind=kind,
        encoding=encoding,
        size=size,
        columns=columns,
        mapping=auto_map(entity, columns, writable),
        options={},
        status="uploaded",
        created_by=user_id,
    )
    session.add(record)
    session.flush()
    return record


def _header_text(value: Any) -> str:
    return "" if value is None else str(value).strip()[:200]


# -- mapping -------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-:：*()（）]+", "", unicodedata.normalize("NFKC", text)).casefold()


def importable(entity: EntityModel, writable: set[str] | None = None) -> list[FieldModel]:
    """Fields a file may fill: not computed, not read-only, not child tables, and (with
    ``writable``, the user's permission scope) only fields the user may write."""
    return [
        f
        for f in entity.fields
        if not f.kind.computed
        and not f.spec.get("read_only")
        and f.type not in _UNMAPPABLE
        and (writable is None or f.key in writable)
    ]


def auto_map(
    entity: EntityModel, columns: Sequence[str], writable: set[str] | None = None
) -> list[str | None]:
    """Each column's field, matched by key or by a label in any locale (first match wins); a
    field without a label is matched by its key and by the key read as words, which is what its
    exports head the column with (``order_line`` and ``Order line`` both map)."""
    names: dict[str, str] = {}
    for f in importable(entity, writable):
        for text in (f.key, *f.labels.values(), f.label()):
            names.setdefault(_norm(text), f.key)
    taken: set[str] = set()
    mapping: list[str | None] = []
    for column in columns:
        key = names.get(_norm(column)) if column else None
        mapping.append(key if key and key not in taken else None)
        if key:
            taken.add(key)
    return mapping


def check_plan(
    entity: EntityModel,
    columns: Sequence[str],
    mapping: Sequence[Any],
    options: Mapping[str, Any],
    writable: set[str] | None = None,
) -> list[str]:
    """Problems with a chosen mapping and options, as sentences (empty when fine)."""
    problems = []
    allowed = {f.key for f in importable(entity, writable)}
    chosen = [m for m in mapping if m]
    if len(mapping) != len(columns) or any(m not in allowed for m in chosen):
        problems.append("the mapping names a field that cannot be imported")
    if len(set(chosen)) != len(chosen):
        problems.append("two columns are mapped to the same field")
    if not chosen:
        problems.append("map at least one column to a field")
    if options.get("mode") not in MODES or options.get("on_error") not in ON_ERROR:
        problems.append("choose how to import and what to do with bad rows")
    if options.get("mode") == "upsert":
        key = options.get("unique_field")
        if key not in chosen or not entity.has_field(str(key)) or not _unique(entity, str(key)):
            problems.append(
                "to update existing records, map a unique field and choose it as the key"
            )
    return problems


def _unique(entity: EntityModel, key: str) -> bool:
    f = entity.field(key)
    return bool(f.spec.get("unique")) or any(
        i.unique and i.fields == (key,) for i in entity.indexes
    )


def unique_fields(entity: EntityModel, writable: set[str] | None = None) -> list[FieldModel]:
    return [f for f in importable(entity, writable) if _unique(entity, f.key)]


def submit(
    platform: Platform,
    session: Session,
    record: Import,
    mapping: list[str | None],
    options: dict[str, Any],
) -> None:
    record.mapping = mapping
    record.options = options
    record.status = "queued"
    job = jobs.submit(
        session, platform, "transfer.import", created_by=record.created_by, import_id=record.id
    )
    record.job_id = job.id


# -- running -------------------------------------------------------------------------------------


def converter(f: FieldModel, *, validate: bool = False) -> Callable[[Any], Any]:
    """One field's cell → value conversion, worked out once per import (not per cell).

    A text cell of a field type without its own ``from_import`` (the default: trimmed, blank
    is None, then the type's ``validate``) is only trimmed here: the records service
    validates every value it writes anyway, with the same ``validate`` and the same message,
    so the value is validated once instead of twice.  Other types (selects by label, multi
    links, attachments, JSON…), typed XLSX cells and ``validate=True`` (the upsert key, which
    is looked up before the write) convert with ``from_import``."""
    spec, from_import = f.spec, f.kind.from_import
    own_import = validate or type(f.kind).from_import is not FieldType.from_import
    is_date = f.type == "date"

    def convert(raw: Any) -> Any:
        if type(raw) is str:
            if raw[:1] == "'":
                raw = unneutralise(raw)
            if not own_import:
                text = raw.strip()
                return text or None
        elif is_date and isinstance(raw, dt.datetime):
            raw = raw.date()
        return from_import(spec, raw)

    return convert


@dataclass(eq=False)  # rows are compared by identity: batches hold hundreds
class Row:
    number: int  # the row's number in the file (the header is row 1)
    cells: list[Any]
    values: dict[str, Any] = field(default_factory=dict)


class Report:
    """The per-row error report, written as problems are found (UTF-8 CSV with a BOM)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None
        self.writer: Any = None
        self.lines = 0
        self.rows: set[int] = set()

    def add(self, row: int, column: str, value: Any, message: str) -> None:
        self.rows.add(row)
        if self.lines >= MAX_REPORTED_ERRORS:
            return
        if self.writer is None:
            self.handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            self.writer.writerow(["row", "column", "value", "message"])
        from tessera.platform.transfer.exports import neutralise

        shown = "" if value is None else str(value)[:500]
        self.writer.writerow([row, neutralise(column), neutralise(shown), neutralise(message)])
        self.lines += 1

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


class Importer:
    """One run of one import; see the module docstring."""

    def __init__(
        self, entity: EntityModel, record: Import, report: Report, locale: str = "en"
    ) -> None:
        self.service: RecordService | None = None  # set per batch: each has its transaction
        self.entity = entity
        self.locale = locale  # the report speaks the language of whoever started the import
        self.columns: list[str] = list(record.columns)
        self.fields: list[FieldModel | None] = [
            self.entity.field(k) if k else None for k in record.mapping
        ]
        self.column_of = {k: self.columns[i] for i, k in enumerate(record.mapping) if k}
        self.mode = record.options.get("mode", "create")
        self.key = record.options.get("unique_field") if self.mode == "upsert" else None
        self.skip = record.options.get("on_error") == "skip"
        self.report = report
        self.created = 0
        self.updated = 0
        self.converters = [  # the upsert key is compared with stored values: canonical now
            (i, f.key, converter(f, validate=f.key == self.key))
            for i, f in enumerate(self.fields)
            if f is not None
        ]

    def convert(self, row: Row) -> bool:
        """Cell texts to field values; False (and reported) when a cell cannot be read."""
        ok = True
        cells = row.cells
        width = len(cells)
        values = row.values
        for i, key, convert in self.converters:
            raw = cells[i] if i < width else None
            try:
                values[key] = convert(raw)
            except (InvalidValue, ValueError, TypeError, ArithmeticError) as error:
                message = error_text(error, self.locale) or "this value cannot be read"
                self.report.add(row.number, self.columns[i], raw, message)
                ok = False
        return ok

    def write(self, batch: list[Row]) -> list[Row]:
        """Write ``batch``; the rows that failed (reported).  Raises nothing for bad rows."""
        pending = list(batch)
        failed: list[Row] = []
        for _attempt in range(4):
            if not pending:
                return failed
            try:
                self._write(pending)
                return failed
            except ValidationFailed as refused:
                # all-or-nothing goes on without the bad rows too (the transaction is rolled
                # back in the end), so the report lists the problems of every row
                bad = self._blame(pending, refused.errors)
                if not bad:
                    return failed + self._blame_all(pending, refused.errors, bad)
                failed += bad
                pending = [r for r in pending if r not in bad]
        for row in pending:  # still failing after several rounds: one row at a time
            try:
                self._write([row])
            except ValidationFailed as refused:
                failed += self._blame_all([row], refused.errors, [])
        return failed

    def _write(self, batch: list[Row]) -> None:
        assert self.service is not None
        existing: dict[Any, int] = {}
        if self.key:
            wanted = list({r.values[self.key] for r in batch if r.values.get(self.key) is not None})
            for start in range(0, len(wanted), UPSERT_LOOKUP):  # a page holds at most 500
                page = self.service.list(
                    self.entity.key,
                    ListQuery(
                        filter={
                            "field": self.key,
                            "op": "in",
                            "value": wanted[start : start + UPSERT_LOOKUP],
                        },
                        fields=[self.key],
                        limit=UPSERT_LOOKUP,
                    ),
                )
                existing.update((r[self.key], r["id"]) for r in page.records)
        creates: list[Row] = []
        updates: list[Row] = []
        for r in batch:
            (updates if self.key and r.values.get(self.key) in existing else creates).append(r)
        with self.service.conn.begin_nested():
            try:
                if creates:
                    self.service.bulk_create(self.entity.key, [r.values for r in creates])
            except ValidationFailed as refused:
                raise ValidationFailed(_shift(refused.errors, creates, batch)) from None
            try:
                if updates:
                    assert self.key is not None
                    self.service.bulk_update(
                        self.entity.key,
                        [(existing[r.values[self.key]], r.values, None) for r in updates],
                    )
            except ValidationFailed as refused:
                raise ValidationFailed(_shift(refused.errors, updates, batch)) from None
        self.created += len(creates)
        self.updated += len(updates)

    def _blame(self, batch: list[Row], errors: Sequence[FieldError]) -> list[Row]:
        """Rows named by ``errors`` (paths ``[i].field``), each reported once per error."""
        bad: list[Row] = []
        for e in errors:
            match = re.match(r"^\[(\d+)\]\.?(.*)$", e.path)
            if match is None or int(match.group(1)) >= len(batch):
                continue
            row = batch[int(match.group(1))]
            key = match.group(2).split(".")[0].split("[")[0]
            column = self.column_of.get(key, key or "")
            self.report.add(row.number, column, row.values.get(key, ""), error_text(e, self.locale))
            if row not in bad:
                bad.append(row)
        return bad

    def _blame_all(
        self, batch: list[Row], errors: Sequence[FieldError], blamed: list[Row]
    ) -> list[Row]:
        """All-or-nothing: every row of a refused batch counts as not written; problems that
        name no row are reported against the batch's first row."""
        if not blamed:
            blamed = self._blame(batch, errors)
        if not blamed and batch:
            for e in errors:
                self.report.add(batch[0].number, e.path, "", error_text(e, self.locale))
            blamed = [batch[0]]
        return blamed


def _shift(errors: Sequence[FieldError], part: list[Row], batch: list[Row]) -> list[FieldError]:
    """Paths ``[i]`` within ``part`` as paths within the whole ``batch``."""
    out = []
    for e in errors:
        match = re.match(r"^\[(\d+)\](.*)$", e.path)
        if match and int(match.group(1)) < len(part):
            out.append(e.at(f"[{batch.index(part[int(match.group(1))])}]{match.group(2)}"))
        else:
            out.append(e)
    return out


def _update(platform: Platform, import_id: int, **values: Any) -> None:
    with platform.db.engine.begin() as conn:
        conn.execute(sa.update(Import).where(Import.id == import_id).values(**values))


def _refuse(platform: Platform, import_id: int, message: str, reason: str) -> NoReturn:
    """Mark the import failed with ``message`` (its page shows it) and end the job for good,
    with ``reason`` in the job's record: a job refused before its first row is not retried."""
    _update(platform, import_id, status="failed", message=message, finished_at=utcnow())
    raise jobs.PermanentTaskError(reason)


@jobs.task("transfer.import", max_attempts=1)
def run_task(ctx: jobs.JobContext, import_id: int) -> dict[str, Any]:
    return run(ctx.platform, import_id, ctx.progress)


def run(
    platform: Platform,
    import_id: int,
    progress: Any = None,
    *,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run import ``import_id`` to the end; returns the counts (also stored on the row).

    After each batch the progress goes to Redis (:mod:`.progress`, readable while the import's
    transaction is open), to the job's row through ``progress`` where the database allows it,
    and to ``on_batch(done, total)`` if given (tests look at the status page from there)."""
    with platform.db.session() as session:
        record = session.get(Import, import_id)
        if record is None:
            raise jobs.PermanentTaskError(f"import #{import_id} no longer exists")
        identity = (
            load_identity(session, record.created_by, via="job") if record.created_by else None
        )
    if identity is None:
        _refuse(
            platform,
            import_id,
            _l("The user who started this import is gone."),
            "the user who started this import no longer exists",
        )
    path = folder(platform) / record.stored_name
    report_name = f"{record.stored_name}-errors"
    report = Report(folder(platform) / report_name)
    total = count_rows(path, record.file_kind, record.encoding)
    _update(platform, import_id, status="running", total_rows=total, message=None)
    dry_run = bool(record.options.get("dry_run"))
    all_or_nothing = record.options.get("on_error") != "skip"
    one_transaction = dry_run or all_or_nothing
    actor = replace(identity.actor("import"), source=f"{SOURCE_PREFIX}{import_id}")
    engine = platform.db.engine
    with engine.connect() as conn:
        entity = apps.published(conn, record.app).model.entity(record.entity)
        scope = scope_for(conn, record.app, actor) or AllowAll()
        allowed = rights.may_import(scope, entity, updates=record.options.get("mode") == "upsert")
        writable = rights.writable(scope, entity)
    # the rights are checked again when the job runs: they may have changed since the upload
    if not allowed or check_plan(entity, record.columns, record.mapping, record.options, writable):
        _refuse(
            platform,
            import_id,
            _l("You may no longer import these records or fill these fields."),
            "the user who started this import may not import it",
        )
    importer = Importer(entity, record, report, actor.locale)
    # SQLite has one writer: while an all-or-nothing import holds it, the job's row cannot be
    # written; Redis can (the status page reads it first)
    report_progress = (
        progress if not (one_transaction and engine.dialect.name == "sqlite") else None
    )
    publisher = Publisher(platform, import_id)
    publisher.publish(0, total)
    done = 0
    outer = engine.connect()
    transaction = outer.begin() if one_transaction else None
    try:
        reader = rows(path, record.file_kind, record.encoding)
        next(reader, None)  # the header
        batch: list[Row] = []
        number = 1

        def flush(batch: list[Row]) -> None:
            if one_transaction:
                if importer.service is None:  # one transaction: one service for every batch
                    importer.service = service_for(
                        outer, record.app, actor, scope=scope_for(outer, record.app, actor)
                    )
                importer.write(batch)
                return
            with outer.begin():
                importer.service = service_for(
                    outer, record.app, actor, scope=scope_for(outer, record.app, actor)
                )
                importer.write(batch)

        for cells in reader:
            number += 1
            if not any(c not in (None, "") for c in cells):
                continue
            row = Row(number, cells)
            if importer.convert(row):
                batch.append(row)
            done += 1
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
                publisher.publish(done, total)
                if report_progress is not None:
                    report_progress(done, total)
                if on_batch is not None:
                    on_batch(done, total)
        if batch:
            flush(batch)
        created, updated = importer.created, importer.updated
        failed_rows = len(report.rows)
        if transaction is not None:
            if dry_run or failed_rows:
                transaction.rollback()
            else:
                transaction.commit()
    except BaseException:
        if transaction is not None and transaction.is_active:
            transaction.rollback()
        report.close()
        publisher.clear()
        _update(
            platform,
            import_id,
            status="failed",
            finished_at=utcnow(),
            message=_l(
                "The import stopped because of an unexpected error; nothing more was written."
            ),
        )
        raise
    finally:
        outer.close()
    report.close()
    rolled_back = all_or_nothing and failed_rows > 0 and not dry_run
    written_created = 0 if rolled_back else created
    written_updated = 0 if rolled_back else updated
    summary = {
        "total": total,
        "processed": done,
        "created": written_created,
        "updated": written_updated,
        "error_rows": failed_rows,
        "dry_run": dry_run,
        "rolled_back": rolled_back,
    }
    _update(
        platform,
        import_id,
        status="done",
        processed_rows=done,
        created_count=written_created,
        updated_count=written_updated,
        error_rows=failed_rows,
        finished_at=utcnow(),
        error_report=report_name if report.lines else None,
        message=str(outcome(record.options, written_created, written_updated, failed_rows)),
    )
    publisher.clear()
    if written_created + written_updated >= TIDY_AFTER:
        with platform.db.session() as session:
            jobs.submit(
                session, platform, "search.tidy", created_by=record.created_by,
                app=record.app, entity=record.entity, rows=written_created + written_updated,
            )  # fmt: skip
    if progress is not None:
        progress(done, done)
    return summary


@jobs.task("search.tidy", max_attempts=3)
def tidy_task(ctx: jobs.JobContext, app: str, entity: str, rows: int) -> dict[str, Any]:
    """Fold ``entity``'s search index into one piece after ``rows`` were imported into it
    (:func:`~tessera.engines.forms.search.tidy`), unless they are under a tenth of the table:
    the work grows with the table, so it is spent only where the import was a large part."""
    with ctx.platform.db.engine.begin() as conn:
        live = apps.published(conn, app)
        largest = conn.scalar(sa.select(sa.func.max(live.table(entity).c.id)))
        if rows * 10 < (largest or 0):
            return {"tidied": False}
        tidy(conn, live.model.entity(entity))
    return {"tidied": True}


def import_id_of(source: str | None) -> int | None:
    """The import an audit entry's ``source`` names, or None for any other source."""
    if source and source.startswith(SOURCE_PREFIX) and source[len(SOURCE_PREFIX) :].isdigit():
        return int(source[len(SOURCE_PREFIX) :])
    return None


def outcome(options: Mapping[str, Any], created: int, updated: int, problems: int) -> Phrase:
    """What a finished import did, as a sentence in no language yet: the job keeps it in
    English on the import's row, the status page says it in its reader's language.  The
    counts stand apart after a colon, so no language needs a plural form for them."""
    if options.get("dry_run"):
        return Phrase(
            _l("Dry run, nothing was written. Would be created: %(created)s; would be updated: "
               "%(updated)s; rows with problems: %(problems)s"),
            created=created, updated=updated, problems=problems,
        )  # fmt: skip
    if problems and options.get("on_error") != "skip":
        return Phrase(
            _l("Nothing was imported. Rows with problems: %(problems)s"), problems=problems
        )
    return Phrase(
        _l("Created: %(created)s; updated: %(updated)s; rows skipped: %(problems)s"),
        created=created, updated=updated, problems=problems,
    )  # fmt: skip


def shown_message(record: Import, locale: str | None = None) -> str | None:
    """The import row's message in the reader's language: a finished import's outcome from its
    counts, a failed one's reason (an English msgid written by the job) translated."""
    if record.status == "done":
        said = outcome(
            record.options or {}, record.created_count, record.updated_count, record.error_rows
        )
        return message_text(said.template, said.params, str(said), locale)
    if record.message:
        return message_text(record.message, {}, record.message, locale)
    return None
