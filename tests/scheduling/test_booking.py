"""Booking rules: clashes refused with a message naming them, warnings outside windows,
UTC storage across clock changes, reschedule and cancel with history and invitations."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.core.time import format_moment, to_utc
from fieldwork.extensions import db
from fieldwork.sampling.models import RecruitmentStatus
from fieldwork.scheduling import busy
from fieldwork.scheduling.booking import cancel_appointment, reschedule_appointment
from fieldwork.scheduling.errors import ClashError, NeedsConfirmation, SchedulingError
from fieldwork.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentMode,
    AppointmentStatus,
    ChangeAction,
)
from fieldwork.scheduling.topic_guides import save_topic_guide
from tests.scheduling.conftest import at, book, calendar_part, outbox_messages, the_event


def test_an_interviewer_cannot_be_double_booked_and_the_message_names_the_clash(world):
    book(world, at(2026, 3, 23, 10))  # Monday 23 March, 10:00 GMT
    with pytest.raises(ClashError) as refused:
        book(world, at(2026, 3, 23, 10, 30), participant=world["second"])
    assert str(refused.value) == (
        "Kathryn Interviewer already has P1-004 from 10:00 to 11:00 GMT on Monday 23 March 2026."
    )
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


def test_a_participant_cannot_be_booked_twice_at_once(world):
    book(world, at(2026, 3, 23, 10))
    with pytest.raises(ClashError) as refused:
        book(world, at(2026, 3, 23, 10, 30), interviewer=world["other"])
    assert "P1-004 already has an interview with Kathryn Interviewer" in str(refused.value)


def test_back_to_back_interviews_are_allowed(world):
    book(world, at(2026, 3, 23, 10))
    book(world, at(2026, 3, 23, 11), participant=world["second"])
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 2


def test_travel_time_of_an_in_person_interview_blocks_the_interviewer(world):
    book(
        world,
        at(2026, 3, 23, 10),
        mode=AppointmentMode.IN_PERSON,
        location="Leeds JCP",
        travel_minutes_before=30,
        travel_minutes_after=45,
    )
    with pytest.raises(ClashError) as refused:
        book(world, at(2026, 3, 23, 11, 30), participant=world["second"])
    assert "counting travel time" in str(refused.value)
    book(world, at(2026, 3, 23, 11, 45), participant=world["second"])


def test_travel_time_is_ignored_for_a_telephone_interview(world):
    appointment = book(
        world, at(2026, 3, 23, 10), travel_minutes_before=30, travel_minutes_after=30
    )
    assert (appointment.travel_minutes_before, appointment.travel_minutes_after) == (0, 0)
    book(world, at(2026, 3, 23, 11), participant=world["second"])


def test_a_cancelled_interview_frees_the_time(world, app):
    first = book(world, at(2026, 3, 23, 10))
    cancel_appointment(first, "Ill", world["coordinator"])
    book(world, at(2026, 3, 23, 10), participant=world["second"])


def test_booking_outside_the_interviewers_windows_warns_until_confirmed(world):
    with pytest.raises(NeedsConfirmation) as warned:
        book(world, at(2026, 3, 23, 18))  # 18:00 GMT, after the 17:00 window ends
    assert "outside Kathryn Interviewer's available times" in warned.value.warnings[0]
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 0
    book(world, at(2026, 3, 23, 18), confirmed=True)
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


def test_a_busy_block_from_the_interviewers_own_calendar_warns(world):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        "UID:dentist@example.org\r\nDTSTAMP:20260301T000000Z\r\n"
        "DTSTART:20260323T100000Z\r\nDTEND:20260323T103000Z\r\nSUMMARY:Dentist\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    busy.add_busy_calendar(world["kathryn"], "Personal", "", ics)
    with pytest.raises(NeedsConfirmation) as warned:
        book(world, at(2026, 3, 23, 10))
    assert "own calendar shows them busy from 10:00 to 10:30 GMT" in warned.value.warnings[0]


@pytest.mark.parametrize(
    ("day", "stored_hour", "shown"),
    [
        (dt.date(2026, 3, 30), 9, "Monday 30 March 2026, 10:00 BST"),
        (dt.date(2026, 10, 26), 10, "Monday 26 October 2026, 10:00 GMT"),
    ],
)
def test_a_10_oclock_london_booking_after_each_clock_change(world, day, stored_hour, shown):
    """10:00 Europe/London is 09:00Z in summer time and 10:00Z in winter, and reads 10:00."""
    starts_at = to_utc(day, dt.time(10), "Europe/London")
    appointment = book(world, starts_at, confirmed=True)
    db.session.expire_all()
    stored = db.session.get(Appointment, appointment.id)
    assert stored.starts_at == dt.datetime.combine(day, dt.time(stored_hour), dt.UTC)
    assert format_moment(stored.starts_at, stored.timezone) == shown
    invite = outbox_messages("invite")[0]
    assert shown.split(", ")[1] in invite.get_body(("plain",)).get_content()
    event = the_event(calendar_part(invite))
    assert event.decoded("DTSTART").hour == 10
    assert str(event["DTSTART"].params["TZID"]) == "Europe/London"


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(ValueError, match="does not exist"):
        to_utc(dt.date(2026, 3, 29), dt.time(1, 30), "Europe/London")


def test_booking_sends_a_request_to_the_interviewer_and_the_participant(world):
    appointment = book(world, at(2026, 3, 23, 10))
    invites = outbox_messages("invite", appointment.id)
    assert sorted(m["To"].addresses[0].addr_spec for m in invites) == [
        "kathryn@example.org",
        "sian@example.org",
    ]
    for message in invites:
        assert message["From"].addresses[0].addr_spec == "team@example.org"
        calendar = calendar_part(message)
        assert str(calendar["METHOD"]) == "REQUEST"
        event = the_event(calendar)
        assert str(event["UID"]) == appointment.ical_uid
        assert int(event["SEQUENCE"]) == 0
        attendees = sorted(str(a) for a in event.get("ATTENDEE"))
        assert attendees == ["mailto:kathryn@example.org", "mailto:sian@example.org"]
    assert world["first"].status == RecruitmentStatus.SCHEDULED


def test_the_interviewers_invite_carries_the_topic_guide(world):
    save_topic_guide(world["tppm"], "TPPM topic guide", "https://docs.example.org/tppm")
    appointment = book(world, at(2026, 3, 23, 10))
    by_recipient = {
        m["To"].addresses[0].addr_spec: m for m in outbox_messages("invite", appointment.id)
    }
    interviewer_event = the_event(calendar_part(by_recipient["kathryn@example.org"]))
    assert str(interviewer_event["ATTACH"]) == "https://docs.example.org/tppm"
    assert "TPPM topic guide" in str(interviewer_event["DESCRIPTION"])
    participant_event = the_event(calendar_part(by_recipient["sian@example.org"]))
    assert "ATTACH" not in participant_event


def test_reschedule_keeps_the_uid_raises_the_sequence_and_keeps_history(world):
    appointment = book(world, at(2026, 3, 23, 10))
    reschedule_appointment(appointment, at(2026, 3, 24, 14), 60, world["coordinator"])
    reschedule_appointment(appointment, at(2026, 3, 25, 14), 90, world["coordinator"])
    updates = outbox_messages("update", appointment.id)
    assert len(updates) == 4
    sequences = set()
    for message in updates:
        calendar = calendar_part(message)
        assert str(calendar["METHOD"]) == "REQUEST"
        event = the_event(calendar)
        assert str(event["UID"]) == appointment.ical_uid
        sequences.add(int(event["SEQUENCE"]))
    assert sequences == {1, 2}
    history = db.session.scalars(
        db.select(AppointmentChange)
        .where(AppointmentChange.appointment_id == appointment.id)
        .order_by(AppointmentChange.id)
    ).all()
    assert [c.action for c in history] == [
        ChangeAction.BOOKED,
        ChangeAction.MOVED,
        ChangeAction.MOVED,
    ]
    assert history[1].old_starts_at == at(2026, 3, 23, 10)
    assert history[2].new_starts_at == at(2026, 3, 25, 14)


def test_a_move_onto_a_clash_is_refused_and_changes_nothing(world):
    appointment = book(world, at(2026, 3, 23, 10))
    book(world, at(2026, 3, 24, 14), participant=world["second"])
    with pytest.raises(ClashError):
        reschedule_appointment(appointment, at(2026, 3, 24, 14, 30), 60, world["coordinator"])
    db.session.expire_all()
    stored = db.session.get(Appointment, appointment.id)
    assert (stored.starts_at, stored.sequence) == (at(2026, 3, 23, 10), 0)
    assert outbox_messages("update") == []


def test_cancellation_sends_method_cancel_with_a_higher_sequence(world):
    appointment = book(world, at(2026, 3, 23, 10))
    cancel_appointment(appointment, "Office closed", world["coordinator"])
    cancellations = outbox_messages("cancellation", appointment.id)
    assert len(cancellations) == 2
    for message in cancellations:
        calendar = calendar_part(message)
        assert str(calendar["METHOD"]) == "CANCEL"
        event = the_event(calendar)
        assert str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == 1
        assert str(event["UID"]) == appointment.ical_uid
    assert appointment.status == AppointmentStatus.CANCELLED
    assert world["first"].status == RecruitmentStatus.AGREED  # no longer scheduled
    with pytest.raises(SchedulingError):
        cancel_appointment(appointment, "again", world["coordinator"])


def test_withdrawal_cancels_future_interviews_with_cancellations_sent(world):
    from fieldwork.recruitment.consent import withdraw

    past = book(world, at(2026, 3, 20, 9), confirmed=True, already_took_place=True)
    future = book(world, at(2026, 3, 23, 10))
    withdraw(world["first"], world["coordinator"], reason="Changed jobs")
    db.session.expire_all()
    assert db.session.get(Appointment, future.id).status == AppointmentStatus.CANCELLED
    assert db.session.get(Appointment, past.id).status == AppointmentStatus.BOOKED
    assert len(outbox_messages("cancellation", future.id)) == 2


def test_reminders_are_planned_moved_and_cancelled_with_the_booking(world, app):
    from fieldwork.reminders.models import Reminder, ReminderState

    def pending(appointment_id):
        return db.session.scalars(
            db.select(Reminder.due_at).where(
                Reminder.appointment_id == appointment_id,
                Reminder.state == ReminderState.PENDING,
            )
        ).all()

    appointment = book(world, at(2026, 3, 25, 10))
    planned = pending(appointment.id)
    assert planned and all(due < at(2026, 3, 25, 10) for due in planned)
    reschedule_appointment(appointment, at(2026, 3, 26, 10), 60, world["coordinator"])
    moved = pending(appointment.id)
    assert moved and all(due < at(2026, 3, 26, 10) for due in moved)
    assert not set(moved) & set(planned), "the reminders of the old time are no longer pending"
    # Same offsets, counted from the new time: 26 March 10:00 minus each offset.
    assert sorted(at(2026, 3, 26, 10) - due for due in moved) == sorted(
        at(2026, 3, 25, 10) - due for due in planned
    )
    cancel_appointment(appointment, "", world["coordinator"])
    assert pending(appointment.id) == []
