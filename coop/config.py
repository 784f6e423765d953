"""Settings from the environment, with defaults that live under instance/."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The site's time zone when COOP_TIMEZONE names none: where the demo's schools are.
DEFAULT_TIMEZONE = "Asia/Novokuznetsk"


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'coop.sqlite3'}")
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _timezone() -> str:
    name = os.environ.get("COOP_TIMEZONE", "") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"COOP_TIMEZONE={name!r} is not a time zone (e.g. Europe/Moscow)") from error
    return name


def _hour(value: str) -> int:
    if not value.isdigit() or int(value) > 23:
        raise ValueError(f"COOP_DIGEST_HOUR={value!r} is not an hour from 0 to 23")
    return int(value)


def load(instance_path: Path) -> dict[str, Any]:
    """The configuration mapping for create_app()."""
    instance_path.mkdir(parents=True, exist_ok=True)
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("COOP_MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        # Apply pending migrations when the app starts; production turns this off
        # and runs `flask db upgrade` in its deploy step instead.
        "AUTO_MIGRATE": os.environ.get("COOP_AUTO_MIGRATE", "1") == "1",
        "BABEL_DEFAULT_LOCALE": os.environ.get("COOP_LOCALE", "ru"),
        # Moments are stored in UTC and shown in this zone (coop/formats.py).
        "BABEL_DEFAULT_TIMEZONE": _timezone(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("COOP_HTTPS", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("COOP_HTTPS", "0") == "1",
        # Served over HTTPS: Secure cookies and HSTS (coop/security.py).
        "HTTPS": os.environ.get("COOP_HTTPS", "0") == "1",
        # How many reverse proxies stand in front and set X-Forwarded-For/-Proto.
        "PROXY_COUNT": int(os.environ.get("COOP_PROXY_COUNT", "0")),
        "SESSION_IDLE_TIMEOUT": 30 * 60,  # seconds without a request
        "SESSION_MAX_AGE": 12 * 60 * 60,  # seconds since sign-in
        # Login throttling (Flask-Limiter): counters in memory, or shared by all
        # workers in Redis, e.g. redis://localhost:6379/0.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # While that storage does not answer, each process counts by itself (and logs it)
        # rather than failing every sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STRATEGY": "moving-window",
        "WTF_CSRF_TIME_LIMIT": None,
        "FLASK_ADMIN_SWATCH": "default",
        "FLASK_ADMIN_FLUID_LAYOUT": True,
        "SHOW_DEMO_ACCOUNTS": os.environ.get("COOP_SHOW_DEMO_ACCOUNTS", "1") == "1",
        # Outgoing mail (coop/outbox.py); without MAIL_SERVER messages go to instance/mail/*.eml.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "0") == "1",
        "MAIL_USE_SSL": os.environ.get("MAIL_USE_SSL", "0") == "1",
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "coop@localhost"),
        "MAIL_FOLDER": str(instance_path / "mail"),
        # The site's address as its users open it: the links in messages start with it.
        "COOP_BASE_URL": os.environ.get("COOP_BASE_URL", "http://localhost:5000"),
        # The hour (0–23, COOP_TIMEZONE) from which send-mail and the worker write the daily digests.
        "COOP_DIGEST_HOUR": _hour(os.environ.get("COOP_DIGEST_HOUR", "") or "7"),
        "SQL_COUNT": os.environ.get("COOP_SQL_COUNT", "0") == "1",  # X-SQL-Count header (benchmark)
    }
