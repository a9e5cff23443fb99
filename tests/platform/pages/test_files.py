"""Hostile uploads (SECURITY.md): content sniffed from the bytes, random names on disk, every
download an attachment with nosniff, SVG and HTML never inline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.platform import files
from tessera.platform.models import StoredFile
from tessera.platform.runtime import Platform
from tests.conftest import Web

from . import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


def upload(web: Web, name: str, content: bytes) -> dict[str, object]:
    response = web.post(
        "/apps/fieldtest/deal/new",
        {
            "name": f"With {name}",
            "files.present": "1",
            "files.upload": (io.BytesIO(content), name),
        },
        token_from="/apps/fieldtest/deal/new",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return factories.get(web.client.application.extensions["tessera"], "deal", record_id)["files"][
        0
    ]


def fetch(web: Web, url: str) -> Any:
    """GET a file and close the response (its file handle) at once."""
    response = web.client.get(url)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (SVG, "image/svg+xml"),
        (b"<html><body><script>alert(1)</script>", "text/html"),
        (b"  <!DOCTYPE html><p>x", "text/html"),
        (b"plain words\n", "text/plain"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
    ],
)
def test_the_content_type_comes_from_the_bytes(content: bytes, expected: str) -> None:
    assert files.sniff(content, "innocent.png") == expected


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b.txt", "ab.txt"),
        ("", "file"),
        ("...", "file"),
        ("报价单.pdf", "报价单.pdf"),
        ("x" * 300, "x" * 200),
    ],
)
def test_file_names_are_display_text_only(given: str, kept: str) -> None:
    assert files.clean_name(given) == kept


def test_an_svg_with_script_is_stored_but_never_served_inline(
    fieldtest: Platform, signed_in: Web
) -> None:
    ref = upload(signed_in, "logo.png", SVG)  # named like an image, sniffed as what it is
    assert ref["mime"] == "image/svg+xml"
    for url in (f"/files/{ref['id']}", f"/files/{ref['id']}?inline=1"):
        response = fetch(signed_in, url)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_html_is_never_inline_and_png_may_be(fieldtest: Platform, signed_in: Web) -> None:
    html_ref = upload(signed_in, "page.png", b"<html><script>alert(1)</script></html>")
    response = fetch(signed_in, f"/files/{html_ref['id']}?inline=1")
    assert response.headers["Content-Disposition"].startswith("attachment")
    png_ref = upload(signed_in, "chart.png", PNG)
    inline = fetch(signed_in, f"/files/{png_ref['id']}?inline=1")
    assert inline.headers["Content-Type"] == "image/png"
    assert inline.headers["Content-Disposition"].startswith("inline")


def test_bytes_are_stored_under_a_random_name(fieldtest: Platform, signed_in: Web) -> None:
    ref = upload(signed_in, "../../escape.txt", b"hello")
    assert ref["name"] == "escape.txt"
    stored = fieldtest.settings.instance_path / "files" / str(ref["id"])[:2] / str(ref["id"])
    assert stored.read_bytes() == b"hello"
    assert not any(
        p.name == "escape.txt" for p in Path(fieldtest.settings.instance_path).rglob("*")
    )
    with fieldtest.db.engine.connect() as conn:
        row = conn.execute(sa.select(StoredFile.__table__)).one()
    assert len(row.id) == 32 and row.size == 5 and row.uploaded_by is not None
    assert row.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"


@pytest.mark.parametrize(
    "path", ["/files/nope", "/files/..%2F..%2Fetc%2Fpasswd", "/files/" + "a" * 40]
)
def test_unknown_files_are_404(fieldtest: Platform, signed_in: Web, path: str) -> None:
    assert signed_in.client.get(path).status_code == 404


def test_files_need_a_signed_in_user(fieldtest: Platform, signed_in: Web, client: object) -> None:
    ref = upload(signed_in, "a.txt", b"private")
    anonymous = signed_in.client.application.test_client()
    response = anonymous.get(f"/files/{ref['id']}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_empty_uploads_are_refused(fieldtest: Platform, signed_in: Web) -> None:
    response = signed_in.post(
        "/apps/fieldtest/deal/new",
        {
            "name": "Empty",
            "files.present": "1",
            "files.upload": (io.BytesIO(b""), "empty.txt"),
        },
        token_from="/apps/fieldtest/deal/new",
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "the file is empty" in response.get_data(as_text=True)


def test_upload_refusals_speak_the_readers_language(fieldtest: Platform, signed_in: Web) -> None:
    signed_in.post("/language", {"locale": "zh-CN", "next": "/"}, token_from="/")
    response = signed_in.post(
        "/apps/fieldtest/deal/new",
        {
            "name": "Empty",
            "files.present": "1",
            "files.upload": (io.BytesIO(b""), "empty.txt"),
        },
        token_from="/apps/fieldtest/deal/new",
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "文件为空" in page and "the file is empty" not in page
