"""Time zones as a participant chooses them: a short list of common zones first, a search
over the real IANA zones (no legacy aliases such as "US/Eastern" or "Etc/GMT+5"), and names
a person recognises ("New York time")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fieldwork.core.time import (
    COMMON_TIMEZONES,
    is_offered_timezone,
    is_valid_timezone,
    real_timezones,
)

#: Most zones a search answers with, so the list stays short on a phone.
MAX_RESULTS = 20


def is_offered_zone(name: str) -> bool:
    """A zone a participant may choose: a real place (or UTC) this machine knows."""
    return bool(name) and is_offered_timezone(name) and is_valid_timezone(name)


def place_name(zone_name: str) -> str:
    """'America/Argentina/Buenos_Aires' → 'Buenos Aires'."""
    if zone_name == "UTC":
        return "UTC"
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


def zone_name_for_people(zone_name: str, at: dt.datetime) -> str:
    """'New York time (America/New_York, EDT)' at a moment (the abbreviation changes)."""
    abbreviation = at.astimezone(ZoneInfo(zone_name)).tzname() or ""
    if zone_name == "UTC":
        return "UTC (Coordinated Universal Time)"
    suffix = f", {abbreviation}" if abbreviation and abbreviation[0] not in "+-" else ""
    return f"{place_name(zone_name)} time ({zone_name}{suffix})"


def search_zones(query: str) -> list[str]:
    """Zones whose name or place contains every word of the query (common ones first);
    the common zones when the query is empty."""
    words = [w for w in query.lower().replace("/", " ").replace("_", " ").split() if w][:5]
    if not words:
        return [name for name in COMMON_TIMEZONES if is_valid_timezone(name)]

    def matches(name: str) -> bool:
        text = name.lower().replace("_", " ").replace("/", " ")
        return all(word in text for word in words)

    common = [name for name in COMMON_TIMEZONES if matches(name) and is_valid_timezone(name)]
    others = [name for name in real_timezones() if matches(name) and name not in common]
    return (common + others)[:MAX_RESULTS]
