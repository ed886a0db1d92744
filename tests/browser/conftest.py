"""Browser fixtures: the app on a real port and Debian's chromium driven by Playwright.

The live server is a second app over the same database as the session app of tests/conftest.py
(so data a test makes with tests/factories.py, committed, is what the browser sees), with CSRF
protection on, as in production. A test that finishes with a console error or an uncaught
JavaScript error in the page fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from fieldwork import create_app
from fieldwork.extensions import db
from tests.factories import PASSWORD
from tests.pagecheck import (
    ConsoleWatch,
    LiveServer,
    chromium_browser,
    log_in_through_form,
    require_chromium,
)
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def live_app(database_config: dict) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-server-secret",
            "WTF_CSRF_ENABLED": True,
            "SERVER_NAME": None,
            **database_config,
        }
    )
    yield app
    # Close the server's pooled connections before the run's schema is dropped (an open
    # psycopg connection left to the garbage collector warns, and warnings are errors).
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    """The app served on 127.0.0.1 and a free port for the whole run."""
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_chromium()
    with chromium_browser() as launched:
        yield launched


@pytest.fixture
def console() -> ConsoleWatch:
    """The console errors of the test's page; `console.expect_status(422)` allows one answer."""
    return ConsoleWatch()


@pytest.fixture
def page(app: Flask, browser: Any, live_server: LiveServer, console: ConsoleWatch) -> Iterator[Any]:
    """A fresh browser tab (own cookies) at 1280 px; fails the test on any console error.

    It depends on `app` so that the tab closes before the tables are emptied.
    """
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    console.attach(tab)
    yield tab
    context.close()
    problems = console.take()
    if problems:
        pytest.fail("the page reported errors:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def log_in(page: Any, live_server: LiveServer):
    """`log_in(user)` logs the tab in through the login form."""

    def logging_in(user, password: str = PASSWORD) -> None:
        log_in_through_form(page, live_server, getattr(user, "email", user), password)

    return logging_in
