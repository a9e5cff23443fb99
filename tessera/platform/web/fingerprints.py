"""Content fingerprints for static URLs (``?v=<hash>``), so a new release is never served stale.

The shell's static files and the builder's own are fingerprinted the same way; each file is
read and hashed once per process.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


@cache
def fingerprint(folder: Path, filename: str) -> str:
    """Ten hex digits of the SHA-256 of ``folder / filename``; "0" for a file that is missing
    or lies outside ``folder`` (a ``..`` in a template is not followed)."""
    path = (folder / filename).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return "0"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
