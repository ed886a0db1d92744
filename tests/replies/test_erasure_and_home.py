"""Calendar answers beyond the replies pages: erased with the participant, on the home pages,
on the calendar of interviews."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.audit.models import AuditEvent
from fieldwork.audit.sentences import sentence
from fieldwork.extensions import db
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.replies import services
from fieldwork.replies.models import CalendarReply, MailboxMessage, ReplyAnswer
from tests.replies.conftest import at, book
from tests.replies.mail import reply_email


def _read(message: bytes) -> None:
    header = message.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert services.process_message(header, message, len(message), 10**6) is not None


def test_erasing_a_participant_blanks_their_answers_but_keeps_what_they_answered(app, world):
    appointment = book(world, at(2026, 3, 24, 10))
    _read(
        reply_email(
            appointment.ical_uid,
            "sian@example.org",
            "DECLINED",
            name="Siân O'Brien",
            comment="Siân cannot come, call 07700 900123",
            subject="Declined: Siân O'Brien",
        )
    )
    _read(reply_email(appointment.ical_uid, "kathryn@example.org", "ACCEPTED"))

    erase_personal_data(world["first"], world["coordinator"])

    db.session.expire_all()
    participant_reply, interviewer_reply = db.session.scalars(
        select(CalendarReply).order_by(CalendarReply.is_participant.desc())
    ).all()
    assert participant_reply.answer == ReplyAnswer.DECLINED
    assert "sian" not in participant_reply.attendee_email
    assert participant_reply.attendee_name == "" and participant_reply.comment == ""
    assert interviewer_reply.attendee_email == "kathryn@example.org"
    rows = {row.sender: row.subject for row in db.session.scalars(select(MailboxMessage))}
    assert all(
        "sian" not in sender.lower() and "Siân" not in subject for sender, subject in rows.items()
    )


def test_the_coordinators_home_lists_declines_and_the_interviewers_their_answers(
    app, world, auth, client
):
    appointment = book(world, at(2026, 3, 24, 10))
    _read(reply_email(appointment.ical_uid, "sian@example.org", "DECLINED", comment="On leave"))
    other = book(world, at(2026, 3, 25, 10), participant=world["second"])
    _read(reply_email(other.ical_uid, "dev@example.org", "ACCEPTED"))

    auth.login(world["coordinator"])
    home = client.get("/")
    assert "Declined in their calendar: to rebook (1)" in home.text and "On leave" in home.text
    auth.logout()
    auth.login(world["kathryn"])
    home = client.get("/")
    assert "Answers to your invitations" in home.text
    assert "P1-005" in home.text and "Accepted" in home.text
    assert "Declined in their calendar: to rebook (1)" in home.text
    auth.logout()
    auth.login(world["other"])
    home = client.get("/")
    assert "to rebook (1)" not in home.text and "P1-005" not in home.text


def test_the_calendar_of_interviews_shows_each_persons_answer(app, world, auth, client):
    appointment = book(world, at(2026, 3, 24, 10))
    _read(reply_email(appointment.ical_uid, "sian@example.org", "TENTATIVE"))
    auth.login(world["coordinator"])
    page = client.get("/appointments/calendar?view=week&date=2026-03-24")
    assert page.status_code == 200
    assert "Participant: tentative (maybe)" in page.text


def test_each_recorded_answer_is_an_event_of_the_audit_trail(app, world, auth, client):
    """By the interviewer for their own answer, by the participant (no user) for theirs; the
    sentence names the answer, never the comment."""
    appointment = book(world, at(2026, 3, 24, 10))
    _read(reply_email(appointment.ical_uid, "sian@example.org", "DECLINED", comment="Sorry"))
    _read(reply_email(appointment.ical_uid, "kathryn@example.org", "ACCEPTED"))
    events = db.session.scalars(
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.participant))
        .where(AuditEvent.action == "calendar_reply.recorded")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.actor_id for e in events] == [None, world["kathryn"].id]
    assert [sentence(e, "Europe/London") for e in events] == [
        "The participant answered the invitation to P1-004's interview from their calendar: "
        "declined",
        "The interviewer answered the invitation to P1-004's interview from their calendar: "
        "accepted",
    ]
    auth.login(world["coordinator"])
    trail = client.get("/audit")
    assert "calendar_reply.recorded" in trail.text and "Sorry" not in trail.text
