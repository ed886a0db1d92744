"""Shared fixtures: `app`, `client`, `runner`, `auth`, `count_queries`.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set; on
PostgreSQL every run gets a schema of its own, dropped at the end, so runs never meet.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from fieldwork import create_app
from fieldwork.core import revision_cache
from fieldwork.core.time import set_clock
from fieldwork.extensions import db, limiter
from tests.factories import PASSWORD

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _database_config(tmp_path_factory) -> tuple[dict, str | None]:
    """Engine settings for this run, and the PostgreSQL schema to drop afterwards (if any)."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"fw_test_{os.getpid()}_{secrets.token_hex(4)}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
        return {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}, schema
    path = tmp_path_factory.mktemp("db") / "test.sqlite"
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, None


@pytest.fixture(scope="session")
def database_config(tmp_path_factory) -> Iterator[dict]:
    config, schema = _database_config(tmp_path_factory)
    yield config
    if schema:
        engine = sa.create_engine(config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def _app(database_config) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            # Cheap hashing keeps the suite fast; production uses scrypt (tested in accounts).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Tests serve calendars on 127.0.0.1; tests/scheduling/test_busy.py checks the refusal.
            "BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES": True,
            "SERVER_NAME": None,
            **database_config,
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app, inside an app context, over empty tables; CSRF is off except where a test
    turns it on (`csrf_app`)."""
    _app.config["WTF_CSRF_ENABLED"] = False
    with _app.app_context():
        yield _app
        db.session.remove()
    set_clock(None)
    limiter.reset()
    # Cached results (coverage figures, home panels) are keyed by study id and revision: both
    # may come round again over emptied tables, so no entry outlives its test.
    _app.extensions.pop(revision_cache.EXTENSION, None)
    _empty_all_tables(_app)


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in an app context of its own.

    The `app` fixture keeps an app context open for the test's own set-up; without this, a
    request would reuse it, and `g` (the logged-in user, the current study) and the database
    session would leak from one request into the next, as they never do in production.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out as a user."""

    def __init__(self, client: FlaskClient):
        self._client = client

    def login(self, user_or_email, password: str = PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        response = self._client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, "login failed in a test set-up"
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """`with count_queries() as counter:` counts the SQL statements run inside the block."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return counting
