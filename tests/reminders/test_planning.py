"""Reminders are planned with the booking, moved with it and cancelled with it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.messaging.templating import DEFAULTS
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders import jobs, services
from fieldwork.reminders.models import Reminder, ReminderRecipient, ReminderSettings, ReminderState
from tests.reminders.conftest import NOW, make_appointment


def _plan(appointment):
    created = services.plan_reminders(appointment)
    db.session.commit()
    return created


def test_booking_plans_two_days_and_two_hours_before_for_both_people(world):
    """Defaults: 2 days and 2 hours before, to the interviewer and to the participant."""
    starts = NOW + dt.timedelta(days=5)
    appointment = make_appointment(world, starts)
    created = _plan(appointment)
    planned = sorted((r.due_at, r.recipient.value) for r in created)
    assert planned == [
        (starts - dt.timedelta(days=2), "interviewer"),
        (starts - dt.timedelta(days=2), "participant"),
        (starts - dt.timedelta(hours=2), "interviewer"),
        (starts - dt.timedelta(hours=2), "participant"),
    ]
    assert all(r.state == ReminderState.PENDING for r in created)
    assert len({r.message_id for r in created}) == 4


def test_a_reminder_whose_time_has_passed_is_not_created(world):
    """Booked 3 hours ahead: the 2-day reminder would be in the past, so only 2 hours."""
    appointment = make_appointment(world, NOW + dt.timedelta(hours=3))
    created = _plan(appointment)
    assert {r.offset_minutes for r in created} == {120}


def test_no_participant_reminder_without_an_email_address(world):
    appointment = make_appointment(world, NOW + dt.timedelta(days=5), participant=world["second"])
    created = _plan(appointment)
    assert {r.recipient for r in created} == {ReminderRecipient.INTERVIEWER}


def test_the_study_settings_choose_offsets_and_recipients(world):
    db.session.add(
        ReminderSettings(
            study_id=world["study"].id,
            offsets=[60 * 24, 30],
            is_for_interviewer=False,
            is_for_participant=True,
            **DEFAULTS,
        )
    )
    db.session.commit()
    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    created = _plan(appointment)
    assert sorted((r.offset_minutes, r.recipient.value) for r in created) == [
        (30, "participant"),
        (1440, "participant"),
    ]


def test_planning_does_not_commit(world):
    """The booking's transaction decides: a rollback leaves no reminder behind."""
    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    services.plan_reminders(appointment)
    db.session.rollback()
    assert db.session.scalars(select(Reminder)).all() == []


def test_rescheduling_cancels_pending_reminders_and_plans_them_for_the_new_time(world, clock):
    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    old = _plan(appointment)
    new_start = NOW + dt.timedelta(days=9)
    appointment.starts_at = new_start
    appointment.ends_at = new_start + dt.timedelta(hours=1)
    moved = services.move_reminders(appointment)
    db.session.commit()
    for reminder in old:
        db.session.refresh(reminder)
        assert reminder.state == ReminderState.CANCELLED
    assert sorted({r.due_at for r in moved}) == [
        new_start - dt.timedelta(days=2),
        new_start - dt.timedelta(hours=2),
    ]
    # At the old reminder's time nothing is due any more.
    report = jobs.sweep_due_reminders(NOW + dt.timedelta(days=3, hours=1))
    assert report.queued == []


def test_cancelling_cancels_pending_reminders_and_their_queued_messages(world, clock):
    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    _plan(appointment)
    # The 2-day reminders are queued in the outbox (SMTP not yet tried) ...
    report = jobs.sweep_due_reminders(NOW + dt.timedelta(days=3, minutes=1))
    assert len(report.queued) == 2
    # ... then the interview is cancelled.
    services.cancel_reminders(appointment)
    db.session.commit()
    states = db.session.scalars(select(Reminder.state)).all()
    assert set(states) == {ReminderState.CANCELLED}
    assert set(db.session.scalars(select(OutboxMessage.state))) == {OutboxState.CANCELLED}


def test_the_sweep_cancels_reminders_of_an_appointment_cancelled_without_the_hook(world, clock):
    """Belt and braces: a cancelled appointment's due reminder is never sent."""
    from fieldwork.scheduling.models import AppointmentStatus

    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    _plan(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()
    report = jobs.sweep_due_reminders(NOW + dt.timedelta(days=4))
    assert len(report.cancelled) == 2  # the two 2-day reminders were due
    assert report.queued == []


def test_the_booking_service_plans_moves_and_cancels_reminders(world, clock):
    """Through scheduling's own services: book, reschedule, cancel."""
    from fieldwork.scheduling.booking import (
        book_appointment,
        cancel_appointment,
        reschedule_appointment,
    )
    from fieldwork.scheduling.checks import BookingRequest
    from fieldwork.scheduling.models import AppointmentMode

    starts = NOW + dt.timedelta(days=5)
    request = BookingRequest(starts_at=starts, minutes=60, mode=AppointmentMode.TELEPHONE)
    appointment = book_appointment(
        world["study"],
        world["first"],
        world["kathryn"],
        request,
        world["coordinator"],
        confirmed=True,
    )
    booked = services.reminders_of(appointment.id)
    assert sorted({r.due_at for r in booked}) == [
        starts - dt.timedelta(days=2),
        starts - dt.timedelta(hours=2),
    ]
    assert len(booked) == 4

    later = starts + dt.timedelta(days=1)
    reschedule_appointment(appointment, later, 60, world["coordinator"], confirmed=True)
    db.session.expire_all()
    after_move = services.reminders_of(appointment.id)
    pending = [r for r in after_move if r.state == ReminderState.PENDING]
    assert sorted({r.due_at for r in pending}) == [
        later - dt.timedelta(days=2),
        later - dt.timedelta(hours=2),
    ]
    assert sum(r.state == ReminderState.CANCELLED for r in after_move) == 4

    cancel_appointment(appointment, "No longer needed", world["coordinator"])
    db.session.expire_all()
    assert {r.state for r in services.reminders_of(appointment.id)} == {ReminderState.CANCELLED}
