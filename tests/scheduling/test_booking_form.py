"""The coordinator's booking form: free slots offered, past times refused, fields by mode."""

from __future__ import annotations

import datetime as dt
import re

from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reminders.models import Reminder
from fieldwork.scheduling import availability
from fieldwork.scheduling.models import Appointment, AppointmentStatus, BusyBlock, BusyCalendar
from tests.scheduling.conftest import at, book


def _url(world, participant="first") -> str:
    return f"/appointments/new?participant={world[participant].id}"


def _form(world, **overrides) -> dict:
    data = {
        "interviewer_id": world["kathryn"].id,
        "minutes": "60",
        "mode": "telephone",
        "travel_minutes_before": "0",
        "travel_minutes_after": "0",
    }
    data.update(overrides)
    return data


def _offered(page: str) -> list[str]:
    return re.findall(r'name="slot"[^>]*value="([^"]+)"', page) + re.findall(
        r'value="([^"]+)"[^>]*name="slot"', page
    )


def test_the_form_offers_the_interviewers_free_slots_in_the_study_zone(world, client, auth):
    """The assigned interviewer's free slots for the coming days are radio choices, by day,
    labelled in the study's zone; slots already gone today are not offered."""
    auth.login(world["coordinator"])
    page = client.get(_url(world)).get_data(as_text=True)
    offered = _offered(page)
    assert "2026-03-23T10:00:00+00:00" in offered  # Monday 10:00 GMT
    assert "2026-03-20T13:00:00+00:00" in offered  # later today
    assert "2026-03-20T11:00:00+00:00" not in offered  # already past
    assert "2026-03-21T10:00:00+00:00" not in offered  # Saturday: no window
    assert "Monday 23 March 2026" in page
    assert "Free times of Kathryn Interviewer" in page
    assert "Europe/London (GMT/BST)" in page
    # After the clocks go forward, the labels say BST.
    assert re.search(r'for="slot-\d+"[^>]*>10:00 BST<', page) or "10:00 BST" in page


def test_bookings_busy_calendars_and_travel_are_not_offered(world, client, auth):
    book(world, at(2026, 3, 23, 10), participant=world["second"])
    calendar = BusyCalendar(interviewer_id=world["kathryn"].id, name="Work", url="")
    db.session.add(calendar)
    db.session.flush()
    db.session.add(
        BusyBlock(
            busy_calendar_id=calendar.id, starts_at=at(2026, 3, 24, 14), ends_at=at(2026, 3, 24, 15)
        )
    )
    db.session.commit()
    auth.login(world["coordinator"])
    offered = _offered(client.get(_url(world)).get_data(as_text=True))
    assert "2026-03-23T10:00:00+00:00" not in offered
    assert "2026-03-23T11:00:00+00:00" in offered
    assert "2026-03-24T14:00:00+00:00" not in offered
    # In person with an hour's travel, the hours next to the booking are taken as well.
    response = client.post(
        _url(world),
        data=_form(
            world,
            mode="in_person",
            travel_minutes_before="60",
            travel_minutes_after="60",
            show_slots="1",
        ),
    )
    assert response.status_code == 200
    offered = _offered(response.get_data(as_text=True))
    assert "2026-03-23T11:00:00+00:00" not in offered
    assert "2026-03-23T13:00:00+00:00" in offered


