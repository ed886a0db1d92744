"""Reminder test data: a study in Europe/London, an interviewer, participants, and
appointments made through the scheduling models; a real SMTP server on loopback; a clock."""

from __future__ import annotations

import datetime as dt
import uuid
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

import fieldwork.reminders.models  # noqa: F401 - the tables exist before the app creates them
from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.factories import make_frame, make_participant, make_user
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name

UTC = dt.UTC
#: "Now" in these tests: Monday 16 March 2026, 09:00 UTC (GMT in London).
NOW = dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


class Clock:
    """The app's clock, fixed until moved."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def move(self, to: dt.datetime) -> None:
        self.now = to

    def advance(self, **delta) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(app):
    clock = Clock()
    set_clock(clock)
    yield clock
    set_clock(None)


@pytest.fixture
def world(app, clock):
    """Study (Europe/London), coordinator, interviewer Kathryn (in New York), two participants."""
    frame = make_frame()
    study = frame["study"]
    coordinator = make_user("coordinator", email="coord@example.org", name="Cora Coordinator")
    kathryn = make_user(
        "interviewer",
        email="kathryn@example.org",
        name="Kathryn Interviewer",
        timezone="America/New_York",
    )
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
        email="",
    )
    return {
        **frame,
        "coordinator": coordinator,
        "kathryn": kathryn,
        "first": first,
        "second": second,
    }


def make_appointment(
    world,
    starts_at: dt.datetime,
    *,
    participant=None,
    minutes: int = 60,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    commit: bool = True,
) -> Appointment:
    """An appointment written through the scheduling model (the booking service's job)."""
    participant = participant or world["first"]
    appointment = Appointment(
        study_id=world["study"].id,
        participant_id=participant.id,
        interviewer_id=world["kathryn"].id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        timezone=world["study"].timezone,
        mode=AppointmentMode.TELEPHONE,
        location="",
        busy_from=starts_at,
        busy_until=starts_at + dt.timedelta(minutes=minutes),
        status=status,
        ical_uid=f"{uuid.uuid4()}@fieldwork",
        sequence=0,
    )
    db.session.add(appointment)
    db.session.flush()
    if commit:
        db.session.commit()
    return appointment


def parsed(received) -> EmailMessage:
    return message_from_bytes(received.data, policy=default_policy)


def message_ids(server) -> list[str]:
    return [str(parsed(item)["Message-ID"]) for item in server.messages]
