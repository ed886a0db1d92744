"""The /api/v1/docs page: the API's endpoints in plain HTML, for people who are logged in."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from fieldwork.api.blueprint import BASE_PATH
from fieldwork.api.spec import document


class _Collector(HTMLParser):
    """Collects ids, headings' text, script sources and stylesheet links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.headings: list[str] = []
        self.external: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag in ("h2",):
            self._in_heading = True
            self.headings.append("")
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if tag in ("script", "link") and re.match(r"^(https?:)?//", value):
                self.external.append(value)

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_heading = False

    def handle_data(self, data):
        if self._in_heading:
            self.headings[-1] += data


def test_the_docs_page_sends_visitors_to_log_in_first(api_client):
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/api/v1/docs"]


def test_the_docs_page_lists_every_documented_operation(app, api_client, api_auth, frame):
    api_auth.login(frame["coordinator"])
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = _Collector()
    page.feed(response.get_data(as_text=True))
    served = document(app)
    expected = {
        f"{method.upper()} {BASE_PATH}{path}"
        for path, item in served["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert expected <= {heading.strip() for heading in page.headings}
    assert len(page.ids) == len(set(page.ids)), "ids must be unique"
    assert page.external == [], "no CDN: everything is served by the app"
    assert "/api/v1/openapi.json" in response.get_data(as_text=True)


def test_the_docs_page_tells_an_interviewer_what_they_see(api_client, api_auth, frame):
    api_auth.login(frame["alice"])
    body = api_client.get("/api/v1/docs").get_data(as_text=True)
    assert "only the participants assigned to you" in body
