"""The designer names an unlabelled entity or field as the server does: its key read as words
(``designer/words.js`` against ``definitions.humanise``), run with Node on awkward keys."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tessera.engines.definitions import humanise

WORDS_JS = Path(__file__).parents[2] / "tessera/builder_ui/static/designer/words.js"
KEYS = [
    "order_line", "customerName", "vatID", "name", "HTTPServer", "field2Value", "a_b-c d",
    "_", "", "中文_字段", "IDNumber", "x", "already Words", "ABC", "version2", "__private__",
]  # fmt: skip


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_words_js_reads_keys_as_the_server_does() -> None:
    script = (
        f"import {{ humanise }} from {json.dumps(WORDS_JS.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(KEYS)}.map(humanise)));"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == [humanise(k) for k in KEYS]
    assert humanise("order_line") == "Order line"
