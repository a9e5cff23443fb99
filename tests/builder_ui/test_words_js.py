"""The designer names an unlabelled entity, field or select option as the server does: its
key read as words (``designer/words.js`` against ``definitions.humanise``, ``designer/dom.js``
against ``option_label``), run with Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tessera.engines.definitions import humanise
from tessera.engines.definitions.fields.base import option_keys, option_label

WORDS_JS = Path(__file__).parents[2] / "tessera/builder_ui/static/designer/words.js"
KEYS = [
    "order_line", "customerName", "vatID", "name", "HTTPServer", "field2Value", "a_b-c d",
    "_", "", "中文_字段", "IDNumber", "x", "already Words", "ABC", "version2", "__private__",
]  # fmt: skip


def node_json(script: str) -> Any:
    """What the ES module ``script`` prints as JSON, run by Node."""
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_words_js_reads_keys_as_the_server_does() -> None:
    script = (
        f"import {{ humanise }} from {json.dumps(WORDS_JS.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(KEYS)}.map(humanise)));"
    )
    assert node_json(script) == [humanise(k) for k in KEYS]
    assert humanise("order_line") == "Order line"


DOM_JS = WORDS_JS.with_name("dom.js")
OPTIONS: list[object] = [
    "closed_won", {"key": "new"}, {"key": "won", "label": {"en": "Won", "zh-CN": "赢单"}},
    {"key": "lost", "label": "Lost for good"}, {"key": "vat_ID_checked", "color": "#aabbcc"},
]  # fmt: skip


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_designer_names_options_as_the_pages_do(locale: str) -> None:
    """The designer's preview, default and kanban lanes show a select's options as the runtime
    pages do (``option_label``): a label in the page's language, else the key as words."""
    page = json.dumps(json.dumps({"locale": locale, "strings": {}}))
    script = (
        f"globalThis.document = {{ getElementById: () => ({{ textContent: {page} }}) }};\n"
        f"const {{ optionOf }} = await import({json.dumps(DOM_JS.as_uri())});\n"
        f"console.log(JSON.stringify({json.dumps(OPTIONS)}.map(optionOf)));"
    )
    spec = {"options": OPTIONS}
    keys = option_keys(spec)
    assert node_json(script) == [[k, option_label(spec, k, locale)] for k in keys]
    assert option_label(spec, "closed_won", locale) == "Closed won"
