"""The sweep sends each reminder once, at its time, through the outbox and a real SMTP server;
it survives the server being away and the scheduler having been down."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from fieldwork.extensions import db
from fieldwork.messaging.templating import DEFAULTS
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders import jobs, services
from fieldwork.reminders.models import Reminder, ReminderRecipient, ReminderSettings, ReminderState
from tests.reminders.conftest import NOW, make_appointment, message_ids, parsed


def _book(world, starts_at, **kwargs):
    appointment = make_appointment(world, starts_at, **kwargs)
    services.plan_reminders(appointment)
    db.session.commit()
    return appointment


def _states() -> dict[tuple[int, str], ReminderState]:
    db.session.expire_all()
    return {
        (r.offset_minutes, r.recipient.value): r.state for r in db.session.scalars(select(Reminder))
    }


def test_a_reminder_arrives_once_at_its_time(world, clock, smtp_server):
    starts = NOW + dt.timedelta(days=5)
    _book(world, starts)
    clock.move(starts - dt.timedelta(days=2, minutes=1))
    jobs.sweep()
    assert smtp_server.messages == [], "nothing is due a minute early"

    clock.move(starts - dt.timedelta(days=2) + dt.timedelta(seconds=5))
    jobs.sweep()
    jobs.sweep()  # a second sweep (or a second scheduler) finds nothing more to send
    received = [parsed(item) for item in smtp_server.messages]
    assert {str(m["To"]) for m in received} == {
        "Kathryn Interviewer <kathryn@example.org>",
        '"Siân O\'Brien, Jr." <sian@example.org>',
    }
    assert _states()[(2880, "interviewer")] == ReminderState.SENT
    assert _states()[(120, "interviewer")] == ReminderState.PENDING

    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    ids = message_ids(smtp_server)
    assert len(ids) == 4 and len(set(ids)) == 4
    assert set(_states().values()) == {ReminderState.SENT}


def test_the_email_names_the_time_and_zones_and_carries_the_reminders_message_id(
    world, clock, smtp_server
):
    starts = dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC)  # 10:00 BST in London
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    by_recipient = {
        str(parsed(m)["To"]).split("<")[-1].rstrip(">"): parsed(m) for m in smtp_server.messages
    }
    participant = by_recipient["sian@example.org"]
    text = participant.get_body(("plain",)).get_content()
    assert "Monday 30 March 2026, 10:00 BST (Europe/London)" in text
    assert "Monday 30 March 2026, 10:00 BST (Europe/London)" in str(participant["Subject"])
    interviewer_text = by_recipient["kathryn@example.org"].get_body(("plain",)).get_content()
    assert "Your time: Monday 30 March 2026, 05:00 EDT (America/New_York)" in interviewer_text
    reminder = db.session.scalars(
        select(Reminder).where(
            Reminder.recipient == ReminderRecipient.PARTICIPANT, Reminder.offset_minutes == 120
        )
    ).one()
    assert str(participant["Message-ID"]) == reminder.message_id
    assert participant["Auto-Submitted"] == "auto-generated"
    html = participant.get_body(("html",)).get_content()
    # The name reaches the HTML as text (the inliner writes an apostrophe as itself).
    assert "Dear Siân O'Brien," in html or "Dear Siân O&#39;Brien," in html


def test_a_name_cannot_inject_markup_or_headers(world, clock, smtp_server):
    """Names are escaped in the HTML part and cleaned in the headers."""
    participant = world["first"]
    participant.name = "Eve <script>alert(1)</script>\r\nBcc: evil@example.org"
    db.session.commit()
    starts = NOW + dt.timedelta(hours=5)
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    assert all(item.rcpt_tos != ("evil@example.org",) for item in smtp_server.messages)
    assert all("evil@example.org" not in item.rcpt_tos for item in smtp_server.messages)
    for item in smtp_server.messages:
        message = parsed(item)
        assert message["Bcc"] is None
        html = message.get_body(("html",)).get_content()
        assert "<script>" not in html


def test_smtp_refusing_then_accepting_keeps_it_pending_and_sends_it_once(world, clock, smtp_server):
    starts = NOW + dt.timedelta(hours=6)
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=2))
    smtp_server.refuse("451 4.3.0 Try again later")
    jobs.sweep()
    assert smtp_server.messages == []
    assert set(_states().values()) == {ReminderState.PENDING}
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {r.state for r in rows} == {OutboxState.PENDING}
    assert all("451" in r.last_error for r in rows)
    assert all(r.next_attempt_at > clock.now for r in rows), "backoff before the next try"

    smtp_server.stop()  # and now the server is gone altogether
    clock.advance(minutes=1, seconds=1)
    jobs.sweep()
    assert set(_states().values()) == {ReminderState.PENDING}

    smtp_server.refuse(None)
    smtp_server.start()
    clock.advance(minutes=10)
    jobs.sweep()
    jobs.sweep()
    ids = message_ids(smtp_server)
    assert len(ids) == 2 and len(set(ids)) == 2
    assert set(_states().values()) == {ReminderState.SENT}


def test_after_downtime_due_reminders_go_at_once_if_the_interview_is_ahead(
    world, clock, smtp_server
):
    """Down from before the 2-day reminder until 3 hours before: it is sent late, at once."""
    starts = NOW + dt.timedelta(days=5)
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=3))
    jobs.sweep()
    assert len(smtp_server.messages) == 2
    assert _states()[(2880, "participant")] == ReminderState.SENT
    assert _states()[(120, "participant")] == ReminderState.PENDING


def test_after_downtime_reminders_of_a_started_interview_are_marked_missed(
    world, clock, smtp_server
):
    starts = NOW + dt.timedelta(days=5)
    _book(world, starts)
    clock.move(starts + dt.timedelta(minutes=10))
    report = jobs.sweep_due_reminders()
    assert len(report.missed) == 4
    assert smtp_server.messages == []
    missed = db.session.scalars(select(Reminder)).all()
    assert {r.state for r in missed} == {ReminderState.MISSED}
    assert all("no scheduler was running" in r.last_error for r in missed)
    assert services.attention(world["study"].id).missed == 4


def test_a_reminder_still_waiting_for_smtp_when_the_interview_starts_is_missed(
    world, clock, smtp_server
):
    starts = NOW + dt.timedelta(hours=3)
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=2))
    smtp_server.stop()
    jobs.sweep()
    clock.move(starts + dt.timedelta(minutes=1))
    smtp_server.start()
    jobs.sweep()
    assert smtp_server.messages == []
    assert set(_states().values()) == {ReminderState.MISSED}
    assert set(db.session.scalars(select(OutboxMessage.state))) == {OutboxState.CANCELLED}


def test_an_interrupted_send_is_flagged_not_resent_and_can_be_resent_by_hand(
    world, clock, smtp_server
):
    """A sender died between claim and confirmation: the sweep leaves it alone; the
    coordinator's resend sends the same message, with the same Message-ID."""
    starts = NOW + dt.timedelta(hours=6)
    _book(world, starts, participant=world["second"])  # interviewer only
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep_due_reminders()
    db.session.execute(
        update(OutboxMessage).values(state=OutboxState.SENDING, claimed_at=clock.now, attempts=1)
    )
    db.session.commit()
    clock.advance(minutes=11)
    jobs.sweep()
    assert smtp_server.messages == []
    reminder = db.session.scalars(select(Reminder)).one()
    assert services.attention(world["study"].id).interrupted == 1
    assert services.is_resendable(services.get_reminder(reminder.id))

    services.resend(reminder.id)
    jobs.sweep()
    assert message_ids(smtp_server) == [reminder.message_id]
    assert _states()[(120, "interviewer")] == ReminderState.SENT


