"""Configuration defaults; `instance/config.py` and environment variables override them."""

from __future__ import annotations

import os
from typing import Any

#: Environment variables read at start, with the type they are parsed as.
_ENVIRONMENT_KEYS: dict[str, type] = {
    "DATABASE_URL": str,
    "SECRET_KEY": str,
    "SMTP_HOST": str,
    "SMTP_PORT": int,
    "SMTP_USERNAME": str,
    "SMTP_PASSWORD": str,
    "SMTP_USE_TLS": bool,
    "HEALTHZ_TOKEN": str,
    "SMTP_TIMEOUT": float,
    "SMTP_DATA_TIMEOUT": float,
    "IMAP_HOST": str,
    "IMAP_PORT": int,
    "IMAP_USERNAME": str,
    "IMAP_PASSWORD": str,
    "IMAP_USE_TLS": bool,
    "IMAP_USE_STARTTLS": bool,
    "IMAP_FOLDER": str,
    "IMAP_PROCESSED_FOLDER": str,
    "IMAP_UNMATCHED_FOLDER": str,
    "IMAP_POLL_SECONDS": float,
    "IMAP_LOOKBACK_DAYS": int,
    "IMAP_BATCH_SIZE": int,
    "IMAP_MAX_MESSAGE_BYTES": int,
    "IMAP_TIMEOUT_SECONDS": float,
    "FIELDWORK_TIMEZONE": str,
    "RATELIMIT_STORAGE_URI": str,
    "FIELDWORK_ENV": str,
    "SCHEDULER_IN_PROCESS": bool,
    "TRUSTED_PROXY_HOPS": int,
    "PUBLIC_URL": str,
    "MAIL_FROM": str,
}


def default_config(instance_path: str) -> dict[str, Any]:
    """The settings a development checkout runs with when nothing else is said."""
    return {
        "SECRET_KEY": DEVELOPMENT_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "fieldwork.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "PAGE_SIZE": 50,
        # Failed logins allowed per 15 minutes (Flask-Limiter): per account at one address, and
        # per address whatever the account. Never per account alone, so nobody elsewhere can
        # lock a user out.
        "LOGIN_FAILURES_PER_ACCOUNT": 10,
        "LOGIN_FAILURES_PER_ADDRESS": 50,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed
        # (ProxyFix); 0 believes none, so a client cannot choose the address it is counted at.
        "TRUSTED_PROXY_HOPS": 0,
        # The address people reach the app at (https://fieldwork.example.org): set-password
        # links in emails use it rather than the Host header of the request that asked.
        "PUBLIC_URL": "",
        # The sender of account emails that belong to no study (password resets).
        "MAIL_FROM": "fieldwork@localhost",
        "RATELIMIT_HEADERS_ENABLED": False,
        "FIELDWORK_TIMEZONE": "Europe/London",
        # Empty: no mail server is configured, and messages stay in the outbox marked
        # "not sent: no mail server configured" until SMTP_HOST names one.
        "SMTP_HOST": "",
        "SMTP_PORT": 25,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_USE_TLS": False,
        # The organiser's mailbox, read for replies from calendars (docs/calendar-replies.md);
        # off while IMAP_HOST is empty. Messages are moved to the folders, never deleted.
        "IMAP_HOST": "",
        "IMAP_PORT": 993,
        "IMAP_USERNAME": "",
        "IMAP_PASSWORD": "",
        "IMAP_USE_TLS": True,
        "IMAP_USE_STARTTLS": False,
        "IMAP_FOLDER": "INBOX",
        "IMAP_PROCESSED_FOLDER": "Fieldwork-Processed",
        "IMAP_UNMATCHED_FOLDER": "Fieldwork-Unmatched",
        "IMAP_POLL_SECONDS": 300.0,
        "IMAP_LOOKBACK_DAYS": 30,
        "IMAP_BATCH_SIZE": 200,
        "IMAP_MAX_MESSAGE_BYTES": 5 * 1024 * 1024,
        "IMAP_TIMEOUT_SECONDS": 30.0,
    }


DEVELOPMENT_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 (refused in production)


class ConfigurationError(RuntimeError):
    """The configuration is not safe to run with; the message says what to set."""


#: The values FIELDWORK_ENV may take; anything else is refused at start.
ENVIRONMENTS = ("development", "production")


def settle_environment(config: dict[str, Any], *, development_server: bool) -> str:
    """Decide which environment the app runs in, refuse unsafe settings, and record the answer.

    Development is explicit: FIELDWORK_ENV=development, or the development server (`flask run`,
    which the README's run command uses). Tests say TESTING=True and pass their own key. Every
    other start (gunicorn, `flask scheduler`, other commands) is production: it needs a real
    SECRET_KEY and gets secure cookies. A FIELDWORK_ENV other than the two names is a typo and
    is refused rather than guessed at. Returns the environment and stores it in FIELDWORK_ENV.
    """
    raw = config.get("FIELDWORK_ENV")
    if raw not in (None, "") and raw not in ENVIRONMENTS:
        raise ConfigurationError(
            f"FIELDWORK_ENV is {raw!r}; it must be exactly 'development' or 'production' "
            "(or unset: then the development server runs as development and anything else "
            "as production)."
        )
    if raw:
        environment = raw
    elif config.get("TESTING") or development_server:
        environment = "development"
    else:
        environment = "production"
    config["FIELDWORK_ENV"] = environment
    if environment == "production":
        apply_production_settings(config)
    return environment


def apply_production_settings(config: dict[str, Any]) -> None:
    """Production: demand a real SECRET_KEY, no DEBUG, and secure cookies."""
    secret = config.get("SECRET_KEY") or ""
    if secret == DEVELOPMENT_SECRET_KEY or len(secret) < 32:
        raise ConfigurationError(
            "Fieldwork runs as production here and needs SECRET_KEY set to a random value of "
            "at least 32 characters, e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(48))". '
            "On a development checkout use `flask --app app run`, or set FIELDWORK_ENV=development."
        )
    if config.get("DEBUG"):
        raise ConfigurationError("DEBUG must be off in production.")
    config.update(
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        PREFERRED_URL_SCHEME="https",
        # The in-process scheduler is for `flask run`; production runs `flask scheduler`.
        SCHEDULER_IN_PROCESS=False,
    )


def _parse(kind: type, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)


def environment_overrides() -> dict[str, Any]:
    """Settings given in the environment; DATABASE_URL maps to SQLALCHEMY_DATABASE_URI."""
    overrides: dict[str, Any] = {}
    for key, kind in _ENVIRONMENT_KEYS.items():
        raw = os.environ.get(key)
        if raw is None or raw == "":
            continue
        overrides["SQLALCHEMY_DATABASE_URI" if key == "DATABASE_URL" else key] = _parse(kind, raw)
    uri = overrides.get("SQLALCHEMY_DATABASE_URI")
    if isinstance(uri, str) and uri.startswith("postgres://"):
        # Heroku-style URLs name a dialect SQLAlchemy no longer accepts.
        overrides["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif isinstance(uri, str) and uri.startswith("postgresql://"):
        overrides["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    return overrides
