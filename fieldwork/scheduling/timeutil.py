"""Wall-clock times in a named zone: reading what people type, and writing what they read."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fieldwork.core.time import now_utc


class NonexistentTime(ValueError):
    """A wall-clock time skipped when the clocks go forward."""


def to_utc(day: dt.date, time: dt.time, zone_name: str) -> dt.datetime:
    """A local date and time in `zone_name` as an aware UTC datetime.

    A time that does not exist (skipped by a clock change) is refused; a time that happens
    twice (the hour repeated in autumn) is read as its first occurrence.
    """
    zone = ZoneInfo(zone_name)
    local = dt.datetime.combine(day, time).replace(tzinfo=zone, fold=0)
    moment = local.astimezone(dt.UTC)
    back = moment.astimezone(zone)
    if (back.date(), back.time()) != (day, time.replace(tzinfo=None)):
        raise NonexistentTime(
            f"{time:%H:%M} on {day:%-d %B %Y} does not exist in {zone_name}: "
            "the clocks go forward then. Choose another time."
        )
    return moment


def local(moment: dt.datetime, zone_name: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone_name))


def zone_abbreviations(zone_name: str, year: int | None = None) -> str:
    """The zone's abbreviations over a year, e.g. 'GMT/BST' for Europe/London."""
    zone = ZoneInfo(zone_name)
    year = year or now_utc().year
    names: list[str] = []
    for month in (1, 7):
        name = dt.datetime(year, month, 15, 12, tzinfo=zone).tzname() or ""
        if name and name not in names:
            names.append(name)
    return "/".join(names)


def zone_label(zone_name: str) -> str:
    """How a page names a zone: 'Europe/London (GMT/BST)'."""
    abbreviations = zone_abbreviations(zone_name)
    if not abbreviations or abbreviations == zone_name:
        return zone_name
    return f"{zone_name} ({abbreviations})"


def format_span(starts_at: dt.datetime, ends_at: dt.datetime, zone_name: str) -> str:
    """'from 10:00 to 11:00 BST on Monday 30 March 2026' in `zone_name`."""
    start = local(starts_at, zone_name)
    end = local(ends_at, zone_name)
    start_zone = start.tzname() or zone_name
    end_zone = end.tzname() or zone_name
    if start_zone == end_zone:
        times = f"from {start:%H:%M} to {end:%H:%M} {end_zone}"
    else:
        times = f"from {start:%H:%M} {start_zone} to {end:%H:%M} {end_zone}"
    return f"{times} on {start:%A %-d %B %Y}"


def format_moment(moment: dt.datetime, zone_name: str) -> str:
    """'Monday 30 March 2026, 10:00 BST'."""
    value = local(moment, zone_name)
    return f"{value:%A %-d %B %Y, %H:%M} {value.tzname() or zone_name}"
