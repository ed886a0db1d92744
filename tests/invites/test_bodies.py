"""Email bodies look like a product's: one responsive layout with its CSS inlined, plain text
that reads on its own, the study's name as sender, who calls whom on which number for a
telephone interview and the link for a video one; every kind parses with the default policy."""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default

import pytest

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.scheduling.booking import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import AppointmentMode
from tests.factories import make_frame, make_participant, make_user

NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def people(app):
    set_clock(lambda: NOW)
    frame = make_frame()
    frame["study"].name = "Équipe Pathways"
    coordinator = make_user("coordinator", name="Cora Coordinator")
    kathryn = make_user("interviewer", name="Kathryn Interviewer", email="kathryn@example.org")
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Siân O'Brien",
        email="sian@example.org",
        phone="07700 900123",
        timezone="America/New_York",
    )
    db.session.commit()
    yield {**frame, "coordinator": coordinator, "kathryn": kathryn, "person": person}
    set_clock(None)


def _messages(kind: str) -> dict[str, email.message.EmailMessage]:
    rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == kind))
    parsed = [email.message_from_bytes(row.raw, policy=default) for row in rows]
    return {m["To"].addresses[0].addr_spec: m for m in parsed}


def _book(people, mode: AppointmentMode, **fields):
    return book_appointment(
        people["study"],
        people["person"],
        people["kathryn"],
        BookingRequest(
            starts_at=dt.datetime(2026, 3, 23, 9, tzinfo=dt.UTC), minutes=60, mode=mode, **fields
        ),
        people["coordinator"],
        confirmed=True,
    )


def test_a_telephone_invitation_says_who_calls_whom_on_which_number(people):
    _book(people, AppointmentMode.TELEPHONE)
    sent = _messages("invite")
    participant = sent["sian@example.org"]
    assert participant["From"].addresses[0].display_name == "Équipe Pathways"
    text = participant.get_body(("plain",)).get_content()
    assert "Kathryn Interviewer will call you on 07700 900123." in text
    # The participant's zone first, the study's beside it.
    assert "05:00 EDT (America/New_York) – 09:00 GMT in Europe/London" in text
    assert "<" not in text.split("--")[0]  # plain text, not markup
    interviewer = sent["kathryn@example.org"].get_body(("plain",)).get_content()
    assert "You call Siân O'Brien on 07700 900123." in interviewer
    html = participant.get_body(("html",)).get_content()
    assert "<style>" not in html and 'style="' in html  # inlined by css-inline
    assert "@media (max-width: 620px)" in html  # the small-screen rule stays a style block
    assert "07700 900123" in html


def test_a_video_invitation_gives_the_link(people):
    _book(people, AppointmentMode.VIDEO, video_link="https://meet.example.org/abc")
    participant = _messages("invite")["sian@example.org"]
    assert "Video link: https://meet.example.org/abc" in participant.get_body(
        ("plain",)
    ).get_content().replace("\r\n", "\n")
    assert 'href="https://meet.example.org/abc"' in participant.get_body(("html",)).get_content()


def test_every_appointment_message_has_date_message_id_and_round_trips(people):
    appointment = _book(people, AppointmentMode.IN_PERSON, location="Leeds JCP")
    reschedule_appointment(
        appointment,
        dt.datetime(2026, 3, 24, 9, tzinfo=dt.UTC),
        60,
        people["coordinator"],
        confirmed=True,
    )
    cancel_appointment(appointment, "", people["coordinator"])
    for kind in ("invite", "update", "cancellation"):
        for message in _messages(kind).values():
            assert message["Date"] is not None and message["Message-ID"] is not None
            assert message["From"].addresses[0].display_name == "Équipe Pathways"
            assert message.get_body(("plain",)) is not None
            assert message.get_body(("html",)) is not None
    update = _messages("update")["sian@example.org"].get_body(("plain",)).get_content()
    assert "It was: Monday 23 March 2026, 05:00 EDT (America/New_York)" in update
