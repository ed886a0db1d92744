"""Every page of the app is valid HTML (Nu HTML checker) and passes axe-core in a real browser.

The pages are found by walking the app's URL map over the demo study, as its coordinator and as
its interviewer, so a new page is checked without anyone listing it. A GET route whose URL
arguments cannot be filled from the demo study fails the walk until it is given a value here
(tests/demo_urls.py) or skipped with a reason (SKIPPED_ENDPOINTS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.demo_urls import (
    COORDINATOR,
    VIEWERS,
    Demo,
    argument_values,
    build_url,
    make_demo,
    unknown_arguments,
)
from tests.pagecheck import (
    ARTIFACTS,
    axe_violations,
    describe_axe,
    log_in_through_form,
    require_axe,
    require_vnu,
    vnu_errors,
)

#: Endpoints the walk leaves out, and why. Every other GET route is visited.
SKIPPED_ENDPOINTS = {
    "static": "serves files from static/, not pages",
}

#: Statuses of an HTML answer that mean "not a page for this viewer" rather than a fault.
ALLOWED_STATUSES = {
    "coordinator": {200, 302, 303},
    "interviewer": {200, 302, 303, 403},
}


@dataclass
class Walk:
    """What walking the URL map found for one viewer."""

    viewer: str
    pages: dict[str, str] = field(default_factory=dict)  # URL -> HTML of each 200 HTML answer
    other: dict[str, str] = field(default_factory=dict)  # URL -> why it is not checked
    problems: list[str] = field(default_factory=list)


def page_urls(app: Flask, demo: Demo, viewer: str) -> tuple[list[str], list[str]]:
    """The URL of every GET route for this viewer, and the routes that cannot be filled."""
    urls, problems = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        unknown = unknown_arguments(rule)
        if unknown:
            problems.append(
                f"{rule.rule} ({rule.endpoint}): no value for {', '.join(unknown)}; add it to "
                "tests/demo_urls.py or the endpoint to SKIPPED_ENDPOINTS with a reason"
            )
            continue
        values = argument_values(rule, demo, viewer)
        if any(value is None for value in values.values()):
            problems.append(
                f"{rule.rule} ({rule.endpoint}): the demo study has no row for "
                f"{viewer} to fill {values}"
            )
            continue
        urls.append(build_url(rule, values))
    return urls, problems


class Visitor:
    """A test client that gives each request an app context of its own, as a server does.

    The `app` fixture keeps an app context pushed, which test-client requests would otherwise
    share; Flask-Login caches the logged-in user in that context's `g`, so two clients would
    see one user.
    """

    def __init__(self, app: Flask, viewer: str | None = None) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        if viewer is not None:
            login = VIEWERS[viewer]
            status, _, _ = self.request(
                "POST", "/login", {"email": login.email, "password": login.password}
            )
            assert status == 302, f"the demo {viewer} cannot log in"

    def request(self, method: str, url: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status code, media type, body) of one request; a file download is closed."""
        with self.app.app_context(), self.client.open(url, method=method, data=data) as response:
            body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
            return response.status_code, response.mimetype, body

    def html(self, method: str, url: str, status: int, data: dict | None = None) -> str:
        """The HTML of a page that must answer with `status`."""
        got, kind, body = self.request(method, url, data)
        assert (got, kind) == (status, "text/html"), f"{method} {url}: {got} {kind}"
        return body


def walk(app: Flask, demo: Demo, viewer: str) -> Walk:
    """GET every page as `viewer` and sort the answers."""
    visitor = Visitor(app, viewer)
    result = Walk(viewer)
    urls, result.problems = page_urls(app, demo, viewer)
    for url in urls:
        status, kind, body = visitor.request("GET", url)
        if kind != "text/html" and status < 500:
            # JSON, CSV, calendars, files: not pages (a 400 for a missing query is the API's
            # own answer); their own tests check them.
            result.other[url] = f"{status} {kind}"
        elif status not in ALLOWED_STATUSES[viewer]:
            result.problems.append(f"{viewer} GET {url} answered {status} {kind}")
        elif status == 200:
            result.pages[url] = body
        else:
            result.other[url] = f"{status} {kind}"
    return result


@pytest.fixture
def demo(app: Flask) -> Demo:
    return make_demo()


@pytest.fixture
def html_checker() -> None:
    """Before the slow walk: skip (or fail in CI) at once if the checker is missing."""
    require_vnu()


@pytest.fixture
def axe_script() -> None:
    require_axe()


