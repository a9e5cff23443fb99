"""Copy the front-end libraries named in package.json's ``tesseraVendor`` into the static folder.

``npm install`` fetches them from the npm registry into node_modules; this script copies only
the files the pages load into ``tessera/platform/static/vendor`` (ignored by git), so they are
served by Tessera itself and never from a CDN.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tessera" / "platform" / "static" / "vendor"


def main() -> int:
    spec = json.loads((ROOT / "package.json").read_text())["tesseraVendor"]
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = []
    for source, name in spec.items():
        path = ROOT / "node_modules" / source
        if not path.exists():
            missing.append(source)
            continue
        shutil.copyfile(path, TARGET / name)
    if missing:
        print(f"vendor: missing after npm install: {', '.join(missing)}", file=sys.stderr)
        return 1
    (TARGET / ".stamp").write_text(json.dumps(spec, sort_keys=True))
    print(f"vendor: {len(spec)} files copied to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
