"""Configuration defaults; `instance/config.py` and environment variables override them."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

from flask import Config, current_app, has_app_context

DEVELOPMENT_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 (refused in production)

#: The prefix of the environment variables `from_prefixed_env` reads: FIELDWORK_PAGE_SIZE=100.
ENVIRONMENT_PREFIX = "FIELDWORK"


@dataclass(frozen=True)
class Setting:
    """One setting: its name in `app.config`, its default, its type and what it is for.

    Every setting may be given in the environment as FIELDWORK_<NAME>; `environ` names the
    documented variable that also sets it (DATABASE_URL, SECRET_KEY, SMTP_HOST ...), kept so
    existing deployments go on working. `kind` None means the setting cannot come from the
    environment (a structure only instance/config.py or the tests can give).
    """

    name: str
    default: Any
    doc: str
    kind: type | None = str
    environ: str | None = None


def _setting(name: str, default: Any, doc: str, kind: type | None = None, **extra: Any) -> Setting:
    return Setting(name, default, doc, kind if kind is not None else type(default), **extra)


def _documented(name: str, default: Any, doc: str, kind: type | None = None) -> Setting:
    """A setting that is also read from the environment under its own, documented name."""
    return _setting(name, default, doc, kind, environ=name)


#: Every setting Fieldwork reads, declared once. docs/configuration.md is generated from this
#: (`python -m fieldwork.config`), and a test keeps the two the same.
SETTINGS: tuple[Setting, ...] = (
    # The application
    Setting(
        "SQLALCHEMY_DATABASE_URI",
        None,
        "The database: PostgreSQL in production (postgresql+psycopg://...); empty means the SQLite "
        "file instance/fieldwork.sqlite. postgres:// and postgresql:// URLs are accepted too.",
        environ="DATABASE_URL",
    ),
    _documented(
        "SECRET_KEY",
        DEVELOPMENT_SECRET_KEY,
        "Signs sessions and CSRF tokens. Production refuses to start without a random value of "
        "at least 32 characters.",
    ),
    _documented(
        "FIELDWORK_ENV",
        "",
        "development or production; unset, `flask run` is development and every other start is "
        "production (secure cookies, a real SECRET_KEY required).",
    ),
    _documented(
        "FIELDWORK_TIMEZONE",
        "Europe/London",
        "The zone dates are shown in when neither the viewer nor the study names one.",
    ),
    _documented(
        "PUBLIC_URL",
        "",
        "The address people reach the app at (https://fieldwork.example.org); links in emails "
        "use it rather than the Host header of the request that asked.",
    ),
    _documented(
        "TRUSTED_PROXY_HOPS",
        0,
        "Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed "
        "(ProxyFix); 0 believes none, so a client cannot choose the address it is counted at.",
    ),
    _documented(
        "HEALTHZ_TOKEN",
        "",
        "When set, /healthz gives its details only to a request carrying this token.",
    ),
    _setting("PAGE_SIZE", 50, "Rows on one page of a list."),
    _setting(
        "MAX_CONTENT_LENGTH",
        20 * 1024 * 1024,
        "The largest request body accepted, in bytes (uploads included).",
    ),
    _setting(
        "PASSWORD_HASH_METHOD",
        "scrypt",
        "How passwords are hashed (werkzeug's method string); tests choose a cheap one.",
    ),
    # Sessions and forms
    _setting("SESSION_COOKIE_HTTPONLY", True, "The session cookie is out of scripts' reach."),
    _setting("SESSION_COOKIE_SAMESITE", "Lax", "The session cookie's SameSite attribute."),
    _setting("REMEMBER_COOKIE_HTTPONLY", True, "The remember-me cookie is out of scripts' reach."),
    _setting("REMEMBER_COOKIE_SAMESITE", "Lax", "The remember-me cookie's SameSite attribute."),
    Setting(
        "WTF_CSRF_TIME_LIMIT",
        None,
        "CSRF tokens last as long as the session (a form left open all day still submits).",
        kind=None,
    ),
    Setting(
        "SQLALCHEMY_ENGINE_OPTIONS",
        {"pool_pre_ping": True},
        "Options for SQLAlchemy's engine; connections are checked before use.",
        kind=None,
    ),
    # Logins
    _setting(
        "LOGIN_FAILURES_PER_ACCOUNT",
        10,
        "Failed logins allowed per 15 minutes for one account from one address.",
    ),
    _setting(
        "LOGIN_FAILURES_PER_ADDRESS",
        50,
        "Failed logins allowed per 15 minutes from one address, whatever the account (never per "
        "account alone, so nobody elsewhere can lock a user out).",
    ),
    _documented(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "Where the login limiter keeps its counts; redis://... when several workers serve.",
    ),
    _setting("RATELIMIT_HEADERS_ENABLED", False, "Rate-limit headers on responses (off)."),
    # Mail out
    _documented(
        "SMTP_HOST",
        "",
        "The mail server. Empty: no mail server is configured, and messages stay in the outbox "
        'marked "not sent: no mail server configured" until one is named.',
    ),
    _documented("SMTP_PORT", 25, "The mail server's port."),
    _documented("SMTP_USERNAME", "", "The login at the mail server (none when empty)."),
    _documented("SMTP_PASSWORD", "", "The password at the mail server."),
    _documented("SMTP_USE_TLS", False, "Upgrade the SMTP connection with STARTTLS."),
    _documented("SMTP_TIMEOUT", 15.0, "Seconds to wait for the mail server to answer a command."),
    _documented(
        "SMTP_DATA_TIMEOUT",
        90.0,
        "Seconds to wait for the mail server to accept one message's data.",
    ),
    _documented(
        "MAIL_FROM",
        "fieldwork@localhost",
        "The sender of account emails that belong to no study (password links).",
    ),
    _documented(
        "OUTBOX_MAX_ATTEMPTS",
        8,
        "Sends tried before a message is marked failed for good (with the reason shown).",
    ),
    # The scheduler
    _documented(
        "SCHEDULER_IN_PROCESS",
        True,
        "Run the scheduler inside `flask run`; production runs `flask --app app scheduler`.",
    ),
    _documented("SCHEDULER_SWEEP_SECONDS", 5.0, "Seconds between sweeps of reminders and mail."),
    _documented(
        "SCHEDULER_HEARTBEAT_SECONDS",
        15.0,
        '/healthz says "down" once the last beat is older than this; beats come twice as often.',
    ),
    _documented(
        "SCHEDULER_STOP_GRACE_SECONDS",
        5.0,
        "Seconds running jobs get to finish their current item when the scheduler stops.",
    ),
    _documented(
        "SCHEDULER_LOCK_RETRY_SECONDS",
        60.0,
        "Seconds between a waiting scheduler's tries for the one-scheduler lock.",
    ),
    _documented("SCHEDULER_DIGEST_SECONDS", 600.0, "Seconds between checks for daily digests due."),
    _documented(
        "SCHEDULER_BUSY_REFRESH_SECONDS",
        1800.0,
        "Seconds between refreshes of interviewers' published busy calendars.",
    ),
    _documented(
        "SCHEDULER_WEEKLY_REPORT_SECONDS",
        3600.0,
        "Seconds between checks whether a finished week's report is due by email.",
    ),
    _documented(
        "SCHEDULER_IDEMPOTENCY_SWEEP_SECONDS",
        3600.0,
        "Seconds between sweeps of API Idempotency-Keys older than a day.",
    ),
    _documented(
        "SCHEDULER_MISFIRE_GRACE_SECONDS",
        30,
        "Seconds late a periodic job may still run rather than be skipped.",
    ),
    _documented(
        "SCHEDULER_LOCK_NAME",
        "scheduler",
        "What the one-scheduler lock is called; only two installations sharing one database "
        "would need different names.",
    ),
    _documented("REMINDER_BATCH_SIZE", 500, "Reminders queued for sending in one sweep, at most."),
    _documented(
        "REMINDER_DIGEST_HOUR",
        18,
        "The hour (in each interviewer's zone) of the daily digest of the next day's interviews.",
    ),
    _setting(
        "REMINDER_DIGEST_DOMAIN",
        "localhost",
        "The domain in the Message-IDs of digests and weekly reports.",
    ),
    # Busy calendars
    _setting(
        "BUSY_CALENDAR_SECONDS",
        10.0,
        "Wall-clock seconds reading one published busy calendar may take before it is refused.",
    ),
    _setting(
        "BUSY_REFRESH_JOB_SECONDS",
        300.0,
        "Seconds one refresh of all busy calendars may take; the rest wait for the next run.",
    ),
    _documented(
        "BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES",
        False,
        "Allow busy-calendar addresses on private networks (off: the server fetches only public "
        "addresses, so a calendar URL cannot reach inside the network).",
    ),
    # Replies from calendars (docs/calendar-replies.md)
    _documented(
        "IMAP_HOST",
        "",
        "The organiser's mailbox, read for replies from calendars; off while empty. Messages are "
        "moved to the folders below, never deleted.",
    ),
    _documented("IMAP_PORT", 993, "The mailbox server's port."),
    _documented("IMAP_USERNAME", "", "The login at the mailbox server."),
    _documented("IMAP_PASSWORD", "", "The password at the mailbox server."),
    _documented("IMAP_USE_TLS", True, "Connect over TLS (port 993)."),
    _documented("IMAP_USE_STARTTLS", False, "Without TLS, upgrade the connection with STARTTLS."),
    _documented("IMAP_FOLDER", "INBOX", "The folder replies arrive in."),
    _documented("IMAP_PROCESSED_FOLDER", "Fieldwork-Processed", "Where read replies are moved."),
    _documented(
        "IMAP_UNMATCHED_FOLDER",
        "Fieldwork-Unmatched",
        "Where calendar replies that match no interview are moved.",
    ),
    _documented("IMAP_POLL_SECONDS", 300.0, "Seconds between reads of the mailbox."),
    _documented("IMAP_LOOKBACK_DAYS", 30, "How many days back the mailbox is searched."),
    _documented("IMAP_BATCH_SIZE", 200, "Messages read in one poll, at most."),
    _documented(
        "IMAP_MAX_MESSAGE_BYTES",
        5 * 1024 * 1024,
        "Larger messages are left unread (moved aside) rather than parsed.",
    ),
    _documented("IMAP_TIMEOUT_SECONDS", 30.0, "Seconds to wait for the mailbox server."),
    # Imports, the pipeline, working days
    _setting(
        "IMPORT_UPLOAD_FOLDER",
        "",
        "Where uploaded frames wait between preview and import; empty means instance/imports.",
    ),
    _documented(
        "PIPELINE_UPLOADS_ENABLED",
        False,
        "Keep uploaded files (transcripts, notes) of pipeline steps under instance/; off, a step "
        "records a reference and a checksum only.",
    ),
    _documented(
        "PIPELINE_UPLOAD_MAX_BYTES",
        20 * 1024 * 1024,
        "The largest file a pipeline step may keep, in bytes.",
    ),
    _documented(
        "BANK_HOLIDAYS_COUNTRY",
        "GB",
        "Whose bank holidays working days skip (the holidays package's country code).",
    ),
    _documented(
        "BANK_HOLIDAYS_SUBDIVISION",
        "ENG",
        "The country's subdivision (England and Wales share their bank holidays); empty for none.",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def default_config(instance_path: str) -> dict[str, Any]:
    """The settings a development checkout runs with when nothing else is said."""
    config = {setting.name: copy.deepcopy(setting.default) for setting in SETTINGS}
    config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        instance_path, "fieldwork.sqlite"
    )
    return config


def default(name: str) -> Any:
    """A setting's declared default."""
    return _BY_NAME[name].default


