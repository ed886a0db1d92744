"""A participant's recruitment status follows their interviews: Scheduled when one is booked,
Interviewed when one is held, back to Agreed when the last booking is cancelled or missed.
Connected to scheduling's signals in recruitment's init_app; each runs inside the booking's
transaction and never commits. A refusal (RecruitmentError, e.g. the participant has withdrawn)
is a ValueError, which stops the booking with its message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.recruitment.status import mark_interviewed, mark_scheduled, mark_unscheduled
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_outcome_recorded,
)

if TYPE_CHECKING:  # recruitment sits below scheduling: it knows the appointment by its type only
    from fieldwork.scheduling.models import Appointment


def _participant(appointment: Appointment) -> Participant:
    return db.session.get_one(Participant, appointment.participant_id)


def mark_booked(appointment: Appointment, actor: User | None = None, **_) -> None:
    mark_scheduled(_participant(appointment), actor)


def mark_cancelled(
    appointment: Appointment,
    actor: User | None = None,
    is_participant_still_booked: bool = True,
    **_,
) -> None:
    if not is_participant_still_booked:
        mark_unscheduled(_participant(appointment), actor)


def mark_outcome(
    appointment: Appointment,
    actor: User | None = None,
    is_participant_still_booked: bool = True,
    **_,
) -> None:
    """Held: Interviewed (refused without consent to take part). A no-show or a late
    cancellation with nothing else booked: back to Agreed, and on the "to rebook" list."""
    if appointment.is_held:
        mark_interviewed(_participant(appointment), actor)
    elif not is_participant_still_booked:
        mark_unscheduled(_participant(appointment), actor)


def connect() -> None:
    """Subscribe to scheduling's signals (connecting twice is harmless: blinker keeps one)."""
    appointment_booked.connect(mark_booked)
    appointment_cancelled.connect(mark_cancelled)
    appointment_outcome_recorded.connect(mark_outcome)
