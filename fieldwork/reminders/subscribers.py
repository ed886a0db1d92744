"""Reminders follow the bookings: planned when an interview is booked, planned again when it
moves, cancelled with it. Connected to scheduling's signals in reminders' init_app; each runs in
the booking's transaction (DESIGN.md: reminders are written in the same transaction as the
booking, move or cancellation) and never commits."""

from __future__ import annotations

from fieldwork.reminders import services
from fieldwork.scheduling.models import Appointment
from fieldwork.scheduling.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_moved,
)


def plan_for_booking(appointment: Appointment, already_took_place: bool = False, **_) -> None:
    """A new booking gets its reminders; an interview recorded after it took place none."""
    if not already_took_place:
        services.plan_reminders(appointment)


def replan_for_move(appointment: Appointment, **_) -> None:
    services.move_reminders(appointment)


def cancel_for_cancellation(appointment: Appointment, **_) -> None:
    services.cancel_reminders(appointment)


def connect() -> None:
    """Subscribe to scheduling's signals (connecting twice is harmless: blinker keeps one)."""
    appointment_booked.connect(plan_for_booking)
    appointment_moved.connect(replan_for_move)
    appointment_cancelled.connect(cancel_for_cancellation)
