"""Interviewers' weekly windows: kept (added, listed, removed), laid out by week, and read as
free time (windows minus bookings, busy blocks and travel).

The windows are wall-clock times in their own zone, so
"Tuesdays 09:00 to 17:00 Europe/London" is 09:00 local in winter and in summer alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.scheduling.errors import SchedulingError
from fieldwork.scheduling.models import (
    OCCUPYING_STATUSES,
    Appointment,
    AvailabilityWindow,
    BusyBlock,
    BusyCalendar,
)

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class WindowOccurrence:
    """One concrete occurrence of a weekly window."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    window_id: int


def windows_of(interviewer_id: int) -> list[AvailabilityWindow]:
    return list(
        db.session.scalars(
            select(AvailabilityWindow)
            .where(AvailabilityWindow.interviewer_id == interviewer_id)
            .order_by(AvailabilityWindow.weekday, AvailabilityWindow.starts_time)
        )
    )


def _aware(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time).replace(tzinfo=zone).astimezone(dt.UTC)


def expand_windows(
    windows: list[AvailabilityWindow], starts_at: dt.datetime, ends_at: dt.datetime
) -> list[WindowOccurrence]:
    """Every occurrence of the weekly windows that overlaps [starts_at, ends_at), in order."""
    occurrences: list[WindowOccurrence] = []
    for window in windows:
        zone = ZoneInfo(window.timezone)
        day = starts_at.astimezone(zone).date() - dt.timedelta(days=1)
        last = ends_at.astimezone(zone).date()
        while day <= last:
            if (
                day.weekday() == window.weekday
                and (window.valid_from is None or day >= window.valid_from)
                and (window.valid_until is None or day <= window.valid_until)
            ):
                start = _aware(day, window.starts_time, zone)
                end = _aware(day, window.ends_time, zone)
                if start < ends_at and end > starts_at and end > start:
                    occurrences.append(WindowOccurrence(start, end, window.id))
            day += dt.timedelta(days=1)
    occurrences.sort(key=lambda o: o.starts_at)
    return occurrences


def is_within_windows(
    windows: list[AvailabilityWindow], starts_at: dt.datetime, ends_at: dt.datetime
) -> bool:
    """True when one window occurrence covers the whole span."""
    return any(
        o.starts_at <= starts_at and o.ends_at >= ends_at
        for o in expand_windows(windows, starts_at, ends_at)
    )


def busy_blocks_between(
    interviewer_id: int, starts_at: dt.datetime, ends_at: dt.datetime
) -> list[BusyBlock]:
    """Blocks from the interviewer's published calendars that overlap the span."""
    return list(
        db.session.scalars(
            select(BusyBlock)
            .join(BusyCalendar, BusyBlock.busy_calendar_id == BusyCalendar.id)
            .where(
                BusyCalendar.interviewer_id == interviewer_id,
                BusyBlock.starts_at < ends_at,
                BusyBlock.ends_at > starts_at,
            )
            .order_by(BusyBlock.starts_at)
        )
    )


def occupied_intervals(
    interviewer_id: int,
    participant_id: int | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_appointment_id: int | None = None,
) -> tuple[list[Interval], list[Interval]]:
    """(intervals the interviewer is taken, intervals the participant is taken) in the span.

    The interviewer's include travel time and published busy blocks; the participant's are
    their own interviews only.
    """
    conditions = [Appointment.interviewer_id == interviewer_id]
    if participant_id is not None:
        conditions.append(Appointment.participant_id == participant_id)
    statement = select(
        Appointment.interviewer_id,
        Appointment.participant_id,
        Appointment.starts_at,
        Appointment.ends_at,
        Appointment.busy_from,
        Appointment.busy_until,
    ).where(
        or_(*conditions),
        Appointment.status.in_(OCCUPYING_STATUSES),
        Appointment.busy_from < ends_at,
        Appointment.busy_until > starts_at,
    )
    if exclude_appointment_id is not None:
        statement = statement.where(Appointment.id != exclude_appointment_id)
    interviewer_busy: list[Interval] = []
    participant_busy: list[Interval] = []
    for row in db.session.execute(statement):
        if row.interviewer_id == interviewer_id:
            interviewer_busy.append((row.busy_from, row.busy_until))
        if participant_id is not None and row.participant_id == participant_id:
            participant_busy.append((row.starts_at, row.ends_at))
    interviewer_busy.extend(
        (block.starts_at, block.ends_at)
        for block in busy_blocks_between(interviewer_id, starts_at, ends_at)
    )
    return interviewer_busy, participant_busy


def clear_spans(spans: list[Interval], intervals: list[Interval]) -> list[bool]:
    """For each span, whether it touches none of the intervals (half-open, so end-to-end is
    clear).

    The spans must come in order of start with their ends rising too (every slot is one
    length), which is what lets one pass answer them all: the intervals are sorted once and a
    pointer admits those that start before the current span ends, keeping the latest end seen;
    a span is taken exactly when that latest end lies after its start. The work is linear in
    spans plus intervals after the sort, where testing each slot against every interval was
    slots × intervals (millions of comparisons for a busy month).
    """
    ordered = sorted(intervals)
    clear: list[bool] = []
    admitted = 0
    latest_end: dt.datetime | None = None
    for start, end in spans:
        while admitted < len(ordered) and ordered[admitted][0] < end:
            interval_end = ordered[admitted][1]
            if latest_end is None or interval_end > latest_end:
                latest_end = interval_end
            admitted += 1
        clear.append(latest_end is None or not latest_end > start)
    return clear


