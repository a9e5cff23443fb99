"""``tessera app …`` as an admin runs it: validate, install, change, diff, roll back, move."""

import json
import re
from pathlib import Path
from typing import Any

from tests.platform.test_apps import shop
from tests.platform.test_cli import tessera

DOCS = Path(__file__).resolve().parents[2] / "docs" / "app-definitions.md"


def write(path: Path, doc: Any) -> str:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_validate_reports_every_error_with_its_path(tmp_path: Path) -> None:
    env = {"TESSERA_INSTANCE_PATH": str(tmp_path)}
    good = tessera("app", "validate", write(tmp_path / "good.json", shop()), env=env)
    assert good.returncode == 0 and "valid" in good.stdout
    bad = shop()
    bad["entities"][1]["fields"][1]["entity"] = "nowhere"
    bad["entities"][0]["fields"][1]["default"] = "c"  # not among the options
    result = tessera("app", "validate", write(tmp_path / "bad.json", bad), env=env)
    assert result.returncode == 1
    paths = re.findall(r"^\s+(\$\S+):", result.stderr, re.MULTILINE)
    assert "$.entities[1].fields[1].entity" in paths
    assert any(p.startswith("$.entities[0].fields[1]") for p in paths)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = tessera("app", "validate", str(broken), env=env)
    assert result.returncode == 1 and "cannot be read as JSON" in result.stderr


def test_documented_example_validates(tmp_path: Path) -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    examples = [b for b in blocks if '"format": "tessera.app/1"' in b]
    assert examples, "docs/app-definitions.md must show a complete example"
    path = tmp_path / "example.json"
    path.write_text(examples[0], encoding="utf-8")
    result = tessera("app", "validate", str(path), env={"TESSERA_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_install_change_diff_rollback_export_import(tmp_path: Path) -> None:
    env = {"TESSERA_INSTANCE_PATH": str(tmp_path)}
    assert tessera("db", "upgrade", env=env).returncode == 0
    installed = tessera("app", "install", write(tmp_path / "v1.json", shop()), env=env)
    assert installed.returncode == 0, installed.stderr
    assert "published shop version 1" in installed.stdout
    smaller = shop()
    del smaller["entities"][1]["fields"][2]  # drop "qty"
    drafted = tessera("app", "draft", "shop", write(tmp_path / "v2.json", smaller), env=env)
    assert drafted.returncode == 0 and "⚠" in drafted.stdout
    refused = tessera("app", "publish", "shop", env=env)
    assert refused.returncode == 1 and "--confirm-destructive" in refused.stderr
    confirmed = tessera("app", "publish", "shop", "--confirm-destructive", env=env)
    assert confirmed.returncode == 0 and "version 2" in confirmed.stdout
    changes = tessera("app", "diff", "shop", "1", "2", env=env)
    assert changes.returncode == 0 and "qty" in changes.stdout.lower()
    rolled = tessera("app", "rollback", "shop", "1", env=env)
    assert rolled.returncode == 0 and "version 3" in rolled.stdout
    listing = tessera("app", "list", env=env)
    assert re.search(r"shop\s+v3", listing.stdout)
    out = tmp_path / "shop-export.json"
    exported = tessera("app", "export", "shop", "-o", str(out), "--with-data", env=env)
    assert exported.returncode == 0 and json.loads(out.read_text())["app"]["key"] == "shop"
    elsewhere = {"TESSERA_INSTANCE_PATH": str(tmp_path / "other")}
    assert tessera("db", "upgrade", env=elsewhere).returncode == 0
    imported = tessera("app", "import", str(out), env=elsewhere)
    assert imported.returncode == 0, imported.stderr
    again = tessera("app", "import", str(out), env=elsewhere)
    assert again.returncode == 1 and "installed already" in again.stderr
    unknown = tessera("app", "publish", "nothing", env=env)
    assert unknown.returncode == 1 and "no app with the key “nothing”" in unknown.stderr
