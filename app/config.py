"""Configuration in one place, read from the environment.

DATABASE_URL   default: SQLite file instance/pacer.sqlite3
REDIS_URL      default: unset, meaning the embedded Redis (address kept under instance/)
SECRET_KEY     required when PACER_ENV=production; otherwise generated into instance/secret_key
PACER_UPLOAD_RETENTION_DAYS   days a stored upload is kept after its import ended (default 30)
PACER_CONNECTOR_KEY   Fernet key that encrypts ad-platform credentials (required once a connection exists)
PACER_GOOGLE_ADS_BASE_URL, PACER_GOOGLE_ADS_VERSION, PACER_GOOGLE_OAUTH_TOKEN_URL,
PACER_META_BASE_URL, PACER_META_VERSION   where the platforms are (docs/connectors.md)
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    pass


def _normalise_database_url(url: str) -> str:
    # Platforms hand out postgres:// URLs; SQLAlchemy wants a driver name, and we use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set when PACER_ENV=production")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _retention_days() -> int:
    text = os.environ.get("PACER_UPLOAD_RETENTION_DAYS", "30").strip()
    if not text.isdigit():
        raise ConfigError(f"PACER_UPLOAD_RETENTION_DAYS must be a whole number of days, 0 or more (not {text!r})")
    return int(text)


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from the environment for an app whose instance folder is given."""
    instance_path.mkdir(parents=True, exist_ok=True)
    production = os.environ.get("PACER_ENV", "development") == "production"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'pacer.sqlite3'}"
    return {
        "PACER_ENV": "production" if production else "development",
        "SECRET_KEY": _secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # Proxies in front of gunicorn whose X-Forwarded-For to trust (the login throttle counts per address).
        "PACER_PROXY_COUNT": int(os.environ.get("PACER_PROXY_COUNT", "0")),
        # JSON bodies of the API: at most this many bytes and this deep.
        "PACER_API_MAX_BYTES": int(os.environ.get("PACER_API_MAX_MB", "16")) * 1024 * 1024,
        "PACER_JSON_MAX_DEPTH": 32,
        "MAX_CONTENT_LENGTH": int(os.environ.get("PACER_MAX_UPLOAD_MB", "200")) * 1024 * 1024,
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
        # Days a stored upload is kept after its import ended (app.services.imports.prune_uploads).
        "UPLOAD_RETENTION_DAYS": _retention_days(),
        "WTF_CSRF_TIME_LIMIT": None,
        # Webhooks (docs/webhooks.md): private, loopback and link-local receivers are refused unless allowed.
        "WEBHOOK_ALLOW_PRIVATE": os.environ.get("PACER_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
        "WEBHOOK_TIMEOUT": float(os.environ.get("PACER_WEBHOOK_TIMEOUT", "10")),
        "WEBHOOK_BACKOFF_BASE": float(os.environ.get("PACER_WEBHOOK_BACKOFF_BASE", "10")),
        "WEBHOOK_RETRY_WINDOW_HOURS": float(os.environ.get("PACER_WEBHOOK_RETRY_WINDOW_HOURS", "24")),
        # Ad-platform connectors (docs/connectors.md): API versions and base URLs are configuration, not code.
        "CONNECTOR_KEY": os.environ.get("PACER_CONNECTOR_KEY") or None,
        "GOOGLE_ADS_BASE_URL": os.environ.get("PACER_GOOGLE_ADS_BASE_URL", "https://googleads.googleapis.com"),
        "GOOGLE_ADS_VERSION": os.environ.get("PACER_GOOGLE_ADS_VERSION", "v26"),
        "GOOGLE_OAUTH_TOKEN_URL": os.environ.get("PACER_GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token"),
        "META_BASE_URL": os.environ.get("PACER_META_BASE_URL", "https://graph.facebook.com"),
        "META_VERSION": os.environ.get("PACER_META_VERSION", "v25.0"),
        "CONNECTOR_TIMEOUT": float(os.environ.get("PACER_CONNECTOR_TIMEOUT", "20")),
        # Pushes are retried this long, then the campaign is marked out of sync.
        "CONNECTOR_RETRY_WINDOW_HOURS": float(os.environ.get("PACER_CONNECTOR_RETRY_WINDOW_HOURS", "6")),
        "CONNECTOR_BACKOFF_BASE": float(os.environ.get("PACER_CONNECTOR_BACKOFF_BASE", "10")),
        # Pulls re-read this many recent hours (platforms restate them) and catch up at most this many days.
        "CONNECTOR_RESTATE_HOURS": int(os.environ.get("PACER_CONNECTOR_RESTATE_HOURS", "48")),
        "CONNECTOR_CATCH_UP_DAYS": int(os.environ.get("PACER_CONNECTOR_CATCH_UP_DAYS", "31")),
    }
