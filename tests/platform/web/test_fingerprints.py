"""Static URLs carry a fingerprint of the file's content, for the shell and the builder alike."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tessera.platform.web.fingerprints import fingerprint


def test_a_fingerprint_is_the_files_hash_and_zero_outside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "static"
    (folder / "css").mkdir(parents=True)
    (folder / "css" / "site.css").write_bytes(b"body {}")
    (tmp_path / "secret.txt").write_bytes(b"not served")
    expected = hashlib.sha256(b"body {}").hexdigest()[:10]
    assert fingerprint(folder, "css/site.css") == expected
    assert fingerprint(folder, "css/missing.css") == "0"
    assert fingerprint(folder, "../secret.txt") == "0"
    assert fingerprint(folder, "css") == "0"  # a folder is no file
