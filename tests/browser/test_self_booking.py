"""A participant books, moves and cancels their interview from a private link on a phone, in
a real browser whose zone is New York; the emails they receive (from a real SMTP server)
state the time in their zone with the study's beside it."""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import pytest

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox import sending
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.links import create_booking_link
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import describe_axe, every_axe_violation, expect
from tests.smtp_server import smtp_server  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
PHONE = {"width": 390, "height": 844}
#: Where the screenshots go, to be looked at (SCREENSHOT_DIR, else the system's temp folder).
SHOTS = os.environ.get("SCREENSHOT_DIR") or os.path.join(tempfile.gettempdir(), "fieldwork-shots")
#: Everything a participant can tap on these pages.
TAPPABLE = "main a.button, main button, a.slot, a.day, a.month__step, .booking__zone a, .choice"


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
        phone="+1 212 555 0100",
    )
    for weekday in range(5):
        add_window(kathryn, weekday, dt.time(9), dt.time(12), "Europe/London")
    link, token = create_booking_link(person, kathryn, coordinator, mode=AppointmentMode.TELEPHONE)
    db.session.commit()
    yield {**frame, "kathryn": kathryn, "person": person, "token": token}
    set_clock(None)


@pytest.fixture
def phone(browser, live_server, console, app):
    """A phone-sized tab in New York with an American English locale (12-hour clock)."""
    context = browser.new_context(
        viewport=PHONE,
        base_url=live_server.url,
        timezone_id="America/New_York",
        locale="en-US",
        has_touch=True,
        is_mobile=True,
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    console.attach(tab)
    yield tab
    context.close()
    problems = console.take()
    if problems:
        pytest.fail("the page reported errors:\n" + "\n".join(problems), pytrace=False)


def _check_page(tab, label: str, problems: list[str]) -> None:
    """No axe violation at all, every control at least 44 × 44 px, a screenshot to look at."""
    os.makedirs(SHOTS, exist_ok=True)
    problems += describe_axe(label, every_axe_violation(tab))
    for box in tab.locator(TAPPABLE).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {text: e.textContent.trim(), width: r.width, height: r.height}; })"
    ):
        if box["width"] < 44 or box["height"] < 44:
            problems.append(f"{label}: “{box['text']}” is {box['width']:.0f}×{box['height']:.0f}")
    tab.screenshot(path=f"{SHOTS}/{label}.png", full_page=True)


def _received(server, prefix: str):
    """The participant's message whose subject starts with `prefix`, parsed back with the
    default policy (the live server may already have sent it; the sweep sends the rest)."""
    sending.send_due()
    found = [
        message
        for message in (received.message for received in server.messages)
        if message["To"].addresses[0].addr_spec == "sian@example.org"
        and str(message["Subject"]).startswith(prefix)
    ]
    assert len(found) == 1, [str(m["Subject"]) for m in found]
    return found[0]


def _page_height(tab) -> int:
    return tab.evaluate("() => document.documentElement.scrollHeight")


