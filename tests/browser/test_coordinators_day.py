"""A coordinator's day in a real browser: from home, book from a free slot, send booking links to
several people at once, find the interviews in the calendar (1280 px and a 390 px phone), then
see the mail banner on every page once the mail server refuses a message."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest

from fieldwork.extensions import db
from fieldwork.outbox import sending
from fieldwork.outbox.models import OutboxMessage
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.models import Appointment, BookingLink
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import expect

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("FIELDWORK_SHOTS") or Path(tempfile.gettempdir()) / "h13b-shots")
PHONE = {"width": 390, "height": 844}


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def day(app):
    frame = make_frame()
    study = frame["study"]
    coordinator = make_user("coordinator", name="Cora Coordinator")
    kathryn = make_user("interviewer", name="Kathryn Interviewer")
    for weekday in range(7):
        add_window(kathryn, weekday, dt.time(9), dt.time(17), study.timezone)
    people = [
        make_participant(
            study,
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            reference=f"P1-00{n}",
            name=name,
            phone="01632 960 00" + str(n),
            interviewer_id=kathryn.id,
        )
        for n, name in enumerate(["Siân O'Brien", "Dev Patel", "Mo Khan"], start=1)
    ]
    return {"study": study, "coordinator": coordinator, "kathryn": kathryn, "people": people}


def test_book_from_a_free_slot_send_links_in_bulk_then_see_the_calendar(
    app, day, page, live_server, log_in, smtp_server
):
    first, second, third = day["people"]
    log_in(day["coordinator"])

    # 0. The day starts at home; the sample is one click away.
    page.goto(live_server("/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today in")
    expect(page.get_by_text("Mail needs your attention")).to_have_count(0)
    page.get_by_role("link", name="Sample", exact=True).first.click()
    # Each page loads whole before the next click (an aborted script download is a server-side
    # ResourceWarning, which the suite treats as an error).
    page.wait_for_load_state("load")
    page.get_by_role("link", name=first.reference).first.click()
    page.wait_for_load_state("load")

    # 1. Book the first participant from one of Kathryn's free slots.
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.reference)
    page.get_by_role("link", name=re.compile("Book an interview")).first.click()
    slots = page.locator("#slot input[type=radio]")
    expect(slots.first).to_be_visible()
    expect(page.get_by_text("Free times of Kathryn Interviewer")).to_be_visible()
    # Telephone: the participant's number is shown, the address field is not.
    expect(page.get_by_text("01632 960 001")).to_be_visible()
    expect(page.get_by_label("Place", exact=True)).to_be_hidden()
    page.get_by_role("radio", name="Video call").check()
    expect(page.get_by_label("Video call link")).to_be_visible()
    page.get_by_role("radio", name="Telephone").check()
    _shot(page, "booking-form-1280")
    chosen = slots.first.get_attribute("value")
    slots.first.check()
    page.get_by_role("button", name="Book and send invitations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Interview with P1-001")
    expect(page.locator("#participant-phone")).to_contain_text("01632 960 001")
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == dt.datetime.fromisoformat(chosen)

    # 2. Tick the other two on the list and send them booking links at once.
    page.goto(live_server("/participants?sort=reference&dir=desc"))
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Reference")
    page.get_by_label("Select P1-002").check()
    page.get_by_label("Select P1-003").check()
    page.get_by_role("button", name="Send booking links").click()
    expect(page.get_by_text(re.compile(r"Booking link emailed for 2 participants"))).to_be_visible()
    _shot(page, "participants-after-bulk-1280")
    links = db.session.scalars(db.select(BookingLink)).all()
    assert sorted(link.participant_id for link in links) == sorted([second.id, third.id])
    rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "other")).all()
    assert sorted(row.recipients for row in rows) == sorted([second.email, third.email])
    sending.send_due()
    received = {m.rcpt_tos[0] for m in smtp_server.messages}
    assert {second.email, third.email} <= received

    # 3. The calendar shows the booked interview; keyboard reaches and opens it.
    day_of_slot = dt.datetime.fromisoformat(chosen).date().isoformat()
    page.goto(live_server(f"/appointments/calendar?date={day_of_slot}"))
    entry = page.locator(".calendar-entry").first
    expect(entry).to_contain_text("P1-001")
    _shot(page, "calendar-week-1280")
    page.goto(live_server(f"/appointments/calendar?view=month&date={day_of_slot}"))
    expect(page.locator(".calendar-entry").first).to_contain_text("P1-001")
    _shot(page, "calendar-month-1280")
    page.locator(".calendar-entry").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/appointments/{appointment.id}$"))

    # 4. On a phone the calendar and the list read as lists.
    page.set_viewport_size(PHONE)
    page.goto(live_server(f"/appointments/calendar?date={day_of_slot}"))
    expect(page.locator(".calendar-entry").first).to_be_visible()
    box = page.locator(".calendar-week").bounding_box()
    assert box["width"] <= PHONE["width"]
    _shot(page, "calendar-week-390")
    page.goto(live_server(f"/appointments/calendar?view=month&date={day_of_slot}"))
    _shot(page, "calendar-month-390")
    page.goto(live_server("/participants"))
    _shot(page, "participants-390")
    page.goto(live_server(f"/appointments/new?participant={second.id}"))
    _shot(page, "booking-form-390")
    page.goto(live_server("/message-templates/booking_link"))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-subject")).to_contain_text("choose a time")
    _shot(page, "message-template-390")

    # 5. The mail server refuses a message for good: every page says so, the outbox says why.
    page.set_viewport_size({"width": 1280, "height": 900})
    smtp_server.refuse("550 5.1.1 No such mailbox")
    page.goto(live_server("/participants"))
    page.get_by_label("Select P1-001").check()
    page.get_by_role("button", name="Send booking links").click()
    expect(page.get_by_text(re.compile(r"Booking link emailed for 1 participant"))).to_be_visible()
    sending.send_due()
    page.goto(live_server("/"))
    banner = page.locator("section.mail-attention")
    expect(banner).to_contain_text("Mail needs your attention")
    expect(banner).to_contain_text("1 message could not be sent")
    _shot(page, "home-mail-banner-1280")
    banner.get_by_role("link").first.click()
    page.wait_for_load_state("load")
    expect(page).to_have_url(re.compile(r"/outbox"))
    expect(page.get_by_text(re.compile("No such mailbox")).first).to_be_visible()
