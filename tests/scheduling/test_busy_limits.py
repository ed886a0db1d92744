"""Hostile busy calendars are bounded: refused above a size, refused when their repeating
rules would take too many steps, stopped after a time budget in a process of their own, in the
web request and in the scheduler's refresh job (itself capped)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from fieldwork.extensions import db
from fieldwork.scheduling import busy, busy_limits
from fieldwork.scheduling.models import BusyBlock, BusyCalendar
from tests.scheduling.conftest import at


def _calendar(rule: str, start: str = "20260101T000000Z") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:x@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\n"
        f"DTEND:{start[:-2]}1Z\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


#: The 209-byte calendar that once held a web worker for 30 s at 668 MiB.
SECONDLY = _calendar("FREQ=SECONDLY")
#: Cheap by the step estimate, yet dateutil searches hours that never match: seconds of CPU.
NEVER_MATCHES = _calendar("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", start="20260320T000000Z")


def test_the_secondly_calendar_is_refused_at_once_with_a_reason():
    assert len(SECONDLY) < 250
    started = time.monotonic()
    with pytest.raises(busy.BusyCalendarError, match="repeats too often"):
        busy.parse_busy_blocks(SECONDLY, at(2026, 3, 20, 0), at(2026, 6, 18, 0))
    assert time.monotonic() - started < 3


def test_an_expansion_that_runs_too_long_is_stopped_at_the_time_budget():
    started = time.monotonic()
    with pytest.raises(busy_limits.CalendarLimitError, match="longer than 1 seconds"):
        busy_limits.expand_isolated(
            NEVER_MATCHES, at(2026, 3, 20, 0), at(2026, 6, 18, 0), seconds=1
        )
    assert time.monotonic() - started < 3


def test_a_calendar_above_the_size_limit_is_refused():
    with pytest.raises(busy.BusyCalendarError, match="larger than 5 MB"):
        busy.parse_busy_blocks(
            b"x" * (busy_limits.MAX_BYTES + 1), at(2026, 3, 20, 0), at(2026, 6, 18, 0)
        )


def test_uploading_the_secondly_calendar_through_the_page_is_refused_quickly(world, client, auth):
    auth.login(world["kathryn"])
    started = time.monotonic()
    response = client.post(
        "/availability/busy-calendars",
        data={
            "interviewer_id": world["kathryn"].id,
            "name": "Hostile",
            "url": "",
            "upload": (io.BytesIO(SECONDLY), "calendar.ics"),
        },
        content_type="multipart/form-data",
    )
    assert time.monotonic() - started < 3
    assert response.status_code in (400, 422)
    assert "repeats too often" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(BusyCalendar.id))) == 0


def test_the_refresh_job_records_the_refusal_and_goes_on(world, clock, app):
    """A stored calendar that became hostile (its address now serves the secondly rule) is
    refused with its reason kept; the other calendars are refreshed."""
    weekly = (Path(__file__).parent / "data" / "weekly_team_meeting.ics").read_text()
    good = busy.add_busy_calendar(world["kathryn"], "Good", "", weekly)
    bad = BusyCalendar(
        interviewer_id=world["kathryn"].id, name="Bad", url="", uploaded_content=SECONDLY.decode()
    )
    db.session.add(bad)
    db.session.commit()
    started = time.monotonic()
    assert busy.refresh_busy_calendars() == 1
    assert time.monotonic() - started < 10
    db.session.expire_all()
    assert "repeats too often" in db.session.get(BusyCalendar, bad.id).last_error
    assert db.session.get(BusyCalendar, good.id).last_error == ""
    assert db.session.scalar(db.select(db.func.count(BusyBlock.id))) > 0


def test_the_refresh_job_stops_at_its_budget_or_when_told_to(world, clock):
    for number in range(3):
        db.session.add(
            BusyCalendar(
                interviewer_id=world["kathryn"].id,
                name=f"Slow {number}",
                url="",
                uploaded_content=NEVER_MATCHES.decode(),
            )
        )
    db.session.commit()
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    assert busy.refresh_busy_calendars(stop=stop) == 0
    assert busy.refresh_busy_calendars(budget_seconds=0) == 0
    assert time.monotonic() - started < 1
    assert all(c.last_refreshed_at is None for c in db.session.scalars(db.select(BusyCalendar)))
