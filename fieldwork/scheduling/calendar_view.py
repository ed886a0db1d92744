"""The calendar of interviews: a week or a month of appointments, laid out by day.

One query loads the range's appointments with their people; the rest is arranging them by
the viewer's local date, so the page's query count does not grow with the data.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from fieldwork.accounts.models import User
from fieldwork.core.time import local
from fieldwork.extensions import db
from fieldwork.sampling.models import Study
from fieldwork.scheduling.appointments import AppointmentFilters, appointment_query
from fieldwork.scheduling.models import Appointment, AppointmentStatus

VIEWS = ("week", "month")


@dataclass
class CalendarDay:
    date: dt.date
    #: False for the days of the neighbouring months that fill a month's first and last week.
    in_range: bool
    is_today: bool
    appointments: list[Appointment] = field(default_factory=list)


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
    if view == "month":
        first_in, last_in = _month_bounds(anchor)
        first = first_in - dt.timedelta(days=first_in.weekday())
        last = last_in + dt.timedelta(days=6 - last_in.weekday())
        title = f"{anchor:%B %Y}"
        previous = (first_in - dt.timedelta(days=1)).replace(day=1)
        following = last_in + dt.timedelta(days=1)
    else:
        first = first_in = anchor - dt.timedelta(days=anchor.weekday())
        last = last_in = first + dt.timedelta(days=6)
        title = f"Week of {first:%A} {first.day} {first:%B %Y}"
        previous = first - dt.timedelta(days=7)
        following = first + dt.timedelta(days=7)
    filters = AppointmentFilters(
        interviewer_id=interviewer_id, status=status, from_date=first, to_date=last
    )
    rows = db.session.scalars(appointment_query(study, filters, viewer, zone_name)).unique()
    days = [
        CalendarDay(
            date=first + dt.timedelta(days=n),
            in_range=first_in <= first + dt.timedelta(days=n) <= last_in,
            is_today=first + dt.timedelta(days=n) == today,
        )
        for n in range((last - first).days + 1)
    ]
    for appointment in rows:
        index = (local(appointment.starts_at, zone_name).date() - first).days
        if 0 <= index < len(days):
            days[index].appointments.append(appointment)
    return CalendarPage(view=view, title=title, days=days, previous=previous, next=following)
