"""The one clock and the time-zone helpers every domain uses: reading the wall-clock times
people type in a named zone, and writing the times they read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC

_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC)  # noqa: E731


def now_utc() -> dt.datetime:
    """The current time, aware and in UTC. Tests replace the clock with `set_clock`."""
    return _clock()


def set_clock(clock: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (None restores the real one). Only tests call this."""
    global _clock
    _clock = clock or (lambda: dt.datetime.now(UTC))


class UTCDateTime(TypeDecorator):
    """An aware datetime in Python, stored as naive UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def is_valid_timezone(name: str) -> bool:
    """True when `name` is an IANA zone this machine knows."""
    if not name or len(name) > 64:  # zone names are short; a long one fails in the file system
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


#: The zones people of a UK study are most often in, then large cities elsewhere: offered
#: first in every time-zone field.
COMMON_TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Athens",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
)
#: The areas of real places in the IANA database (no "Factory", "localtime", "posix/…",
#: "Etc/GMT+5" or legacy aliases such as "US/Eastern" and "GB").
_PLACE_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


@cache
def real_timezones() -> tuple[str, ...]:
    """The IANA zones of real places (area/city) this machine knows, plus UTC, sorted."""
    places = sorted(name for name in available_timezones() if name.startswith(_PLACE_AREAS))
    return (*places, "UTC")


def is_offered_timezone(name: str) -> bool:
    """A zone a person may choose in a form: a real place (or UTC)."""
    return name in real_timezones()


def timezone_choices() -> dict[str, list[tuple[str, str]]]:
    """Choices for every time-zone select: the common zones first, then every other real zone
    (each once), as option groups."""
    offered = set(real_timezones())
    common = [name for name in COMMON_TIMEZONES if name in offered]
    rest = [name for name in real_timezones() if name not in set(common)]
    label = lambda name: name.replace("_", " ")  # noqa: E731
    return {
        "Common time zones": [(name, label(name)) for name in common],
        "All time zones": [(name, label(name)) for name in rest],
    }


def format_in_zone(value: dt.datetime | None, zone_name: str, with_time: bool = True) -> str:
    """A datetime as a person reads it in `zone_name`, the zone named (e.g. 'BST')."""
    if value is None:
        return ""
    seen = value.astimezone(ZoneInfo(zone_name))
    if not with_time:
        return seen.strftime("%-d %b %Y")
    return seen.strftime("%-d %b %Y, %H:%M ") + (seen.tzname() or zone_name)


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
