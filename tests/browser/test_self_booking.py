"""A participant books, moves and cancels their interview from a private link, in a real
browser; and the scheduling pages pass axe-core and the Nu HTML checker."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.scheduling import services
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import axe_violations, describe_axe, expect, require_vnu, vnu_errors

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def booking(app):
    set_clock(lambda: NOW)
    frame = make_frame()
    coordinator = make_user("coordinator", name="Cora Coordinator")
    kathryn = make_user("interviewer", name="Kathryn Interviewer")
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Siân O'Brien",
        email="sian@example.org",
    )
    for weekday in range(5):
        services.add_window(kathryn, weekday, dt.time(9), dt.time(12), "Europe/London")
    link, token = services.create_booking_link(
        person, kathryn, coordinator, mode=AppointmentMode.TELEPHONE
    )
    db.session.commit()
    yield {
        **frame,
        "coordinator": coordinator,
        "kathryn": kathryn,
        "person": person,
        "token": token,
    }
    set_clock(None)


def test_a_participant_books_moves_and_cancels_from_their_link(booking, page, live_server):
    page.goto(live_server(f"/book/{booking['token']}"))
    expect(page.get_by_text("Times are in Europe/London (GMT/BST).")).to_be_visible()
    assert describe_axe("self-booking", axe_violations(page)) == []

    # Their own zone: the select submits itself; 09:00 GMT reads 05:00 EDT in New York.
    page.get_by_label("Show times in").select_option("America/New_York")
    expect(page.get_by_text("Times are in America/New_York (EST/EDT).")).to_be_visible()
    page.get_by_label("05:00 EDT").first.check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator("#current-booking")).to_contain_text(
        "Monday 23 March 2026, 05:00 EDT with Kathryn Interviewer"
    )
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == dt.datetime(2026, 3, 23, 9, tzinfo=dt.UTC)

    page.get_by_role("link", name="Choose another time").click()
    page.locator('input[value="2026-03-24T10:00Z"]').check()
    page.get_by_role("button", name="Move my interview to this time").click()
    expect(page.locator("#current-booking")).to_contain_text("Tuesday 24 March 2026, 06:00 EDT")

    page.get_by_role("button", name="Cancel my interview").click()
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED


def test_scheduling_pages_pass_axe_and_the_html_checker(
    booking, page, live_server, log_in, console, tmp_path
):
    require_vnu()
    appointment = services.book_appointment(
        booking["study"],
        booking["person"],
        booking["kathryn"],
        services.BookingRequest(
            starts_at=dt.datetime(2026, 3, 23, 10, tzinfo=dt.UTC),
            minutes=60,
            mode=AppointmentMode.IN_PERSON,
            location="Leeds",
            travel_minutes_before=30,
            travel_minutes_after=30,
        ),
        booking["coordinator"],
    )
    log_in(booking["coordinator"])
    paths = [
        "/appointments",
        f"/appointments/{appointment.id}",
        f"/appointments/new?participant={booking['person'].id}",
        f"/appointments/{appointment.id}/reschedule",
        f"/appointments/{appointment.id}/cancel",
        f"/appointments/{appointment.id}/outcome",
        "/availability",
        "/availability/windows",
        "/availability/busy-calendars",
        "/calendar-feed",
        f"/participants/{booking['person'].id}/booking-links",
        f"/roles/{booking['tppm'].id}/topic-guide",
        f"/book/{booking['token']}",
    ]
    problems: list[str] = []
    pages: dict[str, str] = {}
    for path in paths:
        page.goto(live_server(path))
        problems += describe_axe(path, axe_violations(page))
        pages[path] = page.content()
    # A form with errors, too (answered 422).
    console.expect_status(422)
    page.goto(live_server(f"/appointments/new?participant={booking['person'].id}"))
    page.get_by_role("button", name="Book and send invitations").click()
    problems += describe_axe("booking form with errors", axe_violations(page))
    pages["booking form with errors"] = page.content()
    problems += vnu_errors(pages, tmp_path / "html")
    assert problems == []
