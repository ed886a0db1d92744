"""The demo study's scheduling data: a realistic spread of appointments."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.sampling.demo import load_demo
from fieldwork.scheduling.demo import load_scheduling_demo
from fieldwork.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    ChangeAction,
)
from tests.scheduling.conftest import at


def test_the_demo_has_held_booked_cancelled_and_a_move_across_a_clock_change(app, clock):
    study = load_demo()
    made = load_scheduling_demo(study)
    assert made["appointments"] >= 10
    counts = dict(
        db.session.execute(
            select(Appointment.status, func.count()).group_by(Appointment.status)
        ).all()
    )
    assert counts[AppointmentStatus.HELD] == 3
    assert counts[AppointmentStatus.BOOKED] >= 4
    assert counts[AppointmentStatus.CANCELLED] == 1
    assert counts[AppointmentStatus.NO_SHOW] == 1
    move = db.session.scalars(
        select(AppointmentChange).where(AppointmentChange.action == ChangeAction.MOVED)
    ).one()
    zone = ZoneInfo(study.timezone)
    old, new = move.old_starts_at.astimezone(zone), move.new_starts_at.astimezone(zone)
    assert old.hour == new.hour == 10
    assert old.utcoffset() != new.utcoffset()  # across the clock change of 29 March 2026
    assert move.old_starts_at < at(2026, 3, 29, 1) < move.new_starts_at
