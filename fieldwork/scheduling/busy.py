"""Interviewers' published busy calendars: fetch (or upload), parse, store as BusyBlock rows.

No calendar account access: an interviewer gives the address their calendar publishes
(Outlook's "publish calendar", Google's secret iCal address, Apple's public calendar) or
uploads a file. Recurring events are expanded for the next `HORIZON_DAYS` days with
`recurring-ical-events`. `refresh_busy_calendars()` is the periodic job.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from typing import IO

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.config import setting
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.scheduling.models import BusyBlock, BusyCalendar

log = logging.getLogger(__name__)

#: How far ahead busy times are read.
HORIZON_DAYS = 90
#: Largest calendar accepted, fetched or uploaded.
MAX_BYTES = 5 * 1024 * 1024
#: Seconds to wait for a calendar server.
FETCH_TIMEOUT = 15
#: Most blocks kept per calendar (a runaway recurrence cannot fill the database).
MAX_BLOCKS = 5000


class BusyCalendarError(ValueError):
    """The calendar cannot be fetched or read; the message is for the interviewer."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global and not ip.is_multicast


def resolve_checked(url: str) -> tuple[urllib.parse.SplitResult, str]:
    """The URL's parts and the one address it will be fetched from: resolved once, and (unless
    BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES) refused when any address the name has is on a
    private, loopback or link-local network.

    Interviewers type these addresses; without the check the server could be made to read its
    own network (SSRF). The fetch then connects to exactly the address checked here, never
    resolving the name again, so a DNS answer that changes between check and fetch (DNS
    rebinding) cannot point it elsewhere.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise BusyCalendarError("Only http and https addresses can be read.")
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host:
        raise BusyCalendarError("That address has no host name.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise BusyCalendarError(f"The host {host} could not be found.") from error
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise BusyCalendarError(f"The host {host} could not be found.")
    allow_private = current_app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"]
    if not allow_private and not all(_is_public(str(address)) for address in addresses):
        raise BusyCalendarError(
            "That address is on a private or local network; only public calendar "
            "addresses can be read."
        )
    return parts, str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed IP address; the Host header keeps the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a fixed IP address; SNI, certificate check and Host header use
    the name from the URL."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.pinned_address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


#: Redirects followed at most, each to a checked public address.
MAX_REDIRECTS = 5


def _get_pinned(url: str) -> bytes:
    """GET `url` from the address checked for it, following redirects (each checked and
    pinned the same way), with a timeout and a size limit."""
    for _ in range(MAX_REDIRECTS + 1):
        parts, address = resolve_checked(url)
        is_https = parts.scheme.lower() == "https"
        port = parts.port or (443 if is_https else 80)
        kind = _PinnedHTTPSConnection if is_https else _PinnedHTTPConnection
        connection = kind(parts.hostname or "", port, address, FETCH_TIMEOUT)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request("GET", path, headers={"User-Agent": "Fieldwork busy-time reader"})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location") or ""
                if not location:
                    raise BusyCalendarError("The calendar server redirected to nowhere.")
                url = urllib.parse.urljoin(url, location)
                continue
            if response.status != 200:
                raise BusyCalendarError(f"The calendar server answered {response.status}.")
            return response.read(MAX_BYTES + 1)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise BusyCalendarError(f"The calendar could not be fetched ({error}).") from error
        finally:
            connection.close()
    raise BusyCalendarError("The calendar server redirected too many times.")


def fetch(url: str) -> bytes:
    """GET a published calendar over http(s) from its checked address, with a timeout and a
    size limit."""
    data = _get_pinned(url)
    if len(data) > MAX_BYTES:
        raise BusyCalendarError("The calendar is larger than 5 MB.")
    return data


def read_upload(stream: IO[bytes]) -> str:
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BusyCalendarError("The file is larger than 5 MB.")
    return data.decode("utf-8", errors="replace")


def _aware(value, default_zone: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=default_zone)
    # An all-day event (a date) is busy from midnight to midnight in the calendar's zone.
    return dt.datetime.combine(value, dt.time()).replace(tzinfo=default_zone)


def parse_busy_blocks(
    data: bytes | str, starts_at: dt.datetime, ends_at: dt.datetime, default_zone: str = "UTC"
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Busy intervals (UTC) between the two moments: events that are not transparent or
    cancelled, recurring ones expanded; overlapping intervals merged. Floating times and
    all-day events are read in `default_zone` (the interviewer's). Read in a child process
    with time and memory limits (busy_limits.py), so a hostile calendar is refused, not run."""
    from fieldwork.scheduling import busy_limits

    try:
        merged = busy_limits.expand_isolated(
            data, starts_at, ends_at, default_zone, seconds=_expansion_seconds()
        )
    except busy_limits.CalendarLimitError as error:
        raise BusyCalendarError(str(error)) from error
    return merged[:MAX_BLOCKS]


