"""The one clock and the time-zone helpers every domain uses."""

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
    local = value.astimezone(ZoneInfo(zone_name))
    if not with_time:
        return local.strftime("%-d %b %Y")
    return local.strftime("%-d %b %Y, %H:%M ") + (local.tzname() or zone_name)