def test_choosing_another_interviewer_reloads_with_their_slots(world, client, auth):
    """ "Show free times" re-renders the form (no booking, no errors) for the chosen person."""
    book(world, at(2026, 3, 23, 10), participant=world["second"], interviewer=world["other"])
    auth.login(world["coordinator"])
    response = client.post(
        _url(world), data=_form(world, interviewer_id=world["other"].id, show_slots="1")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" not in page
    assert "Free times of Omar Interviewer" in page
    assert "2026-03-23T10:00:00+00:00" not in _offered(page)
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1  # only Omar's


def test_booking_a_free_slot_books_it_and_sends_invitations(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(_url(world), data=_form(world, slot="2026-03-23T10:00:00+00:00"))
    assert response.status_code == 302
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == at(2026, 3, 23, 10)
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 2
    # The slot is gone for the next person.
    page = client.get(_url(world, "second")).get_data(as_text=True)
    assert "2026-03-23T10:00:00+00:00" not in _offered(page)


def test_a_slot_and_a_typed_time_together_or_a_forged_slot_are_refused(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        _url(world),
        data=_form(
            world, slot="2026-03-23T10:00:00+00:00", starts_on="2026-03-24", starts_time="10:00"
        ),
    )
    assert response.status_code == 422
    assert "not both" in response.get_data(as_text=True)
    response = client.post(_url(world), data=_form(world, slot="tomorrow at ten"))
    assert response.status_code == 422
    assert "Choose one of the free times shown." in response.get_data(as_text=True)
    response = client.post(_url(world), data=_form(world))
    assert response.status_code == 422
    assert "Choose a free time, or enter the date" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 0


def test_a_typed_time_still_books_with_the_existing_warnings(world, client, auth):
    auth.login(world["coordinator"])
    data = _form(world, starts_on="2026-03-23", starts_time="19:00")
    response = client.post(_url(world), data=data)
    assert response.status_code == 422
    assert "outside Kathryn Interviewer&#39;s available times" in response.get_data(as_text=True)
    response = client.post(_url(world), data={**data, "confirm": "y"})
    assert response.status_code == 302


def test_a_time_in_the_past_is_refused_and_nothing_is_sent(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        _url(world), data=_form(world, starts_on="2026-03-10", starts_time="10:00")
    )
    assert response.status_code == 422
    assert "That time is in the past." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0


def test_an_interview_that_already_took_place_is_recorded_without_invitations(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        _url(world),
        data=_form(world, starts_on="2026-03-10", starts_time="10:00", already_took_place="y"),
    )
    assert response.status_code == 302
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == at(2026, 3, 10, 10)
    assert appointment.status == AppointmentStatus.BOOKED
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Reminder.id))) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "no invitations were sent" in page
    assert "Record outcome" in page
    # A future time cannot be declared as already held.
    response = client.post(
        _url(world, "second"),
        data=_form(world, starts_on="2026-03-30", starts_time="10:00", already_took_place="y"),
    )
    assert response.status_code == 422
    assert "needs a start time in the past" in response.get_data(as_text=True)


def test_fields_follow_the_mode_on_the_form_and_the_appointment_page(world, client, auth):
    """Telephone keeps no address and shows the participant's phone; video keeps its link;
    in person keeps the address."""
    world["first"].phone = "01632 960123"
    db.session.commit()
    auth.login(world["coordinator"])
    form_page = client.get(_url(world)).get_data(as_text=True)
    assert "01632 960123" in form_page
    assert 'data-mode-group="in_person"' in form_page
    response = client.post(
        _url(world),
        data=_form(
            world,
            slot="2026-03-23T10:00:00+00:00",
            location="12 High Street",
            video_link="https://video.example.org/x",
        ),
    )
    assert response.status_code == 302
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.location == "" and appointment.video_link == ""
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "01632 960123" in page and "12 High Street" not in page
    response = client.post(
        _url(world, "second"),
        data=_form(
            world,
            slot="2026-03-24T10:00:00+00:00",
            mode="video",
            location="12 High Street",
            video_link="https://video.example.org/x",
        ),
    )
    assert response.status_code == 302
    video = db.session.get(Appointment, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert video.location == "" and video.video_link == "https://video.example.org/x"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Video call link" in page and "12 High Street" not in page


def test_the_forms_slots_come_from_the_one_slot_service_under_the_studys_rules(world):
    """The form offers `slots.bookable_slots` (what booking links offer) from now on, for a
    fortnight: no notice, but closed dates and the other rules apply."""
    from fieldwork.scheduling import slots as slot_service

    slot_service.add_closed_date(world["study"], dt.date(2026, 3, 23), "Away day")
    offered = slot_service.bookable_slots(
        world["study"],
        world["kathryn"].id,
        world["first"].id,
        min_notice_hours=0,
        max_days_ahead=availability.BOOKING_FORM_DAYS,
    )
    assert offered[0] == at(2026, 3, 20, 13)
    assert not any(slot.date() == dt.date(2026, 3, 23) for slot in offered)
    assert at(2026, 3, 24, 9) in offered
