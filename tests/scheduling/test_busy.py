"""Published busy calendars: parsed with recurring events expanded, stored as blocks."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from fieldwork.extensions import db
from fieldwork.scheduling import busy
from fieldwork.scheduling.models import BusyBlock, BusyCalendar
from tests.scheduling.conftest import at

WEEKLY = (Path(__file__).parent / "data" / "weekly_team_meeting.ics").read_bytes()


def test_a_weekly_event_is_expanded_with_its_zone_and_exceptions():
    blocks = busy.parse_busy_blocks(WEEKLY, at(2026, 3, 16, 0), at(2026, 4, 13, 0), "Europe/London")
    # Tuesdays 09:00-10:00 Europe/London: 09:00Z in March (GMT), 08:00Z after the change;
    # the 7 April occurrence is cancelled (EXDATE); a transparent event is ignored; an all-day
    # event on 1 April blocks the whole local day.
    assert blocks == [
        (at(2026, 3, 17, 9), at(2026, 3, 17, 10)),
        (at(2026, 3, 24, 9), at(2026, 3, 24, 10)),
        (at(2026, 3, 31, 8), at(2026, 3, 31, 9)),
        (at(2026, 3, 31, 23), at(2026, 4, 1, 23)),
    ]


def test_a_file_that_is_not_a_calendar_is_refused():
    with pytest.raises(busy.BusyCalendarError):
        busy.parse_busy_blocks(b"hello", at(2026, 3, 16, 0), at(2026, 4, 13, 0))


def test_an_unreachable_address_is_recorded_as_the_calendars_error(world):
    calendar = busy.add_busy_calendar(world["kathryn"], "Work", "http://127.0.0.1:9/cal.ics", "")
    assert calendar.last_error.startswith("The calendar could not be fetched")
    assert calendar.last_refreshed_at is None


def test_refresh_job_replaces_the_blocks(world, clock):
    calendar = busy.add_busy_calendar(world["kathryn"], "Upload", "", WEEKLY.decode())
    count = db.session.scalar(db.select(db.func.count(BusyBlock.id)))
    assert count > 10  # 90 days of Tuesdays
    clock.move(clock.now + dt.timedelta(days=30))
    assert busy.refresh_busy_calendars() == 1
    db.session.expire_all()
    first = db.session.scalars(
        db.select(BusyBlock)
        .where(BusyBlock.busy_calendar_id == calendar.id)
        .order_by(BusyBlock.starts_at)
    ).first()
    assert first.starts_at >= clock.now - dt.timedelta(days=1)


def test_an_interviewer_uploads_a_calendar_through_the_page(world, client, auth):
    auth.login(world["kathryn"])
    response = client.post(
        "/availability/busy-calendars",
        data={
            "interviewer_id": world["kathryn"].id,
            "name": "Outlook export",
            "url": "",
            "upload": (io.BytesIO(WEEKLY), "calendar.ics"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(db.select(BusyCalendar.name)) == "Outlook export"
    page = client.get("/availability/busy-calendars").get_data(as_text=True)
    assert "Outlook export" in page


def test_a_page_post_without_address_or_file_is_refused_beside_the_field(world, client, auth):
    auth.login(world["kathryn"])
    response = client.post(
        "/availability/busy-calendars", data={"interviewer_id": world["kathryn"].id, "name": "x"}
    )
    assert response.status_code == 422
    assert "Enter the calendar&#39;s address or upload a file." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/cal.ics",
        "http://localhost/cal.ics",
        "http://10.1.2.3/cal.ics",
        "http://192.168.0.10/cal.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cal.ics",
        "https://[fd00::1]/cal.ics",
        "ftp://calendar.example.org/cal.ics",
        "file:///etc/passwd",
    ],
)
def test_private_and_local_addresses_are_refused_before_any_connection(app, url):
    """An interviewer cannot make the server read its own network (SSRF)."""
    app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"] = False
    try:
        with pytest.raises(busy.BusyCalendarError):
            busy.fetch(url)
    finally:
        app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"] = True


def test_a_redirect_to_a_private_address_is_refused(app):
    """Each redirect target is resolved and checked like the first address."""
    app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"] = False
    try:
        with pytest.raises(busy.BusyCalendarError, match="private or local"):
            busy.resolve_checked("http://127.0.0.1/admin")
    finally:
        app.config["BUSY_CALENDAR_ALLOW_PRIVATE_ADDRESSES"] = True
