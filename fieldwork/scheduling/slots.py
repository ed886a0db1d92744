"""The times a study offers: interviewers' free slots under the study's booking rules.

One service (`bookable_slots`) serves the participant's booking page and the coordinator's
booking form alike, so both offer exactly the same times. The rules: minimum notice, how far
ahead, a buffer between interviews, a daily maximum per interviewer, and closed dates (the
public holidays of the study's country or region from the `holidays` package, plus dates the
coordinator adds). Dates are days in the study's zone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select

from fieldwork.core.time import now_utc
from fieldwork.core.transactions import delete_row_of_study
from fieldwork.extensions import db
from fieldwork.sampling.models import Study
from fieldwork.scheduling import availability
from fieldwork.scheduling.models import (
    OCCUPYING_STATUSES,
    Appointment,
    BookingRules,
    ClosedDate,
)

#: The regions a coordinator can choose public holidays from: (country, subdivision) → label.
HOLIDAY_REGIONS: dict[tuple[str, str], str] = {
    ("", ""): "No public holidays",
    ("GB", "ENG"): "England and Wales",
    ("GB", "SCT"): "Scotland",
    ("GB", "NIR"): "Northern Ireland",
    ("IE", ""): "Ireland",
    ("FR", ""): "France",
    ("DE", ""): "Germany",
    ("NL", ""): "Netherlands",
    ("US", ""): "United States (federal)",
    ("CA", ""): "Canada (federal)",
    ("AU", ""): "Australia (national)",
    ("NZ", ""): "New Zealand",
}

#: Limits the settings form and the service accept.
MAX_NOTICE_HOURS = 24 * 30
MAX_DAYS_AHEAD = 365
MAX_BUFFER_MINUTES = 4 * 60
MAX_DAILY_LIMIT = 20


class RulesError(ValueError):
    """Settings that cannot be saved; the message is for the coordinator."""


@dataclass(frozen=True)
class Rules:
    """A study's booking rules as plain values (defaults when the study has no row)."""

    min_notice_hours: int = 24
    max_days_ahead: int = 28
    buffer_minutes: int = 0
    daily_limit: int = 0
    holiday_country: str = ""
    holiday_subdivision: str = ""

    @property
    def region_label(self) -> str:
        return HOLIDAY_REGIONS.get((self.holiday_country, self.holiday_subdivision), "")


def rules_row(study: Study) -> BookingRules | None:
    return db.session.scalar(select(BookingRules).where(BookingRules.study_id == study.id))


def rules_of(study: Study) -> Rules:
    row = rules_row(study)
    if row is None:
        return Rules()
    return Rules(
        min_notice_hours=row.min_notice_hours,
        max_days_ahead=row.max_days_ahead,
        buffer_minutes=row.buffer_minutes,
        daily_limit=row.daily_limit,
        holiday_country=row.holiday_country,
        holiday_subdivision=row.holiday_subdivision,
    )


def save_rules(study: Study, rules: Rules) -> BookingRules:
    """Check and store a study's rules (commits)."""
    if not 0 <= rules.min_notice_hours <= MAX_NOTICE_HOURS:
        raise RulesError(f"Minimum notice must be between 0 and {MAX_NOTICE_HOURS} hours.")
    if not 1 <= rules.max_days_ahead <= MAX_DAYS_AHEAD:
        raise RulesError(f"How far ahead must be between 1 and {MAX_DAYS_AHEAD} days.")
    if not 0 <= rules.buffer_minutes <= MAX_BUFFER_MINUTES:
        raise RulesError(f"The buffer must be between 0 and {MAX_BUFFER_MINUTES} minutes.")
    if not 0 <= rules.daily_limit <= MAX_DAILY_LIMIT:
        raise RulesError(f"The daily maximum must be between 0 and {MAX_DAILY_LIMIT}.")
    if (rules.holiday_country, rules.holiday_subdivision) not in HOLIDAY_REGIONS:
        raise RulesError("Choose a region from the list.")
    row = rules_row(study) or BookingRules(study_id=study.id)
    row.min_notice_hours = rules.min_notice_hours
    row.max_days_ahead = rules.max_days_ahead
    row.buffer_minutes = rules.buffer_minutes
    row.daily_limit = rules.daily_limit
    row.holiday_country = rules.holiday_country
    row.holiday_subdivision = rules.holiday_subdivision
    db.session.add(row)
    db.session.commit()
    return row


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str, year: int) -> dict[dt.date, str]:
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return {day: str(name) for day, name in calendar.items()}


