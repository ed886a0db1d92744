"""The calendar of interviews: a day, a week or a month of appointments, laid out by day.

A week or a month shows each day's first SHOWN_PER_DAY interviews and says how many more there
are, with a link to the day, which shows them all: what a person reads at a glance, and a page
whose cost does not grow with a busy team's week (a thousand interviews in the benchmark's,
each rendered, took most of its time). One query reads the shown entries as the few columns
an entry shows, with each day's total: SQL numbers the range's appointments within their
local day (the day's bounds as UTC instants, so SQLite and PostgreSQL agree).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import lazyload

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.appointments import AppointmentFilters, appointment_query
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus

VIEWS = ("day", "week", "month")

#: Interviews a week or a month shows on one day; "N more" links to the day for the rest.
SHOWN_PER_DAY = 8

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
    #: The day's interviews, shown or not.
    total: int = 0

    @property
    def hidden(self) -> int:
        """Interviews of the day not shown here (the day's own page shows them)."""
        return self.total - len(self.appointments)


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
        return sum(day.total for day in self.days if day.in_range)


def _month_bounds(anchor: dt.date) -> tuple[dt.date, dt.date]:
    first = anchor.replace(day=1)
    last = anchor.replace(day=calendar.monthrange(anchor.year, anchor.month)[1])
    return first, last


def _span(
    view: str, anchor: dt.date
) -> tuple[dt.date, dt.date, dt.date, dt.date, str, dt.date, dt.date]:
    """(first day shown, first day in range, last day in range, last day shown, title,
    previous anchor, next anchor): a month shows whole weeks around its own days."""
    if view == "day":
        title = f"{anchor:%A} {anchor.day} {anchor:%B %Y}"
        day = dt.timedelta(days=1)
        return anchor, anchor, anchor, anchor, title, anchor - day, anchor + day
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
    """The day, the week (Monday to Sunday) or the month around `anchor`, read in
    `zone_name`; an interviewer sees only their own interviews."""
    first, first_in, last_in, last, title, previous, following = _span(view, anchor)
    days = [
        CalendarDay(
            date=first + dt.timedelta(days=n),
            in_range=first_in <= first + dt.timedelta(days=n) <= last_in,
            is_today=first + dt.timedelta(days=n) == today,
        )
        for n in range((last - first).days + 1)
    ]
    zone = ZoneInfo(zone_name)
    for row in _entry_rows(
        study,
        viewer,
        AppointmentFilters(interviewer_id=interviewer_id, status=status),
        _day_starts(first, len(days), zone),
        None if view == "day" else SHOWN_PER_DAY,
    ):
        day = days[row.day_number]
        day.total = row.day_total
        starts = row.starts_at.astimezone(zone)
        day.appointments.append(
            CalendarEntry(
                id=row.id,
                times=f"{starts:%H:%M}–{row.ends_at.astimezone(zone):%H:%M}",
                status=row.status,
                mode=row.mode,
                participant_reference=row.reference,
                participant_name=row.participant_name,
                interviewer_name=row.interviewer_name,
            )
        )
    return CalendarPage(view=view, title=title, days=days, previous=previous, next=following)


def _day_starts(first: dt.date, count: int, zone: ZoneInfo) -> list[dt.datetime]:
    """The UTC instants at which each of `count` local days from `first` begins, and the one
    after the last: the first instant whose local date is that day (where clocks skip
    midnight, the instant they jump)."""
    return [
        dt.datetime.combine(first + dt.timedelta(days=n), dt.time(), tzinfo=zone).astimezone(dt.UTC)
        for n in range(count + 1)
    ]


def _entry_rows(
    study: Study,
    viewer: User,
    filters: AppointmentFilters,
    starts: list[dt.datetime],
    shown_per_day: int | None,
):
    """The range's entries in time order, at most `shown_per_day` of each day, each with its
    day's number (from 0) and its day's total: one query."""
    day_number = (
        case(
            *((Appointment.starts_at < start, n) for n, start in enumerate(starts[1:-1])),
            else_=len(starts) - 2,
        )
        if len(starts) > 2
        else literal(0)
    )
    in_order = (Appointment.starts_at, Appointment.id)
    # Numbered on the appointments alone; the people are joined to the shown ones only.
    ranked = (
        appointment_query(study, filters, viewer, "UTC")
        .where(Appointment.starts_at >= starts[0], Appointment.starts_at < starts[-1])
        .options(lazyload("*"))  # the list's eager loads: an entry shows plain columns
        .with_only_columns(
            Appointment.id.label("appointment_id"),
            day_number.label("day_number"),
            func.row_number().over(partition_by=day_number, order_by=in_order).label("rank"),
            func.count().over(partition_by=day_number).label("day_total"),
        )
        .order_by(None)
        .subquery()
    )
    statement = (
        select(*_ENTRY_COLUMNS, ranked.c.day_number, ranked.c.day_total)
        .select_from(ranked)
        .join(Appointment, Appointment.id == ranked.c.appointment_id)
        .join(Participant, Participant.id == Appointment.participant_id)
        .join(User, User.id == Appointment.interviewer_id)
        .order_by(*in_order)
    )
    if shown_per_day is not None:
        statement = statement.where(ranked.c.rank <= shown_per_day)
    return db.session.execute(statement)
