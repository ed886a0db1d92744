"""A proposed new time (iTIP COUNTER) is shown with one-click "move to this time": a POST with
its CSRF token that moves the interview through scheduling, which sends the update."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.replies import mailbox as reader
from fieldwork.replies.models import CalendarReply, ReplyAnswer
from fieldwork.scheduling.models import Appointment
from tests.replies.conftest import at, book, calendar_part, outbox_messages, the_event
from tests.replies.mail import reply_email

PROPOSED = at(2026, 3, 26, 14)


def _counter(world, mailbox, appointment, **options) -> CalendarReply:
    mailbox.append(
        reply_email(
            appointment.ical_uid,
            options.pop("attendee", "sian@example.org"),
            options.pop("partstat", "TENTATIVE"),
            method="COUNTER",
            starts_at=options.pop("starts_at", PROPOSED),
            minutes=options.pop("minutes", 45),
            comment=options.pop("comment", "Thursday afternoon suits me better."),
            subject="New time proposed: Interview",
            **options,
        )
    )
    report = reader.read_mailbox()
    assert len(report.recorded) == 1, report
    return db.session.scalars(select(CalendarReply)).one()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_counter_is_shown_and_one_click_moves_the_interview_and_sends_the_update(
    app, world, mailbox, auth, client
):
    """The proposal shows on the appointment page with its button; the button's POST (CSRF on)
    moves the interview to the proposed time and length, and the update sent to both sides
    keeps the UID, raises SEQUENCE and carries the new time (parsed back)."""
    appointment = book(world, at(2026, 3, 24, 10))
    reply = _counter(world, mailbox, appointment)
    assert reply.answer == ReplyAnswer.COUNTER
    assert (reply.proposed_starts_at, reply.proposed_minutes) == (PROPOSED, 45)

    auth.login(world["coordinator"])
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/appointments/{appointment.id}")
    assert "Proposed a new time" in page.text and "Move to this time" in page.text
    refused = client.post(f"/replies/{reply.id}/move", data={})
    assert refused.status_code == 400  # no CSRF token, nothing moved
    moved = client.post(f"/replies/{reply.id}/move", data={"csrf_token": _csrf(page.text)})
    app.config["WTF_CSRF_ENABLED"] = False

    assert moved.status_code == 302
    assert moved.location.endswith(f"/appointments/{appointment.id}")
    db.session.expire_all()
    after = db.session.get(Appointment, appointment.id)
    assert (after.starts_at, after.minutes, after.sequence) == (PROPOSED, 45, 1)
    updates = outbox_messages("update", appointment.id)
    assert len(updates) == 2  # the interviewer's and the participant's
    for message in updates:
        event = the_event(calendar_part(message))
        assert str(event["UID"]) == appointment.ical_uid
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART").astimezone(dt.UTC) == PROPOSED
        assert event.decoded("DTEND").astimezone(dt.UTC) == PROPOSED + dt.timedelta(minutes=45)
    taken = db.session.get(CalendarReply, reply.id)
    assert taken.moved_at is not None and taken.moved_by_id == world["coordinator"].id
    shown = client.get(f"/appointments/{appointment.id}")
    assert "Move to this time" not in shown.text and "Moved to this time" in shown.text


def test_a_proposal_cannot_be_taken_twice_or_after_the_interview_changed(
    app, world, mailbox, auth, client
):
    appointment = book(world, at(2026, 3, 24, 10))
    reply = _counter(world, mailbox, appointment)
    auth.login(world["coordinator"])
    assert client.post(f"/replies/{reply.id}/move").status_code == 302
    again = client.post(f"/replies/{reply.id}/move", follow_redirects=True)
    assert "no longer applies" in again.text
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).sequence == 1
    assert len(outbox_messages("update", appointment.id)) == 2


def test_a_proposal_outside_the_interviewers_hours_asks_before_moving(
    app, world, mailbox, auth, client
):
    """The interviewer's windows end at 17:00: the one click shows the warning and a "move
    anyway" button instead of moving; that second POST moves it."""
    appointment = book(world, at(2026, 3, 24, 10))
    reply = _counter(world, mailbox, appointment, starts_at=at(2026, 3, 26, 18))
    auth.login(world["coordinator"])
    asked = client.post(f"/replies/{reply.id}/move")
    assert asked.status_code == 409 and "Move anyway" in asked.text
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).sequence == 0
    done = client.post(f"/replies/{reply.id}/move", data={"confirm": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).starts_at == at(2026, 3, 26, 18)


def test_a_proposal_that_clashes_is_refused_with_the_reason(app, world, mailbox, auth, client):
    appointment = book(world, at(2026, 3, 24, 10))
    book(world, PROPOSED, participant=world["second"])
    reply = _counter(world, mailbox, appointment)
    auth.login(world["coordinator"])
    answer = client.post(f"/replies/{reply.id}/move", follow_redirects=True)
    assert "was not moved" in answer.text and "already has" in answer.text
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).starts_at == at(2026, 3, 24, 10)


def test_a_google_counter_with_the_full_attendee_list_is_read_as_the_senders(app, world, mailbox):
    """A COUNTER may list every attendee; the proposer is the one whose address sent it."""
    appointment = book(world, at(2026, 3, 24, 10))
    reply = _counter(world, mailbox, appointment, style="google", attendees=2)
    assert reply.attendee_email == "sian@example.org" and reply.is_participant


def test_interviewers_cannot_move_to_a_proposed_time(app, world, mailbox, auth, client):
    appointment = book(world, at(2026, 3, 24, 10))
    reply = _counter(world, mailbox, appointment)
    auth.login(world["kathryn"])
    assert "Move to this time" not in client.get(f"/appointments/{appointment.id}").text
    assert client.post(f"/replies/{reply.id}/move").status_code == 403
