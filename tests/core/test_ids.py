"""Ids out of range or not numbers answer 404 on every route, on SQLite and PostgreSQL, and an
error never leaves the session in a failed transaction for the error page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from fieldwork.extensions import db
from tests.factories import make_study, make_user

#: Beyond PostgreSQL's integer, beyond SQLite's integer, zero, negative, not a number.
BAD_IDS = ["2147483648", "9223372036854775808", "0", "-1", "abc", "1e3", "1.5"]


def _id_routes(app) -> list[tuple[str, str, list[str]]]:
    """(endpoint, rule, methods) of every route that takes an id in its path."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        routes.append((rule.endpoint, rule.rule, methods))
    return sorted(routes)


def _url(rule: str, bad: str) -> str:
    url = re.sub(r"<int:[a-z_]+>", bad, rule)
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "demo", url)


def test_every_route_with_an_id_is_covered(app):
    """The walk below sees the routes that take ids (dozens; none is missed by a typo)."""
    assert len(_id_routes(app)) >= 40


def test_out_of_range_and_non_numeric_ids_answer_404_on_every_route(app, client, auth):
    make_study()
    auth.login(make_user("coordinator"))
    failures = []
    for endpoint, rule, methods in _id_routes(app):
        for bad in BAD_IDS:
            url = _url(rule, bad)
            for method in methods:
                response = client.open(url, method=method)
                if response.status_code != 404:
                    failures.append(f"{method} {url} ({endpoint}): {response.status_code}")
    assert failures == []


def test_the_largest_id_the_database_holds_is_looked_up_not_refused(app, client, auth):
    """2^31-1 is a valid id (no such row here: 404 from the view, not from the router)."""
    make_study()
    auth.login(make_user("coordinator"))
    response = client.get("/appointments/2147483647")
    assert response.status_code == 404
    assert "skip-link" in response.get_data(as_text=True)  # the full error page


def test_the_error_page_renders_in_full_after_a_failed_statement(app):
    """A statement fails (on PostgreSQL the transaction is then refused every further
    statement); the error handler rolls back, so the page keeps its layout."""
    make_study()
    with app.test_request_context("/participants/1"):
        with pytest.raises(sa.exc.DBAPIError):
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        response = app.make_response(app.handle_http_exception(NotFound()))
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert response.content_type.startswith("text/html")
        assert "<!doctype html>" in page.lower()
        assert "skip-link" in page
        db.session.execute(sa.text("SELECT 1"))  # the session works again
