"""Uploaded files: stored under the instance folder, described by a ``files`` row.

Every defence against hostile uploads (SECURITY.md: NocoDB's SVG XSS, Frappe's and Mautic's
crafted MIME types) is here, in one place:

* the bytes are written to ``<instance>/files/<id[:2]>/<id>``, where ``id`` is 128 random bits;
  the uploader's file name is kept only as display text (``../`` or a NUL in it reach no path);
* the content type is sniffed from the bytes, never taken from the browser;
* downloads always carry ``X-Content-Type-Options: nosniff``, a sandboxing CSP and
  ``Content-Disposition: attachment``; only sniffed PNG, JPEG, GIF and WebP may be shown inline
  (image previews).  SVG and HTML are never served inline, whatever their name says.

Who may fetch a file: any signed-in user who holds its id (a 128-bit capability, handed out
only in records they can read).  Who may attach a file to a record: its uploader, or a record
that already holds it (:func:`usable`), so an id seen elsewhere cannot be re-attached.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, request, send_file
from flask.typing import ResponseReturnValue

from tessera.engines.messages import Refusal, _l
from tessera.platform.identity.current import login_required
from tessera.platform.models import StoredFile, utcnow
from tessera.platform.runtime import current_platform

blueprint = Blueprint("files", __name__)
FILES: sa.Table = StoredFile.__table__  # type: ignore[assignment]

MAX_NAME = 200
CHUNK = 64 * 1024
#: Types a browser may render in the page (raster images only).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_OFFICE = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MARKUP = (b"<svg", b"<html", b"<!doctype html", b"<script", b"<?xml", b"<body", b"<iframe")


#: the refusals every upload can meet (attachments and imports alike)
TOO_LARGE = _l("the file is larger than %(limit)s MB")
EMPTY = _l("the file is empty")


class UploadRefused(Refusal):
    """The upload cannot be stored; the message is for the person who sent it (a template and
    its params, shown in their language)."""


@dataclass(frozen=True)
class FileRef:
    """What a record holds about a file (the attachment field's value shape)."""

    id: str
    name: str
    size: int
    mime: str

    def as_value(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size": self.size, "mime": self.mime}


def sniff(head: bytes, name: str) -> str:
    """The content type of a file from its first bytes; the name only tells Office files (zip
    containers) apart.  Markup is reported as what it is, so it is never mistaken for text."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _OFFICE.get(Path(name).suffix.lower(), "application/zip")
    lowered = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in lowered:
        return "image/svg+xml"
    if any(lowered.startswith(mark) or mark in lowered[:512] for mark in _MARKUP):
        return "text/html"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # not just a character cut at the edge
                return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def clean_name(name: str | None) -> str:
    """A display name: the last path part, no control characters, at most 200 characters."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip(" .")
    return (text or "file")[:MAX_NAME]


def folder(instance_path: Path) -> Path:
    return instance_path / "files"


def path_of(instance_path: Path, file_id: str) -> Path:
    if not file_id.isalnum():  # ids are hex; anything else never reaches the file system
        raise FileNotFoundError(file_id)
    return folder(instance_path) / file_id[:2] / file_id


def store(
    conn: sa.Connection,
    instance_path: Path,
    stream: IO[bytes],
    name: str | None,
    uploaded_by: int | None,
    *,
    max_size: int,
) -> FileRef:
    """Write ``stream`` to the file store and add its row in ``conn``'s transaction."""
    file_id = secrets.token_hex(16)
    target = path_of(instance_path, file_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with target.open("xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_size:
                    raise UploadRefused(TOO_LARGE, limit=max_size // (1024 * 1024))
                if len(head) < 2048:
                    head += chunk[: 2048 - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise UploadRefused(EMPTY)
    shown = clean_name(name)
    mime = sniff(head, shown)
    conn.execute(
        sa.insert(FILES).values(
            id=file_id, name=shown, size=size, content_type=mime, sha256=digest.hexdigest(),
            uploaded_by=uploaded_by, created_at=utcnow(),
        )
    )  # fmt: skip
    return FileRef(file_id, shown, size, mime)


def refs(conn: sa.Connection, ids: Iterable[str]) -> dict[str, FileRef]:
    """The stored files among ``ids``, by id (unknown ids are left out)."""
    wanted = [i for i in dict.fromkeys(ids) if isinstance(i, str) and 0 < len(i) <= 32]
    if not wanted:
        return {}
    table = FILES
    rows = conn.execute(
        sa.select(table.c.id, table.c.name, table.c.size, table.c.content_type).where(
            table.c.id.in_(wanted)
        )
    )
    return {r.id: FileRef(r.id, r.name, int(r.size), r.content_type) for r in rows}


def usable(
    conn: sa.Connection, ids: Iterable[str], user_id: int | None, already: Iterable[str] = ()
) -> tuple[list[FileRef], list[str]]:
    """The files among ``ids`` this user may attach (uploaded by them, or already on the
    record), and the ids refused."""
    held = set(already)
    table = FILES
    wanted = list(dict.fromkeys(ids))
    found = refs(conn, wanted)
    owners = dict(
        conn.execute(
            sa.select(table.c.id, table.c.uploaded_by).where(table.c.id.in_(list(found)))
        ).all()
    ) if found else {}  # fmt: skip
    ok: list[FileRef] = []
    refused: list[str] = []
    for file_id in wanted:
        ref = found.get(file_id)
        if ref is not None and (
            file_id in held or (user_id is not None and owners.get(file_id) == user_id)
        ):
            ok.append(ref)
        else:
            refused.append(file_id)
    return ok, refused


@blueprint.get("/files/<file_id>")
@blueprint.get("/files/<file_id>/<path:_name>")
@login_required
def download(file_id: str, _name: str = "") -> ResponseReturnValue:
    """The file's bytes: an attachment, or inline for raster images when ``?inline=1``."""
    platform = current_platform()
    with platform.db.engine.connect() as conn:
        ref = refs(conn, [file_id]).get(file_id)
    if ref is None:
        abort(404)
    try:
        path = path_of(platform.settings.instance_path, ref.id)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    inline = request.args.get("inline") == "1" and ref.mime in INLINE_TYPES
    response: Response = send_file(
        path,
        mimetype=ref.mime if ref.mime in INLINE_TYPES or ref.mime == "application/pdf" else
        "application/octet-stream",
        as_attachment=not inline,
        download_name=ref.name,
        conditional=True,
        max_age=0,
    )  # fmt: skip
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