def test_a_participant_in_new_york_books_moves_and_cancels_in_three_taps_each(
    booking,
    phone,
    live_server,
    live_app,
    app,
    smtp_server,  # noqa: F811
):
    live_app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    problems: list[str] = []

    # Opening the link: the page takes the device's zone and clock (Intl API).
    phone.goto(live_server(f"/book/{booking['token']}"))
    expect(phone.locator("#zone-name")).to_have_text("New York time (America/New_York, EDT)")
    expect(phone.get_by_role("heading", name="Choose a time for your interview")).to_be_visible()
    assert "Fieldwork" not in phone.locator("header").inner_text()
    _check_page(phone, "390-1-days", problems)
    assert _page_height(phone) <= 844 * 1.5

    # Tap 1: a day with free times; Christmas-like closed days and weekends are not buttons.
    phone.get_by_role("link", name="Monday 23 March, 3 free times").click()
    expect(phone.get_by_role("heading", name="Monday 23 March")).to_be_visible()
    _check_page(phone, "390-2-times", problems)
    assert _page_height(phone) <= 844 * 1.5
    # Tap 2: a time, shown on the device's 12-hour clock in New York (09:00 in London).
    phone.get_by_role("link", name="5:00 am", exact=True).click()
    expect(phone.locator(".booking__chosen")).to_have_text(
        "Monday 23 March 2026, 5:00 am to 6:00 am EDT"
    )
    expect(phone.get_by_text("9:00 am GMT in Europe/London, the study's time")).to_be_visible()
    _check_page(phone, "390-3-confirm", problems)
    # Tap 3: confirm.
    phone.get_by_role("button", name="Confirm booking").click()
    expect(phone.get_by_role("heading", name="Your interview is booked")).to_be_visible()
    expect(phone.locator("#outcome")).to_contain_text(
        "Monday 23 March 2026, 5:00 am to 6:00 am EDT"
    )
    expect(phone.locator("#current-booking")).to_contain_text(
        "Kathryn Interviewer will call you on +1 212 555 0100."
    )
    _check_page(phone, "390-4-booked", problems)
    assert _page_height(phone) <= 844 * 2

    db.session.expire_all()
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == dt.datetime(2026, 3, 23, 9, tzinfo=dt.UTC)
    assert appointment.participant_timezone == "America/New_York"
    assert db.session.get(Participant, booking["person"].id).timezone == "America/New_York"

    invitation = _received(smtp_server, "Invitation")
    expected = "Monday 23 March 2026, 05:00 EDT (America/New_York) – 09:00 GMT in Europe/London"
    assert expected in str(invitation["Subject"])
    assert expected in invitation.get_body(("plain",)).get_content()
    assert invitation["Date"] is not None and invitation["Message-ID"] is not None

    # Move: three taps again, and the page says it moved (not "booked").
    phone.get_by_role("link", name="Choose another time").click()
    phone.get_by_role("link", name="Tuesday 24 March, 3 free times").click()
    phone.get_by_role("link", name="6:00 am", exact=True).click()
    phone.get_by_role("button", name="Move my interview").click()
    expect(phone.get_by_role("heading", name="Your interview has moved")).to_be_visible()
    expect(phone.locator("#outcome")).to_contain_text(
        "It was on Monday 23 March 2026, 5:00 am EDT."
    )
    expect(phone.locator("#outcome")).to_contain_text(
        "Tuesday 24 March 2026, 6:00 am to 7:00 am EDT"
    )
    _check_page(phone, "390-5-moved", problems)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).starts_at == dt.datetime(
        2026, 3, 24, 10, tzinfo=dt.UTC
    )
    update = _received(smtp_server, "Updated")
    assert "Tuesday 24 March 2026, 06:00 EDT (America/New_York) – 10:00 GMT" in str(
        update["Subject"]
    )

    # Cancel: the page says so and offers the times again.
    phone.get_by_role("link", name="Cancel the interview").click()
    _check_page(phone, "390-6-cancel", problems)
    phone.get_by_role("button", name="Yes, cancel my interview").click()
    expect(phone.get_by_role("heading", name="Your interview is cancelled")).to_be_visible()
    expect(phone.locator("#outcome")).to_contain_text("Tuesday 24 March 2026, 6:00 am EDT")
    expect(phone.get_by_role("heading", name="Choose a new time")).to_be_visible()
    _check_page(phone, "390-7-cancelled", problems)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED
    cancellation = _received(smtp_server, "Cancelled")
    assert "06:00 EDT (America/New_York)" in cancellation.get_body(("plain",)).get_content()
    assert problems == []


def test_the_zone_list_is_short_searchable_and_stores_the_choice(
    booking, phone, live_server, live_app
):
    phone.goto(live_server(f"/book/{booking['token']}"))
    phone.get_by_role("link", name="Change time zone").click()
    problems: list[str] = []
    assert phone.locator(".choice").count() <= 25
    _check_page(phone, "390-8-zones", problems)
    phone.get_by_label("Search for a city or region").fill("lord howe")
    phone.get_by_role("button", name="Search").click()
    phone.get_by_role("button", name="Lord Howe time (Australia/Lord_Howe)").click()
    expect(phone.locator("#zone-name")).to_contain_text("Australia/Lord_Howe")
    db.session.expire_all()
    assert db.session.get(Participant, booking["person"].id).timezone == "Australia/Lord_Howe"
    # Monday 23 March 09:00 in London is 20:00 on Lord Howe Island.
    phone.get_by_role("link", name="Monday 23 March, 3 free times").click()
    expect(phone.get_by_role("link", name="8:00 pm", exact=True)).to_be_visible()
    assert problems == []


def test_without_javascript_the_page_works_with_the_studys_zone(browser, booking, live_server):
    context = browser.new_context(
        viewport=PHONE, base_url=live_server.url, java_script_enabled=False
    )
    tab = context.new_page()
    try:
        tab.goto(live_server(f"/book/{booking['token']}"))
        expect(tab.locator("#zone-name")).to_have_text("London time (Europe/London, GMT)")
        tab.get_by_role("link", name="Monday 23 March, 3 free times").click()
        tab.get_by_role("link", name="09:00", exact=True).click()
        tab.get_by_role("button", name="Confirm booking").click()
        expect(tab.get_by_role("heading", name="Your interview is booked")).to_be_visible()
    finally:
        context.close()


def test_the_booking_page_has_no_accessibility_violation_at_desktop_width(
    booking, page, live_server
):
    page.goto(live_server(f"/book/{booking['token']}"))
    page.get_by_role("link", name="Monday 23 March, 3 free times").click()
    problems = describe_axe("1280 times", every_axe_violation(page))
    page.screenshot(path=f"{SHOTS}/1280-times.png", full_page=True)
    page.locator("a.slot").first.click()
    problems += describe_axe("1280 confirm", every_axe_violation(page))
    page.get_by_role("button", name="Confirm booking").click()
    problems += describe_axe("1280 booked", every_axe_violation(page))
    page.screenshot(path=f"{SHOTS}/1280-booked.png", full_page=True)
    assert problems == []


def test_keyboard_alone_books_a_time(booking, page, live_server):
    """Tab to a day, Enter; Tab to a time, Enter; Tab to Confirm, Enter."""
    page.goto(live_server(f"/book/{booking['token']}?detected=1"))

    def tab_to(selector: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    for selector in ("a.day--free", "a.slot", "button[type=submit]"):
        tab_to(selector)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your interview is booked")).to_be_visible()