def free_slots(
    interviewer_id: int,
    participant_id: int | None,
    minutes: int,
    travel_minutes: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_appointment_id: int | None = None,
    *,
    buffer_minutes: int = 0,
) -> list[dt.datetime]:
    """Start times of free slots of `minutes` inside the interviewer's windows.

    Slots are laid end to end from each window's start, `buffer_minutes` apart. A slot is
    free when neither it plus travel and buffer either side touches the interviewer's bookings
    (with their travel) or busy blocks, nor it touches the participant's other interviews.
    The candidates are checked by one sorted sweep (`clear_spans`) over each list of intervals.
    """
    length = dt.timedelta(minutes=minutes)
    buffer = dt.timedelta(minutes=buffer_minutes)
    travel = dt.timedelta(minutes=travel_minutes) + buffer
    occurrences = expand_windows(windows_of(interviewer_id), starts_at, ends_at)
    if not occurrences:
        return []
    interviewer_busy, participant_busy = occupied_intervals(
        interviewer_id,
        participant_id,
        occurrences[0].starts_at - travel,
        occurrences[-1].ends_at + travel,
        exclude_appointment_id,
    )
    candidates: set[dt.datetime] = set()
    for occurrence in occurrences:
        start = occurrence.starts_at
        while start + length <= occurrence.ends_at:
            end = start + length
            if start >= starts_at and end <= ends_at:
                candidates.add(start)
            start = end + buffer
    ordered = sorted(candidates)
    interviewer_clear = clear_spans(
        [(start - travel, start + length + travel) for start in ordered], interviewer_busy
    )
    participant_clear = clear_spans(
        [(start, start + length) for start in ordered], participant_busy
    )
    return [
        start
        for start, free_of_interviewer, free_of_participant in zip(
            ordered, interviewer_clear, participant_clear, strict=True
        )
        if free_of_interviewer and free_of_participant
    ]


#: How far ahead the coordinator's booking form offers an interviewer's free slots
#: (through `slots.bookable_slots`, the one slot service).
BOOKING_FORM_DAYS = 14


# --- Availability windows --------------------------------------------------------------------


def add_window(
    interviewer: User,
    weekday: int,
    starts_time: dt.time,
    ends_time: dt.time,
    zone_name: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> AvailabilityWindow:
    if not 0 <= weekday <= 6:
        raise SchedulingError("Choose a day of the week.")
    if ends_time <= starts_time:
        raise SchedulingError("The end must be after the start.")
    if valid_from and valid_until and valid_until < valid_from:
        raise SchedulingError("The last date must not be before the first.")
    window = AvailabilityWindow(
        interviewer_id=interviewer.id,
        weekday=weekday,
        starts_time=starts_time,
        ends_time=ends_time,
        timezone=zone_name,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    with transaction():
        db.session.add(window)
    return window


def windows_for_viewer(viewer: User, interviewer_id: int | None = None) -> list[AvailabilityWindow]:
    statement = select(AvailabilityWindow).options(joinedload(AvailabilityWindow.interviewer))
    if not viewer.is_coordinator:
        statement = statement.where(AvailabilityWindow.interviewer_id == viewer.id)
    elif interviewer_id:
        statement = statement.where(AvailabilityWindow.interviewer_id == interviewer_id)
    statement = statement.join(User, AvailabilityWindow.interviewer_id == User.id).order_by(
        User.name, AvailabilityWindow.weekday, AvailabilityWindow.starts_time
    )
    return list(db.session.scalars(statement).unique())


def delete_window(window_id: int, viewer: User) -> bool:
    window = db.session.get(AvailabilityWindow, window_id)
    if window is None or (not viewer.is_coordinator and window.interviewer_id != viewer.id):
        return False
    with transaction():
        db.session.delete(window)
    return True


@dataclass
class WeekDay:
    date: dt.date
    windows: list[tuple[dt.datetime, dt.datetime]]
    appointments: list[Appointment]
    busy: list[tuple[dt.datetime, dt.datetime]]


def week_view(interviewer: User, monday: dt.date, zone_name: str) -> list[WeekDay]:
    """Seven days from `monday` in `zone_name`: windows, bookings and busy blocks of each."""
    from fieldwork.core.time import local, to_utc

    starts_at = to_utc(monday, dt.time(), zone_name)
    ends_at = to_utc(monday + dt.timedelta(days=7), dt.time(), zone_name)
    occurrences = expand_windows(windows_of(interviewer.id), starts_at, ends_at)
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.participant))
            .where(
                Appointment.interviewer_id == interviewer.id,
                Appointment.starts_at < ends_at,
                Appointment.ends_at > starts_at,
            )
            .order_by(Appointment.starts_at)
        ).unique()
    )
    blocks = busy_blocks_between(interviewer.id, starts_at, ends_at)
    days = [WeekDay(monday + dt.timedelta(days=n), [], [], []) for n in range(7)]

    def day_of(moment: dt.datetime) -> WeekDay | None:
        index = (local(moment, zone_name).date() - monday).days
        return days[index] if 0 <= index < 7 else None

    for occurrence in occurrences:
        if day := day_of(occurrence.starts_at):
            day.windows.append((occurrence.starts_at, occurrence.ends_at))
    for appointment in appointments:
        if day := day_of(appointment.starts_at):
            day.appointments.append(appointment)
    for block in blocks:
        if day := day_of(max(block.starts_at, starts_at)):
            day.busy.append((block.starts_at, block.ends_at))
    return days
