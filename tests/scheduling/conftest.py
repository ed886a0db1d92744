"""Scheduling test data: a study in Europe/London, a coordinator, an interviewer with weekday
windows, a participant; and helpers that read the messages the outbox holds."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage
from email.policy import default as default_policy

import icalendar
import pytest
from sqlalchemy import select

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.recruitment.consent import record_consent
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.booking import book_appointment
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import AppointmentMode
from tests.factories import make_frame, make_participant, make_user
from tests.recruitment.helpers import all_yes, make_published_version

UTC = dt.UTC
#: "Now" in these tests: Friday 20 March 2026, noon UTC (GMT; the clocks go forward on 29th).
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def at(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(app):
    """The app's clock, fixed at NOW; `clock.move(to)` moves it."""

    class Clock:
        now = NOW

        @staticmethod
        def move(to: dt.datetime) -> None:
            Clock.now = to

    set_clock(lambda: Clock.now)
    yield Clock
    set_clock(None)


@pytest.fixture
def world(app, clock):
    """Study (Europe/London, 60 minutes), coordinator, interviewer Kathryn with Monday to
    Friday 09:00-17:00 windows, a second interviewer, participants P1-004 and P1-005."""
    frame = make_frame()
    study = frame["study"]
    coordinator = make_user("coordinator", email="coord@example.org", name="Cora Coordinator")
    kathryn = make_user("interviewer", email="kathryn@example.org", name="Kathryn Interviewer")
    other = make_user("interviewer", email="omar@example.org", name="Omar Interviewer")
    first = make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-004",
        name="Siân O'Brien, Jr.",
        email="sian@example.org",
        interviewer_id=kathryn.id,
    )
    second = make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-005",
        name="Dev Patel",
        email="dev@example.org",
    )
    for person in (kathryn, other):
        for weekday in range(5):
            add_window(person, weekday, dt.time(9), dt.time(17), "Europe/London")
    return {
        **frame,
        "coordinator": coordinator,
        "kathryn": kathryn,
        "other": other,
        "first": first,
        "second": second,
    }


def book(
    world,
    starts_at,
    *,
    participant=None,
    interviewer=None,
    minutes=60,
    mode=AppointmentMode.TELEPHONE,
    confirmed=False,
    already_took_place=False,
    **fields,
):
    request = BookingRequest(starts_at=starts_at, minutes=minutes, mode=mode, **fields)
    return book_appointment(
        world["study"],
        participant or world["first"],
        interviewer or world["kathryn"],
        request,
        world["coordinator"],
        confirmed=confirmed,
        already_took_place=already_took_place,
    )


def give_consent(world, participant):
    version = make_published_version(world["study"], world["coordinator"])
    record_consent(
        participant, version, method="written", answers=all_yes(), actor=world["coordinator"]
    )


def outbox_messages(
    kind: str | None = None, appointment_id: int | None = None
) -> list[EmailMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        statement = statement.where(OutboxMessage.kind == kind)
    if appointment_id:
        statement = statement.where(OutboxMessage.appointment_id == appointment_id)
    return [
        email.message_from_bytes(row.raw, policy=default_policy)
        for row in db.session.scalars(statement)
    ]


def calendar_part(message: EmailMessage) -> icalendar.Calendar:
    """The inline text/calendar part, parsed; its method= must equal the METHOD inside."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            assert part.get_param("method") == str(calendar["METHOD"])
            return calendar
    raise AssertionError("no text/calendar part")


def the_event(calendar: icalendar.Calendar):
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    return events[0]
