"""Bounded reading of busy calendars: a hostile calendar costs at most a few seconds and a
bounded amount of memory, in a web request as in the scheduler.

A 209-byte calendar with `RRULE:FREQ=SECONDLY` once held a web worker for 30 s at 668 MiB and
the scheduler for 201 s and 7.3 GiB. Here a calendar is

* refused above MAX_BYTES (busy.py reads at most that much);
* checked before expanding: its repeating rules may take at most MAX_RULE_STEPS steps up to the
  horizon (a per-second rule takes millions), else it is refused with a plain reason;
* expanded in a child process of its own (`python busy_limits.py`, importing only icalendar
  and recurring-ical-events) under an address-space limit of EXPANSION_MEMORY_BYTES and a CPU
  limit, killed after BUSY_CALENDAR_SECONDS of wall time; the expansion stops at MAX_OCCURRENCES.

A Python thread cannot be stopped in the middle of dateutil's loops; a process can.
This file runs as a script in the child, so it imports nothing of Fieldwork.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

#: Largest calendar accepted, fetched or uploaded.
MAX_BYTES = 5 * 1024 * 1024
#: Most occurrences one calendar may expand to in the horizon.
MAX_OCCURRENCES = 20_000
#: Most steps all of a calendar's repeating rules may take up to the horizon's end.
MAX_RULE_STEPS = 200_000
#: Address space the expanding process may use.
EXPANSION_MEMORY_BYTES = 1024 * 1024 * 1024

_TOO_COSTLY, _TOO_MANY = 3, 5


class CalendarLimitError(ValueError):
    """The calendar is refused; the message says why, for the interviewer."""


# --- in the child ------------------------------------------------------------------------

_FREQUENCY_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}


def _aware(value, zone: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time()).replace(tzinfo=zone)


def rule_steps(calendar, ends_at: dt.datetime) -> float:
    """An estimate of the steps the calendar's repeating rules take up to `ends_at`."""
    total = 0.0
    for event in calendar.walk("VEVENT"):
        rules = event.get("RRULE")
        start_prop = event.get("DTSTART")
        if rules is None or start_prop is None:
            continue
        starts = _aware(start_prop.dt, dt.UTC)
        for rule in rules if isinstance(rules, list) else [rules]:
            frequency = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
            interval = max(int((rule.get("INTERVAL") or [1])[0] or 1), 1)
            end = ends_at
            until = (rule.get("UNTIL") or [None])[0]
            if until is not None:
                end = min(end, _aware(until, dt.UTC))
            seconds = _FREQUENCY_SECONDS.get(frequency, 86400) * interval
            total += max((end - starts).total_seconds(), 0) / seconds + 1
    return total


# Long by design: runs alone in the child process (this file imports nothing of
# Fieldwork), parsing, expanding and merging in one bounded pass.
def expand(
    data: bytes, starts_at: dt.datetime, ends_at: dt.datetime, default_zone: str
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Busy intervals (UTC) between the two moments, merged (the pure part, run in the child):
    events not transparent or cancelled, repeating ones expanded; floating times and all-day
    events in `default_zone`."""
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as error:  # icalendar raises ValueError and friends on bad input
        raise CalendarLimitError("The file is not a calendar Fieldwork can read.") from error
    if rule_steps(calendar, ends_at) > MAX_RULE_STEPS:
        raise CalendarLimitError(
            "This calendar has an event that repeats too often (for example every second or "
            "minute) to be read."
        )
    try:
        occurrences = recurring_ical_events.of(calendar).between(starts_at, ends_at)
    except Exception as error:
        raise CalendarLimitError("The file is not a calendar Fieldwork can read.") from error
    if len(occurrences) > MAX_OCCURRENCES:
        raise CalendarLimitError(
            f"This calendar has more than {MAX_OCCURRENCES:,} events in the time read; "
            "Fieldwork cannot read one that large."
        )
    zone = ZoneInfo(default_zone)
    intervals: list[tuple[dt.datetime, dt.datetime]] = []
    for event in occurrences:
        if event.name != "VEVENT":
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start_prop = event.get("DTSTART")
        if start_prop is None:
            continue
        start = _aware(start_prop.dt, zone)
        end_prop = event.get("DTEND")
        if end_prop is not None:
            end = _aware(end_prop.dt, zone)
        elif event.get("DURATION") is not None:
            end = start + event["DURATION"].dt
        else:
            end = start + (
                dt.timedelta(days=1)
                if not isinstance(start_prop.dt, dt.datetime)
                else dt.timedelta(0)
            )
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        if end > start:
            intervals.append((max(start, starts_at), min(end, ends_at)))
    intervals.sort()
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _child(arguments: list[str]) -> int:
    import resource

    memory, cpu_seconds = int(arguments[3]), int(arguments[4])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    try:
        merged = expand(
            data,
            dt.datetime.fromisoformat(arguments[0]),
            dt.datetime.fromisoformat(arguments[1]),
            arguments[2],
        )
    except CalendarLimitError as error:
        sys.stderr.write(str(error))
        return _TOO_COSTLY
    except MemoryError:
        sys.stderr.write("Reading this calendar needed more memory than allowed.")
        return _TOO_MANY
    json.dump([[start.isoformat(), end.isoformat()] for start, end in merged], sys.stdout)
    return 0


# --- in the app --------------------------------------------------------------------------


def expand_isolated(
    data: bytes | str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    default_zone: str = "UTC",
    *,
    seconds: float,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """`expand` in a child process with memory, CPU and wall-time limits; raises
    CalendarLimitError with a reason for the interviewer."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise CalendarLimitError("The calendar is larger than 5 MB.")
    command = [
        sys.executable,
        "-I",  # no user site, no environment paths: only the installed packages
        os.path.abspath(__file__),
        starts_at.isoformat(),
        ends_at.isoformat(),
        default_zone,
        str(EXPANSION_MEMORY_BYTES),
        str(int(seconds) + 1),
    ]
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter and file, no shell
            command, input=raw, capture_output=True, timeout=seconds, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise CalendarLimitError(
            f"Reading this calendar took longer than {seconds:g} seconds; it was stopped."
        ) from error
    if result.returncode == 0:
        return [
            (dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
            for start, end in json.loads(result.stdout)
        ]
    message = result.stderr.decode("utf-8", errors="replace").strip()
    if result.returncode in (_TOO_COSTLY, _TOO_MANY) and message:
        raise CalendarLimitError(message.splitlines()[-1])
    raise CalendarLimitError(
        "Reading this calendar needed more time or memory than allowed; it was stopped."
    )


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
