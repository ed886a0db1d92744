"""Twenty requests at once on one appointment or one booking link: exactly one effect, no 500,
no deadlock (locks in the order of docs/concurrency.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.scheduling.links import create_booking_link
from fieldwork.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentMode,
    AppointmentStatus,
    ChangeAction,
)
from tests.race import race
from tests.scheduling.conftest import at, book


def _changes(appointment_id: int, action: ChangeAction) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count(AppointmentChange.id)).where(
            AppointmentChange.appointment_id == appointment_id,
            AppointmentChange.action == action,
        )
    )


def _booked(world) -> int:
    appointment_id = book(world, at(2026, 3, 30, 9)).id
    db.session.remove()
    return appointment_id


def test_twenty_cancellations_of_one_appointment_cancel_it_once(app, world):
    appointment_id = _booked(world)
    statuses = race(
        app,
        "POST",
        f"/appointments/{appointment_id}/cancel",
        {"reason": "Diary clash"},
        login="coord@example.org",
    )
    assert statuses[302] == 1, statuses
    assert 500 not in statuses
    assert set(statuses) <= {302, 409, 422}
    assert _changes(appointment_id, ChangeAction.CANCELLED) == 1
    cancellations = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.appointment_id == appointment_id, OutboxMessage.kind == "cancellation"
        )
    )
    assert cancellations == 2  # one to the interviewer, one to the participant


def test_cancel_and_reschedule_at_the_same_moment_neither_deadlock_nor_fail(app, world):
    """Ten moves and ten cancellations of one appointment together: no 500 (no deadlock), one
    cancellation, and every move that won came before it."""
    appointment_id = _booked(world)

    def url(number: int) -> str:
        action = "cancel" if number % 2 else "reschedule"
        return f"/appointments/{appointment_id}/{action}"

    def data(number: int) -> dict:
        if number % 2:
            return {"reason": "Clash"}
        return {"starts_on": "2026-03-31", "starts_time": f"{9 + number // 2}:00", "minutes": 60}

    statuses = race(app, "POST", url, data, login="coord@example.org")
    assert 500 not in statuses, statuses
    assert _changes(appointment_id, ChangeAction.CANCELLED) == 1
    appointment = db.session.get(Appointment, appointment_id)
    assert appointment.status == AppointmentStatus.CANCELLED


def test_twenty_identical_outcomes_are_recorded_once(app, world):
    appointment_id = _booked(world)
    set_clock(lambda: at(2026, 3, 30, 11))
    statuses = race(
        app,
        "POST",
        f"/appointments/{appointment_id}/outcome",
        {"status": "no_show"},
        login="coord@example.org",
    )
    assert statuses == {302: 20}, statuses
    assert _changes(appointment_id, ChangeAction.OUTCOME) == 1
    assert db.session.get(Appointment, appointment_id).status == AppointmentStatus.NO_SHOW


def test_twenty_posts_through_one_booking_link_book_one_interview(app, world):
    """The same slot posted twenty times at once: one booking, one set of invitations; the
    others see it booked (the second does not book again nor 'move' it to the same time)."""
    link, token = create_booking_link(
        world["second"], world["kathryn"], world["coordinator"], mode=AppointmentMode.TELEPHONE
    )
    db.session.commit()
    participant_id = world["second"].id
    db.session.remove()
    statuses = race(app, "POST", f"/book/{token}", {"slot": "2026-03-23T10:00Z"})
    assert 500 not in statuses, statuses
    db.session.expire_all()
    appointments = db.session.scalars(
        sa.select(Appointment).where(Appointment.participant_id == participant_id)
    ).all()
    assert [a.status for a in appointments] == [AppointmentStatus.BOOKED]
    assert appointments[0].sequence == 0  # never moved
    invites = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.appointment_id == appointments[0].id
        )
    )
    assert invites == 2
    assert dt.timedelta(0) <= appointments[0].ends_at - appointments[0].starts_at