def _expansion_seconds() -> float:
    return float(setting("BUSY_CALENDAR_SECONDS"))  # a script or a pure test: the default


def refresh_calendar(calendar: BusyCalendar) -> None:
    """Read the calendar again and replace its blocks; a failure is kept in `last_error`
    (the old blocks stay, better than none). Commits."""
    starts_at = now_utc() - dt.timedelta(days=1)
    ends_at = now_utc() + dt.timedelta(days=HORIZON_DAYS)
    try:
        data = fetch(calendar.url) if calendar.url else calendar.uploaded_content
        owner = db.session.get(User, calendar.interviewer_id)
        blocks = parse_busy_blocks(data, starts_at, ends_at, owner.timezone if owner else "UTC")
    except BusyCalendarError as error:
        calendar.last_error = str(error)
        db.session.commit()
        return
    db.session.execute(delete(BusyBlock).where(BusyBlock.busy_calendar_id == calendar.id))
    db.session.add_all(
        BusyBlock(busy_calendar_id=calendar.id, starts_at=start, ends_at=end)
        for start, end in blocks
    )
    calendar.last_refreshed_at = now_utc()
    calendar.last_error = ""
    db.session.commit()


def add_busy_calendar(interviewer: User, name: str, url: str, content: str) -> BusyCalendar:
    """Add a calendar and read it once at once. An uploaded file that cannot be read is
    refused; an address that fails now is kept (the server may be down) with the error."""
    if content:
        parse_busy_blocks(content, now_utc(), now_utc() + dt.timedelta(days=1))
    calendar = BusyCalendar(
        interviewer_id=interviewer.id, name=name.strip(), url=url.strip(), uploaded_content=content
    )
    db.session.add(calendar)
    db.session.commit()
    refresh_calendar(calendar)
    return calendar


def calendars_for_viewer(viewer: User) -> list[BusyCalendar]:
    statement = select(BusyCalendar).options(joinedload(BusyCalendar.interviewer))
    if not viewer.is_coordinator:
        statement = statement.where(BusyCalendar.interviewer_id == viewer.id)
    return list(db.session.scalars(statement.order_by(BusyCalendar.name)).unique())


def get_calendar(calendar_id: int, viewer: User) -> BusyCalendar | None:
    calendar = db.session.get(BusyCalendar, calendar_id)
    if calendar is None or (not viewer.is_coordinator and calendar.interviewer_id != viewer.id):
        return None
    return calendar


def delete_calendar(calendar: BusyCalendar) -> None:
    db.session.execute(delete(BusyBlock).where(BusyBlock.busy_calendar_id == calendar.id))
    db.session.delete(calendar)
    db.session.commit()


def refresh_busy_calendars(
    stop: threading.Event | None = None, budget_seconds: float | None = None
) -> int:
    """The periodic job: refresh every calendar (an uploaded file too, so its recurring events
    stay expanded 90 days ahead); returns how many were read without error. One calendar's
    failure never stops the others. The job stops when `stop` is set or after its time budget
    (BUSY_REFRESH_JOB_SECONDS); the calendars read longest ago go first, so the next run
    continues where this one stopped."""

    if budget_seconds is None:
        budget_seconds = float(current_app.config["BUSY_REFRESH_JOB_SECONDS"])
    deadline = time.monotonic() + budget_seconds
    ids = list(
        db.session.scalars(
            select(BusyCalendar.id).order_by(
                BusyCalendar.last_refreshed_at.is_not(None),
                BusyCalendar.last_refreshed_at,
                BusyCalendar.id,
            )
        )
    )
    succeeded = 0
    for calendar_id in ids:
        if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
            log.warning("busy calendars: refresh stopped early; the others wait for the next run")
            break
        calendar = db.session.get(BusyCalendar, calendar_id)
        if calendar is None:
            continue
        try:
            refresh_calendar(calendar)
        except Exception:  # a job must go on with the next calendar
            db.session.rollback()
            log.exception("refreshing busy calendar %s failed", calendar_id)
            continue
        if not calendar.last_error:
            succeeded += 1
    return succeeded
