"""The ``tessera`` command, run as a person runs it: one clear line for a wrong setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def tessera(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")} | env
    return subprocess.run(
        [sys.executable, "-m", "tessera", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"TESSERA_DATABASE_URL": "postgres//oops"},
            "tessera: error: TESSERA_DATABASE_URL: 'postgres//oops' is not a database URL",
        ),
        (
            {"TESSERA_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "tessera: error: cannot connect to the database at "
            "postgresql+psycopg://nobody@127.0.0.1:1/none (TESSERA_DATABASE_URL): ",
        ),
    ],
)
def test_bad_database_setting_is_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = tessera("db", "upgrade", env={"TESSERA_INSTANCE_PATH": str(tmp_path), **env})
    assert result.returncode == 2
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    env = {"TESSERA_INSTANCE_PATH": str(tmp_path), "TESSERA_REDIS_URL": "redis://127.0.0.1:1/0"}
    assert tessera("db", "upgrade", env=env).returncode == 0
    result = tessera("worker", "--burst", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tessera: error: cannot reach Redis at redis://127.0.0.1:1/0 (TESSERA_REDIS_URL): "
        "Error 111 connecting to 127.0.0.1:1. Connection refused."
    ]


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    result = tessera("worker", "--burst", env={"TESSERA_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 2
    assert "run 'tessera db upgrade' first" in result.stderr


def test_admin_create(tmp_path: Path) -> None:
    env = {"TESSERA_INSTANCE_PATH": str(tmp_path)}
    assert tessera("db", "upgrade", env=env).returncode == 0
    args = ("admin", "create", "--email", "Boss@Example.com", "--name", "Boss")
    weak = tessera(*args, "--password", "short", env=env)
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    ok = tessera(*args, "--password", "correct horse battery", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "created system administrator boss@example.com" in ok.stdout
    again = tessera(*args, "--password", "correct horse battery", env=env)
    assert again.returncode == 1 and "exists already" in again.stderr
