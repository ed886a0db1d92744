"""Which environment the app runs in: development only when asked for, production otherwise."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fieldwork import create_app
from fieldwork.config import DEVELOPMENT_SECRET_KEY, ConfigurationError

PROJECT = Path(__file__).resolve().parents[2]
REAL_SECRET = "r" * 48


def _without_fieldwork_settings(monkeypatch) -> None:
    for key in ("FIELDWORK_ENV", "SECRET_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")


def test_without_a_secret_key_a_plain_start_is_refused(monkeypatch):
    """gunicorn or any command but `flask run`, with no SECRET_KEY: refused, saying what to set."""
    _without_fieldwork_settings(monkeypatch)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_the_public_development_key_is_refused_outside_development(monkeypatch):
    _without_fieldwork_settings(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("value", ["prod", "Production", "dev", "test", "staging", " production"])
def test_a_mistyped_environment_is_refused_by_name(monkeypatch, value):
    """A typo never falls back to development; the message names the two values allowed."""
    _without_fieldwork_settings(monkeypatch)
    monkeypatch.setenv("FIELDWORK_ENV", value)
    monkeypatch.setenv("SECRET_KEY", REAL_SECRET)
    with pytest.raises(ConfigurationError, match="'development' or 'production'"):
        create_app()


def test_explicit_development_runs_on_the_development_key(monkeypatch):
    _without_fieldwork_settings(monkeypatch)
    monkeypatch.setenv("FIELDWORK_ENV", "development")
    app = create_app()
    assert app.config["FIELDWORK_ENV"] == "development"
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert not app.config.get("SESSION_COOKIE_SECURE")


def test_unset_environment_with_a_real_key_is_production(monkeypatch):
    """No FIELDWORK_ENV but a real key: production settings (secure cookies), not development."""
    _without_fieldwork_settings(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", REAL_SECRET)
    app = create_app()
    assert app.config["FIELDWORK_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_a_forged_cookie_signed_with_the_public_key_opens_nothing(monkeypatch):
    """The attack from the report: a cookie signed with the development key is not accepted,
    because a production app never runs on that key."""
    _without_fieldwork_settings(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", REAL_SECRET)
    app = create_app()
    from flask.sessions import SecureCookieSessionInterface

    forger = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    forged = serializer.dumps({"_user_id": "1:1", "_fresh": True})
    client = app.test_client()
    client.set_cookie("session", forged, domain="localhost")
    response = client.get("/outbox", base_url="https://localhost")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_readme_run_command_starts_a_fresh_checkout_in_development(tmp_path):
    """`flask --app app run` with no SECRET_KEY or FIELDWORK_ENV: the development server starts,
    a new database gets the demo study, and the console prints the demo logins."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "FIELDWORK_ENV", "FLASK_DEBUG", "WERKZEUG_RUN_MAIN"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite'}",
        PYTHONUNBUFFERED="1",
        SMTP_PORT=str(_free_port()),
    )
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                    status = page.status
                    break
            except OSError:
                time.sleep(0.5)
        output = log_path.read_text(errors="replace")
        assert status == 200, output
        assert "coordinator@example.org" in output
        # No SMTP_HOST given: the console says mail stays in the outbox.
        assert "no mail server configured" in output
    finally:
        process.kill()
        process.wait(timeout=10)
