"""Working days: weekdays that are not bank holidays (England and Wales unless configured).

Due dates of the pipeline count working days after the interview, as a transcription service or
an archive does: a step due 10 working days after a Thursday interview before Easter skips the
weekends, Good Friday and Easter Monday.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

from fieldwork.config import setting


def _region() -> tuple[str, str | None]:
    return setting("BANK_HOLIDAYS_COUNTRY"), setting("BANK_HOLIDAYS_SUBDIVISION") or None


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def is_working_day(day: dt.date, region: tuple[str, str | None] | None = None) -> bool:
    """A weekday that is not a bank holiday of the region (the app's, by default)."""
    country, subdivision = region or _region()
    return day.weekday() < 5 and day not in _holidays(country, subdivision, day.year)


def add_working_days(
    start: dt.date, days: int, region: tuple[str, str | None] | None = None
) -> dt.date:
    """The date `days` working days after `start` (start itself is day 0, whatever it is)."""
    if days < 0:
        raise ValueError("count working days forwards")
    region = region or _region()
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day, region):
            remaining -= 1
    return day


def working_days_between(
    start: dt.date, end: dt.date, region: tuple[str, str | None] | None = None
) -> int:
    """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
    region = region or _region()
    if end < start:
        return -working_days_between(end, start, region)
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, region):
            count += 1
    return count
