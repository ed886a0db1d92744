"""The one clock and the time-zone helpers every domain uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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


def timezone_choices() -> list[tuple[str, str]]:
    """All IANA zones, sorted, for a select field."""
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


def format_in_zone(value: dt.datetime | None, zone_name: str, with_time: bool = True) -> str:
    """A datetime as a person reads it in `zone_name`, the zone named (e.g. 'BST')."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone_name))
    if not with_time:
        return local.strftime("%-d %b %Y")
    return local.strftime("%-d %b %Y, %H:%M ") + (local.tzname() or zone_name)
