"""Every setting is declared once in fieldwork/config.py, read from the environment with Flask's
`from_prefixed_env` (and under its documented name), and listed in docs/configuration.md."""

from __future__ import annotations

import ast
import os
import pathlib

import pytest

from fieldwork import config
from fieldwork.config import ConfigurationError, environment_overrides

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: Flask's and its extensions' own settings that Fieldwork reads without declaring a default.
FRAMEWORK_SETTINGS = {"DEBUG", "TESTING", "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The tests set what they need; nothing in the runner's environment leaks in."""
    documented = {item.environ for item in config.SETTINGS}
    for name in list(os.environ):
        if name.startswith("FIELDWORK_") or name in documented:
            monkeypatch.delenv(name)


def test_docs_configuration_lists_every_setting_as_declared():
    """docs/configuration.md is the generated table, word for word."""
    written = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert written == config.configuration_markdown()


def test_every_setting_the_code_reads_is_declared():
    """No setting is read with an inline default or left undeclared: `config["X"]`,
    `config.get("X")` and `setting("X")` anywhere in fieldwork/ name a declared setting."""
    read: set[str] = set()
    for path in (ROOT / "fieldwork").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and _is_config(node.value):
                key = node.slice
            elif (
                (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"get", "setdefault"}
                    and _is_config(node.func.value)
                )
                or isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "setting"
            ):
                key = node.args[0] if node.args else None
            else:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                read.add(key.value)
    declared = {item.name for item in config.SETTINGS}
    assert read - declared - FRAMEWORK_SETTINGS == set()
    assert "SMTP_HOST" in read  # the scan finds reads at all


def _is_config(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "config") or (
        isinstance(node, ast.Name) and node.id == "config"
    )


def test_any_setting_can_be_given_with_the_fieldwork_prefix(monkeypatch):
    monkeypatch.setenv("FIELDWORK_PAGE_SIZE", "120")
    monkeypatch.setenv("FIELDWORK_SMTP_USE_TLS", "yes")
    monkeypatch.setenv("FIELDWORK_IMAP_POLL_SECONDS", "12.5")
    overrides = environment_overrides()
    assert overrides["PAGE_SIZE"] == 120
    assert overrides["SMTP_USE_TLS"] is True
    assert overrides["IMAP_POLL_SECONDS"] == 12.5


def test_the_documented_names_still_set_their_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example.org/fieldwork")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("SMTP_PORT", "587")
    monkeypatch.setenv("FIELDWORK_TIMEZONE", "America/New_York")
    overrides = environment_overrides()
    assert overrides["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://user@db.example.org/fieldwork"
    )
    assert overrides["SECRET_KEY"] == "k" * 40
    assert overrides["SMTP_HOST"] == "mail.example.org"
    assert overrides["SMTP_PORT"] == 587
    assert overrides["FIELDWORK_TIMEZONE"] == "America/New_York"
    assert "TIMEZONE" not in overrides


def test_a_password_of_digits_stays_a_string(monkeypatch):
    """Values are parsed by the declared type, not guessed from their look (JSON would make
    this password a number)."""
    monkeypatch.setenv("SMTP_PASSWORD", "0123456")
    assert environment_overrides()["SMTP_PASSWORD"] == "0123456"


def test_the_prefixed_name_wins_over_the_documented_one(monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "old.example.org")
    monkeypatch.setenv("FIELDWORK_SMTP_HOST", "new.example.org")
    assert environment_overrides()["SMTP_HOST"] == "new.example.org"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SMTP_PORT", "twenty-five", "SMTP_PORT is 'twenty-five'; it must be a whole number"),
        ("FIELDWORK_SCHEDULER_SWEEP_SECONDS", "soon", "it must be a number"),
        ("SMTP_USE_TLS", "maybe", "say true or false"),
        ("FIELDWORK_SMTP_HOTS", "mail.example.org", "FIELDWORK_SMTP_HOTS is not a Fieldwork"),
        ("FIELDWORK_SQLALCHEMY_ENGINE_OPTIONS", "{}", "set SQLALCHEMY_ENGINE_OPTIONS in"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        environment_overrides()


def test_outside_an_app_a_setting_reads_its_declared_default():
    assert config.setting("BANK_HOLIDAYS_COUNTRY") == "GB"
    assert config.default("SMTP_DATA_TIMEOUT") == 90.0


def test_the_app_reads_settings_from_the_environment(monkeypatch, tmp_path):
    from fieldwork import create_app

    monkeypatch.setenv("FIELDWORK_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'settings.sqlite'}")
    monkeypatch.setenv("FIELDWORK_PAGE_SIZE", "25")
    monkeypatch.setenv("REMINDER_DIGEST_HOUR", "7")
    app = create_app()
    assert app.config["PAGE_SIZE"] == 25
    assert app.config["REMINDER_DIGEST_HOUR"] == 7
    assert app.config["OUTBOX_MAX_ATTEMPTS"] == 8  # declared default
