"""Participants' private booking links: free slots, booking, moving, cancelling, dead links."""

from __future__ import annotations

import datetime as dt

from fieldwork.extensions import db
from fieldwork.sampling.models import Participant
from fieldwork.scheduling import availability, busy
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.links import create_booking_link, revoke_booking_link, slots_for_link
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.scheduling.conftest import at, book, outbox_messages


def _link(world, participant=None, **options):
    options.setdefault("mode", AppointmentMode.TELEPHONE)
    link, token = create_booking_link(
        participant or world["first"], world["kathryn"], world["coordinator"], **options
    )
    db.session.commit()
    return link, token


def test_slots_are_windows_minus_bookings_busy_blocks_and_travel(world):
    """Kathryn: weekdays 09:00-17:00 London. From tomorrow (Sat 21 March) for 4 weeks."""
    book(
        world,
        at(2026, 3, 23, 10),
        participant=world["second"],
        mode=AppointmentMode.IN_PERSON,
        location="Leeds",
        travel_minutes_before=60,
        travel_minutes_after=60,
    )
    busy.add_busy_calendar(
        world["kathryn"],
        "Own",
        "",
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a@b\r\n"
            "DTSTAMP:20260101T000000Z\r\nDTSTART:20260323T150000Z\r\nDTEND:20260323T153000Z\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    link, _ = _link(world)
    slots = slots_for_link(link)
    monday = [s for s in slots if s.date() == dt.date(2026, 3, 23)]
    # 09-10 and 11-12 are lost to travel around the 10:00 in-person interview; 15:00 to the
    # busy block.
    assert monday == [at(2026, 3, 23, h) for h in (12, 13, 14, 16)]
    assert min(slots) == at(2026, 3, 23, 12)  # nothing at the weekend, nothing today
    assert max(slots) < at(2026, 4, 18, 0)
    # After the clocks change, 09:00 London is 08:00 UTC.
    assert at(2026, 3, 30, 8) in slots


def test_the_participant_books_a_slot_and_gets_the_invite(world, client):
    _, token = _link(world)
    page = client.get(f"/book/{token}").get_data(as_text=True)
    assert "London time (Europe/London, GMT)" in page
    assert 'aria-label="Monday 23 March, 8 free times"' in page
    day = client.get(f"/book/{token}?day=2026-03-23").get_data(as_text=True)
    assert "slot=2026-03-23T09:00Z" in day
    confirm = client.get(f"/book/{token}?day=2026-03-23&slot=2026-03-23T09:00Z")
    assert 'name="slot" value="2026-03-23T09:00Z"' in confirm.get_data(as_text=True)
    response = client.post(f"/book/{token}", data={"slot": "2026-03-23T09:00Z"})
    assert response.status_code == 302
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == at(2026, 3, 23, 9) and appointment.created_by_id is None
    assert len(outbox_messages("invite", appointment.id)) == 2
    page = client.get(f"/book/{token}").get_data(as_text=True)
    assert "Your interview is booked" in page
    assert "Monday 23 March 2026, 09:00 to 10:00 GMT" in page
    # Said once: the next visit shows the booking, not the news.
    assert "Your interview is booked" not in client.get(f"/book/{token}").get_data(as_text=True)


def test_the_participant_sees_slots_in_their_own_zone_and_their_choice_is_stored(world, client):
    _, token = _link(world)
    page = client.get(f"/book/{token}?zone=America/New_York&day=2026-03-23").get_data(as_text=True)
    assert "New York time (America/New_York, EDT)" in page
    assert ">05:00</a>" in page  # 09:00 GMT on Monday 23 March is 05:00 in New York
    assert client.get(f"/book/{token}?zone=US/Eastern").status_code == 200  # not offered: ignored
    response = client.post(f"/book/{token}/zone", data={"zone": "America/New_York"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, world["first"].id).timezone == "America/New_York"
    assert "America/New_York" in client.get(f"/book/{token}").get_data(as_text=True)
    assert client.post(f"/book/{token}/zone", data={"zone": "Mars/Olympus"}).status_code == 400


def test_the_zone_search_answers_a_short_list_of_real_zones(world, client):
    _, token = _link(world)
    page = client.get(f"/book/{token}/zone").get_data(as_text=True)
    assert page.count('name="zone"') <= 25 and "Europe/London" in page
    # The zone the booking page showed is marked as the current one.
    shown = client.get(f"/book/{token}/zone?zone=Asia/Tokyo").get_data(as_text=True)
    assert 'value="Asia/Tokyo" aria-current="true"' in shown
    found = client.get(f"/book/{token}/zone?q=new+york").get_data(as_text=True)
    assert 'value="America/New_York"' in found and "US/Eastern" not in found


def test_the_same_link_moves_and_cancels_the_booking(world, client):
    _, token = _link(world)
    client.post(f"/book/{token}", data={"slot": "2026-03-23T09:00Z"})
    appointment = db.session.scalars(db.select(Appointment)).one()
    response = client.post(f"/book/{token}", data={"slot": "2026-03-24T13:00Z"})
    assert response.status_code == 302
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert (appointment.starts_at, appointment.sequence) == (at(2026, 3, 24, 13), 1)
    assert client.post(f"/book/{token}/cancel", data={"reason": "Holiday"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED
    assert len(outbox_messages("cancellation", appointment.id)) == 2


def test_a_slot_that_is_not_offered_is_refused(world, client):
    _, token = _link(world)
    response = client.post(f"/book/{token}", data={"slot": "2026-03-23T03:00Z"})
    assert response.status_code == 409
    assert "That time has just been taken" in response.get_data(as_text=True)
    assert client.post(f"/book/{token}", data={"slot": "garbage"}).status_code == 302


def test_expired_revoked_and_unknown_links_answer_a_clear_page(world, client, clock):
    link, token = _link(world, days=1)
    clock.move(clock.now + dt.timedelta(days=2))
    response = client.get(f"/book/{token}")
    assert response.status_code == 410
    assert "This booking link has expired." in response.get_data(as_text=True)
    clock.move(at(2026, 3, 20, 12))
    revoke_booking_link(link.id, world["first"])
    assert client.get(f"/book/{token}").status_code == 410
    assert client.post(f"/book/{token}", data={"slot": "2026-03-23T09:00Z"}).status_code == 410
    assert client.get("/book/not-a-token").status_code == 404
    assert client.get("/book/" + "x" * 400).status_code == 404


def test_a_coordinator_emails_a_link_through_the_outbox(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        f"/participants/{world['first'].id}/booking-links",
        data={"interviewer_id": world["kathryn"].id, "mode": "telephone", "days": "14"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url = page.split('id="booking-url" type="text" readonly value="')[1].split('"')[0]
    mails = outbox_messages("other")
    assert len(mails) == 1 and mails[0]["To"].addresses[0].addr_spec == "sian@example.org"
    assert url in mails[0].get_body(("plain",)).get_content()
    assert client.get(url.replace("http://localhost", "")).status_code == 200


def test_free_slots_honour_window_dates(world):
    add_window(
        world["kathryn"],
        5,
        dt.time(10),
        dt.time(12),
        "Europe/London",
        dt.date(2026, 3, 28),
        dt.date(2026, 3, 28),
    )
    slots = availability.free_slots(
        world["kathryn"].id, None, 60, 0, at(2026, 3, 21, 0), at(2026, 4, 11, 0)
    )
    saturdays = [s for s in slots if s.weekday() == 5]
    assert saturdays == [at(2026, 3, 28, 10), at(2026, 3, 28, 11)]


def test_the_booked_page_says_mail_is_coming_only_where_a_mail_server_is_configured(
    world, client, app
):
    """Without SMTP_HOST the invitation stays in the outbox, so the participant is not told
    it was emailed; with a mail server they are told where it is going."""
    _, token = _link(world)
    participant = world["first"]
    configured = app.config["SMTP_HOST"]
    app.config["SMTP_HOST"] = ""
    client.post(f"/book/{token}", data={"slot": "2026-03-23T09:00Z"})
    page = client.get(f"/book/{token}").get_data(as_text=True)
    assert "Your interview is booked" in page and participant.email not in page
    app.config["SMTP_HOST"] = "127.0.0.1"
    try:
        client.post(f"/book/{token}", data={"slot": "2026-03-24T09:00Z"})
        page = client.get(f"/book/{token}").get_data(as_text=True)
    finally:
        app.config["SMTP_HOST"] = configured
    assert "Your interview has moved" in page
    assert f"We are emailing the updated invitation to {participant.email}" in page
