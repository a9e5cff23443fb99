"""Settings: sensible defaults from an empty environment, one clear line for each wrong value."""

from pathlib import Path

import pytest

from tessera.platform.config import ConfigError, load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        "TESSERA_INSTANCE_PATH": str(tmp_path),
        **{f"TESSERA_{k}": v for k, v in values.items()},
    }


def test_defaults_use_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.database_url == f"sqlite:///{tmp_path / 'tessera.db'}"
    assert settings.redis_url is None and settings.embedded_redis
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)
    assert len(settings.secret_key) >= 32


def test_generated_secret_key_is_kept(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path)).secret_key
    assert load_settings(env(tmp_path)).secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_host_and_port_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, HOST="0.0.0.0", PORT="8080"))
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "not a url", "TESSERA_DATABASE_URL: 'not a url' is not a database URL"),
        (
            "DATABASE_URL",
            "mysql://u@h/db",
            "TESSERA_DATABASE_URL: the database 'mysql' is not supported",
        ),
        ("DATABASE_URL", "sqlite://", "TESSERA_DATABASE_URL: a SQLite database must be a file"),
        ("REDIS_URL", "localhost:6379", "TESSERA_REDIS_URL: 'localhost:6379' is not a Redis URL"),
        ("PORT", "http", "TESSERA_PORT: must be a whole number, got 'http'"),
        ("PORT", "70000", "TESSERA_PORT: must be between 1 and 65535, got 70000"),
        ("SECRET_KEY", "short", "TESSERA_SECRET_KEY: must be at least 32 characters long"),
        ("DEFAULT_LOCALE", "fr", "TESSERA_DEFAULT_LOCALE: 'fr' is not supported"),
        ("LOG_LEVEL", "LOUD", "TESSERA_LOG_LEVEL: 'LOUD' is not one of"),
    ],
)
def test_wrong_settings_name_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env(tmp_path, **{name: value}))
    assert str(caught.value).startswith(message)
    assert caught.value.setting == f"TESSERA_{name}"
