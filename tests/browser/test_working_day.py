"""The working day in a real browser: an interviewer goes from their home page to their
participant, records verbal consent and marks the interview held; a coordinator's home shows
what needs them. Every confirmation is visible without scrolling, at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.scheduling.booking import book_appointment
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import ARTIFACTS, expect
from tests.recruitment.helpers import make_published_version

pytestmark = pytest.mark.browser

#: Where the screenshots go, to be looked at (FIELDWORK_SHOTS overrides).
SHOTS = Path(os.environ.get("FIELDWORK_SHOTS") or ARTIFACTS / "working-day")
PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def day():
    """A study with a published consent form; Kathryn's interview with P1-007 took place an
    hour ago (recorded as booked, no outcome yet); P1-008 is booked with her for tomorrow."""
    frame = make_frame()
    study = frame["study"]
    coordinator = make_user("coordinator", name="Sandra Coordinator")
    kathryn = make_user("interviewer", name="Kathryn Interviewer")
    make_published_version(study, coordinator)
    people = {}
    for reference, phone in (("P1-007", "0161 496 0007"), ("P1-008", "0161 496 0008")):
        people[reference] = make_participant(
            study,
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            reference=reference,
            name=f"Person {reference}",
            phone=phone,
        )
    start = (now_utc() - dt.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    past = book_appointment(
        study,
        people["P1-007"],
        kathryn,
        BookingRequest(starts_at=start, minutes=60, mode=AppointmentMode.TELEPHONE),
        coordinator,
        confirmed=True,
        already_took_place=True,
    )
    tomorrow = start + dt.timedelta(days=1)
    book_appointment(
        study,
        people["P1-008"],
        kathryn,
        BookingRequest(starts_at=tomorrow, minutes=60, mode=AppointmentMode.TELEPHONE),
        coordinator,
        confirmed=True,
    )
    return {"coordinator": coordinator, "kathryn": kathryn, "past": past, **people}


def test_the_interviewers_day_home_participant_verbal_consent_held(
    page, live_server, log_in, console, day
):
    """Kathryn's home lists the outcome she owes; she opens P1-007 (phone shown), records their
    verbal consent and marks the interview held, each confirmation in view; the outcome then
    leaves her home page."""
    page.set_viewport_size(PHONE)
    log_in(day["kathryn"])
    page.goto(live_server("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your day")
    owed = page.locator("section", has=page.get_by_role("heading", name="Outcomes you owe (1)"))
    expect(owed).to_be_visible()
    expect(page.get_by_role("heading", name="Your next interviews")).to_be_visible()
    shoot(page, "interviewer-home-390")

    owed.get_by_role("link", name="P1-007 Person P1-007").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("P1-007")
    expect(page.locator("#participant-appointments")).to_contain_text("Telephone")
    page.get_by_role("link", name="Record written or verbal consent").click()
    page.get_by_label("How was consent given?").select_option("verbal")
    page.get_by_label("I agree to take part in an interview.").check()
    page.get_by_label("I agree to the interview being audio recorded.").check()
    page.get_by_role("button", name="Record consent").click()
    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text("Consent recorded for P1-007.")
    expect(confirmation).to_be_in_viewport()
    shoot(page, "interviewer-consent-recorded-390")

    page.locator("#participant-appointments").get_by_role("link").first.click()
    page.get_by_role("link", name="Record outcome").click()
    page.get_by_label("Held").check()
    page.get_by_label("Length in minutes").fill("55")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Save the outcome").click()
    expect(page.get_by_role("status")).to_contain_text("Outcome recorded.")
    expect(page.get_by_role("status")).to_be_in_viewport()
    db.session.expire_all()
    assert db.session.get(Appointment, day["past"].id).status == AppointmentStatus.HELD

    page.goto(live_server("/"))
    expect(page.get_by_text("Every past interview has its outcome.")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, "interviewer-home-1280")


def test_the_coordinators_home_shows_what_needs_them_and_the_study_one_click_away(
    page, live_server, log_in, console, day
):
    """Sandra's home lists tomorrow's interview under the week, the overdue outcome with a link
    to record it, and the study overview one click away; at 390 px nothing is wider than the
    screen."""
    log_in(day["coordinator"])
    page.goto(live_server("/"))
    expect(page.get_by_role("heading", name="Outcomes overdue (1)")).to_be_visible()
    expect(
        page.get_by_role("link", name="Record the outcome of P1-007's interview")
    ).to_be_visible()
    expect(page.locator("#panel-interviews").locator("..")).to_contain_text("P1-008")
    shoot(page, "coordinator-home-1280")
    page.set_viewport_size(PHONE)
    shoot(page, "coordinator-home-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the home page is {width} px wide at 390"
    page.get_by_role("link", name="Study overview").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(page.title().split(" – ")[0])
    assert page.url.endswith("/study")