def setting(name: str) -> Any:
    """A setting's value: the app's when there is one, else its declared default (a script or
    a pure test without an app)."""
    if has_app_context():
        return current_app.config[name]
    return default(name)


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


def _parse(setting: Setting, variable: str, raw: str) -> Any:
    """A value from the environment as the setting's type; a bad one stops the start with the
    variable's name, rather than failing later where it is used."""
    kind = setting.kind
    if kind is None:
        raise ConfigurationError(
            f"{variable} cannot be set in the environment; set {setting.name} in "
            "instance/config.py."
        )
    if kind is bool:
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigurationError(f"{variable} is {raw!r}; say true or false.")
    try:
        return kind(raw)
    except ValueError:
        what = {int: "a whole number", float: "a number"}.get(kind, kind.__name__)
        raise ConfigurationError(f"{variable} is {raw!r}; it must be {what}.") from None


def environment_overrides() -> dict[str, Any]:
    """Settings given in the environment: first the documented names (DATABASE_URL, SECRET_KEY,
    SMTP_HOST ...), then FIELDWORK_<NAME> for any setting, read with Flask's `from_prefixed_env`
    (which wins). An unknown FIELDWORK_ variable is refused: it is a typo, not a wish."""
    overrides: dict[str, Any] = {}
    for item in SETTINGS:
        raw = os.environ.get(item.environ) if item.environ else None
        if raw:
            overrides[item.name] = _parse(item, item.environ or item.name, raw)
    prefixed = Config(os.getcwd())
    prefixed.from_prefixed_env(ENVIRONMENT_PREFIX, loads=str)
    for key, raw in prefixed.items():
        variable = f"{ENVIRONMENT_PREFIX}_{key}"
        declared = _BY_NAME.get(key)
        if declared is None and variable in _BY_NAME:
            continue  # FIELDWORK_ENV, FIELDWORK_TIMEZONE: read above under their own names
        if declared is None:
            raise ConfigurationError(
                f"{variable} is not a Fieldwork setting (docs/configuration.md lists them)."
            )
        if raw:
            overrides[key] = _parse(declared, variable, str(raw))
    uri = overrides.get("SQLALCHEMY_DATABASE_URI")
    if isinstance(uri, str) and uri.startswith("postgres://"):
        # Heroku-style URLs name a dialect SQLAlchemy no longer accepts.
        overrides["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif isinstance(uri, str) and uri.startswith("postgresql://"):
        overrides["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    return overrides


def configuration_markdown() -> str:
    """docs/configuration.md: every setting, its environment variables, default and purpose."""
    lines = [
        "# Configuration",
        "",
        "Generated from the declarations in `fieldwork/config.py` (a test keeps the two the "
        "same): `python -c 'import fieldwork.config as c; print(c.configuration_markdown(), "
        'end="")\' > docs/configuration.md`.',
        "",
        "Settings come in layers: the defaults below, then `instance/config.py` (Python "
        'assignments, `SMTP_HOST = "mail.example.org"`), then the environment. In the '
        f"environment every setting can be given as `{ENVIRONMENT_PREFIX}_<NAME>` (read with "
        "Flask's `from_prefixed_env`; it wins); the documented names in the second column keep "
        "working too. Booleans take true/false, 1/0, yes/no or on/off. An unknown "
        f"`{ENVIRONMENT_PREFIX}_` variable, or a value of the wrong type, stops the start with a "
        "message naming it.",
        "",
        "| setting | environment | default | what it is for |",
        "|---|---|---|---|",
    ]
    for item in SETTINGS:
        if item.kind is None:
            names = "instance/config.py only"
        else:
            variables = [item.environ] if item.environ else []
            if not item.name.startswith(ENVIRONMENT_PREFIX + "_"):
                variables.append(f"{ENVIRONMENT_PREFIX}_{item.name}")
            names = ", ".join(f"`{name}`" for name in variables)
        default = (
            "(instance/fieldwork.sqlite)"
            if item.name == "SQLALCHEMY_DATABASE_URI"
            else (f"`{item.default!r}`")
        )
        lines.append(f"| `{item.name}` | {names} | {default} | {item.doc} |")
    return "\n".join(lines) + "\n"
