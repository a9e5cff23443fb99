"""App templates are data: fail if ``tessera/app_templates`` holds any Python file."""

from __future__ import annotations

import sys
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "tessera" / "app_templates"


def main() -> int:
    python_files = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".py", ".pyc", ".pyx"))
    for path in python_files:
        print(
            f"{path}: app templates are JSON definitions and assets, never Python", file=sys.stderr
        )
    return 1 if python_files else 0


if __name__ == "__main__":
    sys.exit(main())
