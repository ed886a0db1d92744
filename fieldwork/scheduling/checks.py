"""The checks a booking or a move passes: limits, timing, clashes, warnings, and the locks
that make the clash check hold under concurrent requests (docs/concurrency.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import format_span, now_utc
from fieldwork.core.transactions import hold_rows
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant
from fieldwork.scheduling import availability
from fieldwork.scheduling.errors import PAST_MESSAGE, PastTimeError, SchedulingError
from fieldwork.scheduling.models import (
    OCCUPYING_STATUSES,
    Appointment,
    AppointmentMode,
)

#: Longest interview the forms and API accept, and longest travel each way.
MAX_MINUTES = 8 * 60
MAX_TRAVEL_MINUTES = 4 * 60


def check_timing(starts_at: dt.datetime, *, already_took_place: bool) -> None:
    """A new booking starts in the future; a recorded past interview started in the past."""
    if already_took_place and starts_at > now_utc():
        raise SchedulingError(
            "An interview that already took place needs a start time in the past."
        )
    if not already_took_place and starts_at <= now_utc():
        raise PastTimeError(PAST_MESSAGE)


@dataclass(frozen=True)
class BookingRequest:
    """What a booking or a move asks for; times aware."""

    starts_at: dt.datetime
    minutes: int
    mode: AppointmentMode
    location: str = ""
    video_link: str = ""
    notes: str = ""
    travel_minutes_before: int = 0
    travel_minutes_after: int = 0
    #: The zone the participant reads times in, when known (empty: their stored one).
    participant_timezone: str = ""

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    @property
    def travel_before(self) -> int:
        return self.travel_minutes_before if self.mode == AppointmentMode.IN_PERSON else 0

    @property
    def travel_after(self) -> int:
        return self.travel_minutes_after if self.mode == AppointmentMode.IN_PERSON else 0

    @property
    def busy_from(self) -> dt.datetime:
        return self.starts_at - dt.timedelta(minutes=self.travel_before)

    @property
    def busy_until(self) -> dt.datetime:
        return self.ends_at + dt.timedelta(minutes=self.travel_after)


# --- Locks and clashes -----------------------------------------------------------------------


def lock_booking(interviewer_id: int, participant_id: int) -> None:
    """Serialise bookings for this interviewer and participant until the transaction ends.

    Always interviewer first, then participant, so two bookings never wait on each other in a
    cycle.
    """
    hold_rows((User, interviewer_id), (Participant, participant_id))


def find_clash(
    interviewer: User,
    participant: Participant,
    request: BookingRequest,
    zone_name: str,
    exclude_appointment_id: int | None = None,
) -> str | None:
    """The message naming the first clash, or None when the time is free."""
    statement = (
        select(Appointment)
        .options(joinedload(Appointment.participant), joinedload(Appointment.interviewer))
        .where(
            Appointment.status.in_(OCCUPYING_STATUSES),
            or_(
                and_(
                    Appointment.interviewer_id == interviewer.id,
                    Appointment.busy_from < request.busy_until,
                    Appointment.busy_until > request.busy_from,
                ),
                and_(
                    Appointment.participant_id == participant.id,
                    Appointment.starts_at < request.ends_at,
                    Appointment.ends_at > request.starts_at,
                ),
            ),
        )
        .order_by(Appointment.starts_at)
    )
    if exclude_appointment_id is not None:
        statement = statement.where(Appointment.id != exclude_appointment_id)
    for other in db.session.scalars(statement).unique():
        span = format_span(other.starts_at, other.ends_at, zone_name)
        if other.interviewer_id == interviewer.id and (
            other.busy_from < request.busy_until and other.busy_until > request.busy_from
        ):
            message = f"{interviewer.name} already has {other.participant.reference} {span}"
            if (other.busy_from, other.busy_until) != (other.starts_at, other.ends_at) or (
                request.busy_from,
                request.busy_until,
            ) != (request.starts_at, request.ends_at):
                message += " (counting travel time)"
            return message + "."
        return (
            f"{participant.reference} already has an interview with "
            f"{other.interviewer.name} {span}."
        )
    return None


def booking_warnings(interviewer: User, request: BookingRequest, zone_name: str) -> list[str]:
    """Reasons to think twice: outside the interviewer's windows, or on a busy block."""
    warnings = []
    windows = availability.windows_of(interviewer.id)
    if not availability.is_within_windows(windows, request.starts_at, request.ends_at):
        warnings.append(
            f"This is outside {interviewer.name}'s available times "
            f"({format_span(request.starts_at, request.ends_at, zone_name)})."
        )
    blocks = availability.busy_blocks_between(interviewer.id, request.busy_from, request.busy_until)
    if blocks:
        first = blocks[0]
        warnings.append(
            f"{interviewer.name}'s own calendar shows them busy "
            f"{format_span(first.starts_at, first.ends_at, zone_name)}."
        )
    return warnings


def check_request(request: BookingRequest) -> None:
    if request.starts_at.tzinfo is None:
        raise SchedulingError("The start time needs a time zone.")
    if not 5 <= request.minutes <= MAX_MINUTES:
        raise SchedulingError(f"The length must be between 5 and {MAX_MINUTES} minutes.")
    for value in (request.travel_minutes_before, request.travel_minutes_after):
        if not 0 <= value <= MAX_TRAVEL_MINUTES:
            raise SchedulingError(
                f"Travel time must be between 0 and {MAX_TRAVEL_MINUTES} minutes."
            )
