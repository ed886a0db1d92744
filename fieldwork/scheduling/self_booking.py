"""What the participant's booking page shows: free days as a month grid, a day's times,
times in the participant's zone on a 12- or 24-hour clock, and add-to-calendar links.

Pure presentation over the scheduling services; the views in `feeds` call these.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fieldwork.invites.ical import CalendarEvent, single_line

SLOT_FORMAT = "%Y-%m-%dT%H:%MZ"


def slot_value(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(SLOT_FORMAT)


def parse_slot(raw: str | None) -> dt.datetime | None:
    try:
        value = dt.datetime.strptime(raw or "", SLOT_FORMAT)
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC)


def parse_day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


def parse_month(raw: str | None) -> tuple[int, int] | None:
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
    except ValueError:
        return None
    return (year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def clock_time(moment: dt.datetime, clock: str) -> str:
    """'05:00' on the 24-hour clock, '5:00 am' on the 12-hour one."""
    if clock == "12":
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment:%M} {'am' if moment.hour < 12 else 'pm'}"
    return f"{moment:%H:%M}"


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def describe_span(starts_at: dt.datetime, ends_at: dt.datetime, zone_name: str, clock: str) -> str:
    """'Monday 23 March 2026, 5:00 am to 6:00 am EDT' in the zone."""
    start = starts_at.astimezone(ZoneInfo(zone_name))
    end = ends_at.astimezone(ZoneInfo(zone_name))
    return (
        f"{long_date(start.date())}, {clock_time(start, clock)} to "
        f"{clock_time(end, clock)} {end.tzname()}"
    )


def study_time_note(starts_at: dt.datetime, zone_name: str, study_zone: str, clock: str) -> str:
    """'10:00 GMT in Europe/London, the study's time' when the zones differ, else ''."""
    if zone_name == study_zone:
        return ""
    there = starts_at.astimezone(ZoneInfo(study_zone))
    here = starts_at.astimezone(ZoneInfo(zone_name))
    when = f"{clock_time(there, clock)} {there.tzname()}"
    if there.date() != here.date():
        when = f"{there:%A} {there.day} {there:%B}, {when}"
    return f"{when} in {study_zone}, the study's time"


@dataclass
class Day:
    date: dt.date
    slots: list[dt.datetime] = field(default_factory=list)

    @property
    def iso(self) -> str:
        return self.date.isoformat()


@dataclass
class Month:
    year: int
    month: int
    #: Weeks from Monday, each seven days; None outside the month.
    weeks: list[list[Day | None]]
    previous: str | None
    next: str | None

    @property
    def title(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"


def days_with_slots(slots: list[dt.datetime], zone_name: str) -> dict[dt.date, Day]:
    zone = ZoneInfo(zone_name)
    days: dict[dt.date, Day] = {}
    for slot in slots:
        local = slot.astimezone(zone)
        days.setdefault(local.date(), Day(local.date())).slots.append(slot)
    return days


def month_grid(days: dict[dt.date, Day], wanted: tuple[int, int] | None) -> Month | None:
    """The month asked for (or the first with a free day), with links to neighbours that
    have free days."""
    if not days:
        return None
    months = sorted({(day.year, day.month) for day in days})
    year, month = wanted if wanted in months else months[0]
    weeks: list[list[Day | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([(days.get(day) or Day(day)) if day.month == month else None for day in week])
    index = months.index((year, month))
    label = "{:04d}-{:02d}".format
    return Month(
        year,
        month,
        weeks,
        previous=label(*months[index - 1]) if index > 0 else None,
        next=label(*months[index + 1]) if index + 1 < len(months) else None,
    )


def _utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_links(event: CalendarEvent) -> dict[str, str]:
    """Add-to-calendar links for Google Calendar and Outlook.com (the .ics is a download)."""
    where = single_line(event.location or event.url)
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": single_line(event.summary),
            "dates": f"{_utc_stamp(event.start)}/{_utc_stamp(event.end)}",
            "details": event.description,
            "location": where,
            "ctz": event.timezone,
        }
    )
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": single_line(event.summary),
            "startdt": event.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "enddt": event.end.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "body": event.description,
            "location": where,
        }
    )
    return {"google": google, "outlook": outlook}
