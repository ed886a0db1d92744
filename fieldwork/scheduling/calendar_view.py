"""The calendar of interviews: a week or a month of appointments, laid out by day.

One query loads the range's appointments as the few columns an entry shows (a busy week holds
a thousand entries, so each costs what it shows and no ORM object); the rest is arranging them
by the viewer's local date, so the page's query count does not grow with the data.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import lazyload

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.appointments import AppointmentFilters, appointment_query
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus

VIEWS = ("week", "month")

_ENTRY_COLUMNS = (
    Appointment.id,
    Appointment.starts_at,
    Appointment.ends_at,
    Appointment.status,
    Appointment.mode,
    Participant.reference,
    Participant.name.label("participant_name"),
    User.name.label("interviewer_name"),
)


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """What one entry of the calendar shows: read as plain columns, not as appointments with
    their people, since a busy week holds a thousand entries."""

    id: int
    #: "09:00–10:00" in the viewer's zone.
    times: str
    status: AppointmentStatus
    mode: AppointmentMode
    participant_reference: str
    participant_name: str
    interviewer_name: str


@dataclass
class CalendarDay:
    date: dt.date
    #: False for the days of the neighbouring months that fill a month's first and last week.
    in_range: bool
    is_today: bool
    appointments: list[CalendarEntry] = field(default_factory=list)


@dataclass
class CalendarPage:
    view: str
    title: str
    days: list[CalendarDay]
    previous: dt.date
    next: dt.date

    @property
    def weeks(self) -> list[list[CalendarDay]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def count(self) -> int:
        return sum(len(day.appointments) for day in self.days if day.in_range)


def _month_bounds(anchor: dt.date) -> tuple[dt.date, dt.date]:
    first = anchor.replace(day=1)
    last = anchor.replace(day=calendar.monthrange(anchor.year, anchor.month)[1])
    return first, last


def _span(
    view: str, anchor: dt.date
) -> tuple[dt.date, dt.date, dt.date, dt.date, str, dt.date, dt.date]:
    """(first day shown, first day in range, last day in range, last day shown, title,
    previous anchor, next anchor): a month shows whole weeks around its own days."""
    if view == "month":
        first_in, last_in = _month_bounds(anchor)
        return (
            first_in - dt.timedelta(days=first_in.weekday()),
            first_in,
            last_in,
            last_in + dt.timedelta(days=6 - last_in.weekday()),
            f"{anchor:%B %Y}",
            (first_in - dt.timedelta(days=1)).replace(day=1),
            last_in + dt.timedelta(days=1),
        )
    first = anchor - dt.timedelta(days=anchor.weekday())
    last = first + dt.timedelta(days=6)
    title = f"Week of {first:%A} {first.day} {first:%B %Y}"
    return (
        first,
        first,
        last,
        last,
        title,
        first - dt.timedelta(days=7),
        last + dt.timedelta(days=1),
    )


def calendar_page(
    study: Study,
    viewer: User,
    *,
    view: str,
    anchor: dt.date,
    today: dt.date,
    zone_name: str,
    interviewer_id: int | None = None,
    status: AppointmentStatus | None = None,
) -> CalendarPage:
    """The week (Monday to Sunday) or month around `anchor`, read in `zone_name`; an
    interviewer sees only their own interviews."""
    first, first_in, last_in, last, title, previous, following = _span(view, anchor)
    filters = AppointmentFilters(
        interviewer_id=interviewer_id, status=status, from_date=first, to_date=last
    )
    statement = (
        appointment_query(study, filters, viewer, zone_name)
        .join(Participant, Participant.id == Appointment.participant_id)
        .join(User, User.id == Appointment.interviewer_id)
        .options(lazyload("*"))  # the list's eager loads: an entry shows plain columns
        .with_only_columns(*_ENTRY_COLUMNS)
    )
    rows = db.session.execute(statement)
    days = [
        CalendarDay(
            date=first + dt.timedelta(days=n),
            in_range=first_in <= first + dt.timedelta(days=n) <= last_in,
            is_today=first + dt.timedelta(days=n) == today,
        )
        for n in range((last - first).days + 1)
    ]
    zone = ZoneInfo(zone_name)
    for row in rows:
        starts = row.starts_at.astimezone(zone)
        index = (starts.date() - first).days
        if 0 <= index < len(days):
            entry = CalendarEntry(
                id=row.id,
                times=f"{starts:%H:%M}–{row.ends_at.astimezone(zone):%H:%M}",
                status=row.status,
                mode=row.mode,
                participant_reference=row.reference,
                participant_name=row.participant_name,
                interviewer_name=row.interviewer_name,
            )
            days[index].appointments.append(entry)
    return CalendarPage(view=view, title=title, days=days, previous=previous, next=following)