def public_holidays(rules: Rules, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """The region's public holidays between two dates (inclusive), with their names."""
    if not rules.holiday_country:
        return {}
    found: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        for day, name in _public_holidays(
            rules.holiday_country, rules.holiday_subdivision, year
        ).items():
            if first <= day <= last:
                found[day] = name
    return found


def coordinator_closed_dates(study: Study) -> list[ClosedDate]:
    return list(
        db.session.scalars(
            select(ClosedDate).where(ClosedDate.study_id == study.id).order_by(ClosedDate.closed_on)
        )
    )


def add_closed_date(study: Study, day: dt.date, reason: str = "") -> ClosedDate:
    """Close a date for bookings (commits); a date already closed is refused."""
    if not 2000 <= day.year <= 2100:
        raise RulesError("Give a date between 2000 and 2100.")
    exists = db.session.scalar(
        select(ClosedDate.id).where(ClosedDate.study_id == study.id, ClosedDate.closed_on == day)
    )
    if exists:
        raise RulesError(f"{day:%-d %B %Y} is already closed.")
    closed = ClosedDate(study_id=study.id, closed_on=day, reason=reason.strip()[:200])
    db.session.add(closed)
    db.session.commit()
    return closed


def remove_closed_date(study: Study, closed_id: int) -> bool:
    """Reopen a date the coordinator closed; False if the study has no such closed date."""
    return delete_row_of_study(ClosedDate, study.id, closed_id)


def closed_dates(study: Study, rules: Rules, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """Every closed date between two dates: public holidays and the coordinator's own."""
    closed = public_holidays(rules, first, last)
    for row in db.session.scalars(
        select(ClosedDate).where(
            ClosedDate.study_id == study.id,
            ClosedDate.closed_on >= first,
            ClosedDate.closed_on <= last,
        )
    ):
        closed[row.closed_on] = row.reason or "Closed"
    return closed


def _interviews_per_day(
    interviewer_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    zone: ZoneInfo,
    exclude_appointment_id: int | None,
) -> Counter[dt.date]:
    statement = select(Appointment.starts_at).where(
        Appointment.interviewer_id == interviewer_id,
        Appointment.status.in_(OCCUPYING_STATUSES),
        Appointment.starts_at >= starts_at - dt.timedelta(days=1),
        Appointment.starts_at < ends_at + dt.timedelta(days=1),
    )
    if exclude_appointment_id is not None:
        statement = statement.where(Appointment.id != exclude_appointment_id)
    return Counter(moment.astimezone(zone).date() for moment in db.session.scalars(statement))


def booking_range(study: Study, rules: Rules, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[earliest start, latest end) that the rules allow at `at` (never a time gone)."""
    zone = ZoneInfo(study.timezone)
    earliest = at + dt.timedelta(hours=rules.min_notice_hours)
    last_day = at.astimezone(zone).date() + dt.timedelta(days=rules.max_days_ahead + 1)
    latest = dt.datetime.combine(last_day, dt.time()).replace(tzinfo=zone).astimezone(dt.UTC)
    return earliest, latest


# Long mostly in its signature: the booking rules it applies (notice, horizon,
# buffer, travel) are keyword arguments, each used once.
def bookable_slots(
    study: Study,
    interviewer_id: int,
    participant_id: int | None,
    *,
    minutes: int | None = None,
    travel_minutes: int = 0,
    exclude_appointment_id: int | None = None,
    at: dt.datetime | None = None,
    min_notice_hours: int | None = None,
    max_days_ahead: int | None = None,
) -> list[dt.datetime]:
    """Start times (UTC) a booking may take now: the interviewer's free slots of the study's
    interview length (or `minutes`) that respect every booking rule of the study.

    `exclude_appointment_id` is the appointment being moved: its own time counts as free.
    The coordinator's booking form passes its own notice and horizon (a coordinator may book
    for this afternoon); buffer, daily maximum and closed dates apply to both alike.
    """
    rules = rules_of(study)
    if min_notice_hours is not None or max_days_ahead is not None:
        rules = replace(
            rules,
            min_notice_hours=rules.min_notice_hours
            if min_notice_hours is None
            else min_notice_hours,
            max_days_ahead=rules.max_days_ahead if max_days_ahead is None else max_days_ahead,
        )
    at = at or now_utc()
    zone = ZoneInfo(study.timezone)
    starts_at, ends_at = booking_range(study, rules, at)
    if ends_at <= starts_at:
        return []
    slots = availability.free_slots(
        interviewer_id,
        participant_id,
        minutes or study.interview_minutes,
        travel_minutes,
        starts_at,
        ends_at,
        exclude_appointment_id,
        buffer_minutes=rules.buffer_minutes,
    )
    if not slots:
        return []
    closed = closed_dates(
        study, rules, starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    )
    per_day = (
        _interviews_per_day(interviewer_id, starts_at, ends_at, zone, exclude_appointment_id)
        if rules.daily_limit
        else Counter()
    )
    offered = []
    for slot in slots:
        if slot <= at:
            continue  # never a time already gone, even with no notice
        day = slot.astimezone(zone).date()
        if day in closed:
            continue
        if rules.daily_limit and per_day[day] >= rules.daily_limit:
            continue
        offered.append(slot)
    return offered