@pytest.fixture
def walks(app: Flask, demo: Demo) -> dict[str, Walk]:
    return {viewer: walk(app, demo, viewer) for viewer in VIEWERS}


def test_every_get_route_is_reached_and_answers_without_a_fault(walks):
    """Each GET route of the URL map is filled from the demo study and answers as expected
    (a page, a redirect, a file; 403 for an interviewer on a coordinator's page), never 500."""
    problems = list(dict.fromkeys(p for result in walks.values() for p in result.problems))
    assert not problems, "\n".join(problems)
    assert "/" in walks["coordinator"].pages
    assert "/participants" in walks["interviewer"].pages
    assert "/healthz" in walks["coordinator"].other, "JSON answers are told apart by type"


def special_pages(app: Flask) -> dict[str, str]:
    """Pages the walk does not reach: logged out, errors, and forms showing their errors."""
    anonymous, coordinator = Visitor(app), Visitor(app, "coordinator")
    interviewer = Visitor(app, "interviewer")
    return {
        "anonymous GET /login": anonymous.html("GET", "/login", 200),
        "anonymous POST /login (empty)": anonymous.html("POST", "/login", 422, {}),
        "anonymous GET /no-such-page": anonymous.html("GET", "/no-such-page", 404),
        "coordinator GET /no-such-page": coordinator.html("GET", "/no-such-page", 404),
        "coordinator POST /participants/new (empty)": coordinator.html(
            "POST", "/participants/new", 422, {}
        ),
        "interviewer GET /users (forbidden)": interviewer.html("GET", "/users", 403),
    }


def test_every_page_is_valid_html(html_checker, app, walks, tmp_path):
    """The Nu HTML checker finds no error in any page, logged out, as coordinator and as
    interviewer, including error pages and forms showing validation messages."""
    pages = special_pages(app)
    for viewer, result in walks.items():
        for url, html in result.pages.items():
            pages[f"{viewer} GET {url}"] = html
    errors = vnu_errors(pages, tmp_path / "html")
    assert not errors, f"{len(errors)} HTML error(s):\n" + "\n".join(errors)


@pytest.mark.browser
def test_every_page_passes_axe_core(axe_script, page, app, walks, live_server, console):
    """axe-core, run in chromium on each page, finds no serious or critical violation; nor does
    any page log a console error (a blocked inline style or script, say)."""
    console.expect_status(403, 404, 422)
    failures: list[str] = []

    def check(label: str) -> None:
        failures.extend(describe_axe(label, axe_violations(page)))
        failures.extend(f"{label}: {problem}" for problem in console.take())

    page.goto(live_server("/login"))
    check("anonymous GET /login")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").wait_for()
    check("anonymous POST /login (empty)")
    page.goto(live_server("/no-such-page"))
    check("anonymous GET /no-such-page")

    for viewer, login in VIEWERS.items():
        log_in_through_form(page, live_server, login.email, login.password)
        for url in walks[viewer].pages:
            page.goto(live_server(url))
            check(f"{viewer} GET {url}")
        if viewer == "coordinator":
            page.goto(live_server("/no-such-page"))
            check("coordinator GET /no-such-page")
            page.goto(live_server("/participants/new"))
            page.get_by_role("button", name="Add participant").click()
            page.get_by_role("alert").wait_for()
            check("coordinator POST /participants/new (empty)")
        else:
            page.goto(live_server("/users"))
            check("interviewer GET /users (forbidden)")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/login")

    assert not failures, f"{len(failures)} accessibility problem(s):\n" + "\n".join(failures)


@pytest.mark.browser
def test_screenshots_of_the_overview_and_the_participant_list(app, demo, page, live_server):
    """Saved to test-artifacts/ for people to look at: the overview and the participant list
    at 1280 px, and the list on a 390 px phone, where the table must not overflow sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_in_through_form(page, live_server, COORDINATOR.email, COORDINATOR.password)
    page.goto(live_server("/"))
    page.screenshot(path=str(ARTIFACTS / "home-1280.png"), full_page=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server("/participants"))
        page.screenshot(path=str(ARTIFACTS / f"participants-{width}.png"))
        page.screenshot(path=str(ARTIFACTS / f"participants-{width}-full.png"), full_page=True)
        page.locator("#participants tbody").evaluate("(body) => body.scrollIntoView()")
        page.screenshot(path=str(ARTIFACTS / f"participants-{width}-rows.png"))
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the participant list is {overflow}px wider than a phone's screen"
