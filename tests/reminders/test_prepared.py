"""A reminder's email is written when the reminder is planned, so the sweep at its time only
checks and queues it; whatever changed in between (texts, time, place, names) is written
afresh, and the email always carries the time it was sent."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.messaging.templating import DEFAULTS
from fieldwork.reminders import jobs, services
from fieldwork.reminders.erasure import erase_participant_details
from fieldwork.reminders.models import Reminder, ReminderSettings
from tests.reminders.conftest import NOW, make_appointment, parsed


def _book(world, starts_at):
    appointment = make_appointment(world, starts_at)
    planned = services.plan_reminders(appointment)
    db.session.commit()
    return appointment, planned


def test_planning_writes_each_email_and_the_sweep_sends_it_dated_when_it_goes(
    world, clock, smtp_server
):
    starts = NOW + dt.timedelta(hours=6)
    _, planned = _book(world, starts)
    assert planned and all(reminder.prepared_email for reminder in planned)
    clock.move(starts - dt.timedelta(hours=2, seconds=-30))
    jobs.sweep()
    assert len(smtp_server.messages) == 2
    for item in smtp_server.messages:
        assert parsedate_to_datetime(parsed(item)["Date"]) == clock.now.replace(microsecond=0)
    db.session.expire_all()
    assert all(r.prepared_email is None for r in db.session.scalars(select(Reminder)))


def test_texts_changed_after_planning_are_what_the_reminder_says(world, clock, smtp_server):
    starts = NOW + dt.timedelta(hours=6)
    _book(world, starts)
    db.session.add(
        ReminderSettings(
            study_id=world["study"].id,
            offsets=[120],
            is_for_interviewer=True,
            is_for_participant=True,
            **{**DEFAULTS, "participant_subject": "Changed: {{ when }}"},
        )
    )
    db.session.commit()
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    subjects = {str(parsed(item)["Subject"]) for item in smtp_server.messages}
    assert any(subject.startswith("Changed: ") for subject in subjects)


def test_a_place_changed_after_planning_is_what_the_reminder_says(world, clock, smtp_server):
    starts = NOW + dt.timedelta(hours=6)
    appointment, _ = _book(world, starts)
    appointment.location = "Room 101, Caxton House"
    db.session.commit()
    clock.move(starts - dt.timedelta(hours=2))
    jobs.sweep()
    texts = [parsed(item).get_body(("plain",)).get_content() for item in smtp_server.messages]
    assert texts and all("Room 101, Caxton House" in text for text in texts)


def test_erasure_drops_the_emails_written_ahead_for_the_person(world, clock):
    appointment, planned = _book(world, NOW + dt.timedelta(hours=6))
    erase_participant_details(appointment.participant_id, ("Siân O'Brien",))
    db.session.commit()
    db.session.expire_all()
    assert all(r.prepared_email is None for r in db.session.scalars(select(Reminder)))
