"""Scheduling announces every booking, move, cancellation and outcome through its signals
(fieldwork.scheduling.signals), inside the change's transaction: other domains (recruitment's
status, reminders) react there, and what they write commits or rolls back with the booking."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reminders.models import Reminder
from fieldwork.sampling.models import RecruitmentStatus
from fieldwork.scheduling.booking import cancel_appointment, record_outcome, reschedule_appointment
from fieldwork.scheduling.errors import ConsentMissing, SchedulingError
from fieldwork.scheduling.models import Appointment, AppointmentStatus
from fieldwork.scheduling.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_moved,
    appointment_outcome_recorded,
)
from tests.scheduling.conftest import at, book, give_consent


@contextlib.contextmanager
def heard(signal):
    """Every (sender, kwargs) the signal sends while the block runs."""
    calls: list[tuple[object, dict]] = []

    def receiver(sender, **kwargs):
        calls.append((sender, kwargs))

    with signal.connected_to(receiver):
        yield calls


@contextlib.contextmanager
def failing(signal, error: Exception):
    """A receiver that raises `error` while the block runs."""

    def receiver(sender, **kwargs):
        raise error

    with signal.connected_to(receiver):
        yield


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_booking_announces_the_appointment_and_who_booked_it(world):
    with heard(appointment_booked) as calls:
        appointment = book(world, at(2026, 3, 23, 10))
    assert calls == [(appointment, {"actor": world["coordinator"], "already_took_place": False})]


def test_a_move_announces_the_previous_start(world):
    appointment = book(world, at(2026, 3, 23, 10))
    with heard(appointment_moved) as calls:
        reschedule_appointment(appointment, at(2026, 3, 24, 10), 60, world["coordinator"])
    assert calls == [
        (appointment, {"actor": world["coordinator"], "previous_starts_at": at(2026, 3, 23, 10)})
    ]


def test_a_cancellation_says_whether_the_participant_keeps_another_booking(world):
    first = book(world, at(2026, 3, 23, 10))
    second = book(world, at(2026, 3, 24, 10))
    with heard(appointment_cancelled) as calls:
        cancel_appointment(first, "moved on", world["coordinator"])
        cancel_appointment(second, "moved on", None)
    assert calls == [
        (first, {"actor": world["coordinator"], "is_participant_still_booked": True}),
        (second, {"actor": None, "is_participant_still_booked": False}),
    ]


def test_an_outcome_is_announced_with_the_appointment_in_its_new_state(world, clock):
    appointment = book(world, at(2026, 3, 23, 10))
    give_consent(world, world["first"])
    clock.move(at(2026, 3, 23, 12))
    with heard(appointment_outcome_recorded) as calls:
        record_outcome(appointment, AppointmentStatus.HELD, 55, True, world["kathryn"])
    assert calls == [
        (appointment, {"actor": world["kathryn"], "is_participant_still_booked": False})
    ]
    assert calls[0][0].is_held


def test_recruitment_and_reminders_react_within_the_booking(world):
    """What the subscribers write is there once the booking has committed."""
    appointment = book(world, at(2026, 3, 23, 10))
    db.session.expire_all()
    assert world["first"].status == RecruitmentStatus.SCHEDULED
    assert count(Reminder) > 0
    cancel_appointment(appointment, "", world["coordinator"])
    db.session.expire_all()
    assert world["first"].status == RecruitmentStatus.AGREED
    assert all(
        reminder.state.value == "cancelled" for reminder in db.session.scalars(select(Reminder))
    )


def test_a_receiver_that_fails_rolls_the_whole_booking_back(world):
    """No appointment, no invitation, no reminder, no status change: one transaction."""
    status_before = world["first"].status
    with (
        failing(appointment_booked, RuntimeError("a subscriber broke")),
        pytest.raises(RuntimeError, match="a subscriber broke"),
    ):
        book(world, at(2026, 3, 23, 10))
    db.session.expire_all()
    assert (count(Appointment), count(OutboxMessage), count(Reminder)) == (0, 0, 0)
    assert world["first"].status == status_before


def test_a_receiver_that_fails_rolls_a_move_back(world):
    appointment = book(world, at(2026, 3, 23, 10))
    messages_before = count(OutboxMessage)
    with (
        failing(appointment_moved, RuntimeError("a subscriber broke")),
        pytest.raises(RuntimeError),
    ):
        reschedule_appointment(appointment, at(2026, 3, 24, 10), 60, world["coordinator"])
    db.session.expire_all()
    moved = db.session.get(Appointment, appointment.id)
    assert (moved.starts_at, moved.sequence) == (at(2026, 3, 23, 10), 0)
    assert count(OutboxMessage) == messages_before


def test_a_receiver_that_fails_rolls_a_cancellation_back(world):
    appointment = book(world, at(2026, 3, 23, 10))
    with (
        failing(appointment_cancelled, RuntimeError("a subscriber broke")),
        pytest.raises(RuntimeError),
    ):
        cancel_appointment(appointment, "", world["coordinator"])
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
    assert world["first"].status == RecruitmentStatus.SCHEDULED


def test_a_receiver_refuses_a_booking_with_a_message_for_the_user(world):
    """A ValueError from a receiver (a domain's rule) reaches the caller as a SchedulingError."""
    with (
        failing(appointment_booked, ValueError("P1-004 cannot be booked today.")),
        pytest.raises(SchedulingError, match="cannot be booked today"),
    ):
        book(world, at(2026, 3, 23, 10))
    assert count(Appointment) == 0


def test_a_withdrawn_participant_cannot_be_booked(world):
    """Recruitment refuses through its receiver; the booking does not happen."""
    world["first"].status = RecruitmentStatus.WITHDRAWN
    db.session.commit()
    with pytest.raises(SchedulingError, match="withdrawn; no interview can be booked"):
        book(world, at(2026, 3, 23, 10))
    assert count(Appointment) == 0


def test_a_refused_outcome_is_reported_as_missing_consent(world, clock):
    appointment = book(world, at(2026, 3, 23, 10))
    give_consent(world, world["first"])
    clock.move(at(2026, 3, 23, 12))
    with (
        failing(appointment_outcome_recorded, ValueError("Consent was withdrawn.")),
        pytest.raises(ConsentMissing, match="Consent was withdrawn"),
    ):
        record_outcome(appointment, AppointmentStatus.HELD, 55, True, world["kathryn"])
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