def test_a_template_error_fails_the_reminder_with_a_reason_and_others_still_go(
    world, clock, smtp_server
):
    db.session.add(
        ReminderSettings(
            study_id=world["study"].id,
            offsets=[120],
            is_for_interviewer=True,
            is_for_participant=True,
            **{**DEFAULTS, "participant_body": "Hello {{ nope }}"},
        )
    )
    db.session.commit()
    starts = NOW + dt.timedelta(hours=6)
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    assert _states() == {
        (120, "interviewer"): ReminderState.SENT,
        (120, "participant"): ReminderState.FAILED,
    }
    failed = db.session.scalars(
        select(Reminder).where(Reminder.state == ReminderState.FAILED)
    ).one()
    assert "nope" in failed.last_error
    assert len(smtp_server.messages) == 1


def test_a_participants_reminder_is_in_their_own_zone_with_the_studys_beside_it(
    world, clock, smtp_server
):
    """The zone the participant chose on their booking page is what their reminder uses."""
    world["first"].timezone = "America/New_York"
    db.session.commit()
    starts = dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC)  # 10:00 BST, 05:00 EDT
    _book(world, starts)
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    to_participant = next(
        parsed(m) for m in smtp_server.messages if "sian@example.org" in m.rcpt_tos
    )
    expected = "Monday 30 March 2026, 05:00 EDT (America/New_York) – 10:00 BST in Europe/London"
    assert expected in str(to_participant["Subject"])
    text = to_participant.get_body(("plain",)).get_content()
    assert f"When: {expected}, until 06:00 EDT" in text
