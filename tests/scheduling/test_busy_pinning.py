"""Busy calendars are fetched from the address that was checked (issue 11, point 10): the name
is resolved once, and the connection goes to that address with the name in the Host header
(and in SNI for https), so a DNS answer that changes after the check (rebinding) is never used.

A real HTTP server on loopback serves the calendar; only the DNS answer for the made-up name
`calendar.test` is supplied by the test, as a rebinding resolver would give it."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fieldwork.scheduling import busy

WEEKLY = (Path(__file__).parent / "data" / "weekly_team_meeting.ics").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hosts.append(self.headers.get("Host", ""))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/cal.ics")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(WEEKLY)))
        self.end_headers()
        self.wfile.write(WEEKLY)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    _Handler.hosts = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def rebinding(monkeypatch):
    """`calendar.test` answers `answers[0]` the first time, then `answers[1]` for ever after;
    every other name resolves as usual. Returns the list of answers and the call count."""
    real = socket.getaddrinfo
    state = {"answers": ["127.0.0.1", "10.255.255.1"], "calls": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "calendar.test":
            return real(host, port, *args, **kwargs)
        answer = state["answers"][min(state["calls"], 1)]
        state["calls"] += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return state


def test_the_calendar_comes_from_the_address_resolved_once_with_the_name_as_host(
    app, server, rebinding
):
    port = server.server_address[1]
    assert busy.fetch(f"http://calendar.test:{port}/cal.ics") == WEEKLY
    assert rebinding["calls"] == 1  # a second answer (10.255.255.1) was never asked for
    assert _Handler.hosts == [f"calendar.test:{port}"]


def test_each_redirect_is_resolved_once_and_fetched_from_its_own_checked_address(
    app, server, rebinding
):
    port = server.server_address[1]
    rebinding["answers"] = ["127.0.0.1", "127.0.0.1"]
    assert busy.fetch(f"http://calendar.test:{port}/redirect") == WEEKLY
    assert rebinding["calls"] == 2  # one resolution per hop
    assert _Handler.hosts == [f"calendar.test:{port}"] * 2


def test_a_name_rebound_to_a_private_address_after_the_check_is_never_fetched_from_it(
    app, server, rebinding, monkeypatch
):
    """The check sees a public address; the rebinding resolver would then say 127.0.0.1,
    where the server listens. The fetch goes to the public address (unreachable here) and
    the loopback server hears nothing."""
    app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"] = False
    monkeypatch.setattr(busy, "FETCH_TIMEOUT", 1)
    rebinding["answers"] = ["192.0.43.10", "127.0.0.1"]
    port = server.server_address[1]
    try:
        with pytest.raises(busy.BusyCalendarError):
            busy.fetch(f"http://calendar.test:{port}/cal.ics")
    finally:
        app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"] = True
    assert rebinding["calls"] == 1
    assert _Handler.hosts == []


def test_https_names_the_host_for_sni_and_the_certificate_check():
    connection = busy._PinnedHTTPSConnection("calendar.example.org", 443, "192.0.43.10", 5)
    assert connection.host == "calendar.example.org"
    assert connection.pinned_address == "192.0.43.10"
    assert connection._context.check_hostname is True
