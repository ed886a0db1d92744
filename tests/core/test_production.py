"""Production settings: refused without a real secret, secure cookies when accepted."""

import pytest

from fieldwork import create_app
from fieldwork.config import ConfigurationError

REAL_SECRET = "k" * 48


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"FIELDWORK_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigurationError):
        create_app(
            {
                "FIELDWORK_ENV": "production",
                "SECRET_KEY": "short",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
            }
        )


def test_production_refuses_debug():
    with pytest.raises(ConfigurationError, match="DEBUG"):
        create_app(
            {
                "FIELDWORK_ENV": "production",
                "SECRET_KEY": REAL_SECRET,
                "DEBUG": True,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
            }
        )


def test_production_makes_cookies_secure_and_sends_hsts():
    app = create_app(
        {
            "FIELDWORK_ENV": "production",
            "SECRET_KEY": REAL_SECRET,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/login", base_url="https://fieldwork.example.org")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_environment_variables_configure_production(monkeypatch):
    monkeypatch.setenv("FIELDWORK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", REAL_SECRET)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(ConfigurationError):
        create_app()
