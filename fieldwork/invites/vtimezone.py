"""VTIMEZONE components derived from zoneinfo, written as yearly RRULEs.

Why not icalendar's `add_missing_timezones()`: it writes each transition as an RDATE list with
several STANDARD parts, and Mozilla's ical.js (Thunderbird) reads Europe/London from that an
hour early in every GMT period; Outlook is reported to mishandle RDATE zones too. Calendar
clients all read the classic form (`RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU`), so we derive it:
scan zoneinfo for the transitions in the years the events span, express each year's transition
as "the nth (or last) weekday of a month at a wall-clock time" (or a fixed day of the month),
and join consecutive years that share a rule into one observance. Where the rule changes within
the years covered, the earlier observance ends with UNTIL and a new one begins.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

UTC = dt.UTC
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: Zones that never change get one STANDARD part starting here (any date before the events).
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Transition:
    """One change of offset: the UTC instant, the offsets either side, and the new name."""

    at: dt.datetime  # aware, UTC
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    is_daylight: bool

    @property
    def local_onset(self) -> dt.datetime:
        """The wall-clock time of the change, read on the clock before it (RFC 5545 DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def _state(zone: ZoneInfo, instant: dt.datetime) -> tuple[dt.timedelta, dt.timedelta]:
    local = instant.astimezone(zone)
    return local.utcoffset() or dt.timedelta(0), local.dst() or dt.timedelta(0)


def transitions(zone_name: str, first_year: int, last_year: int) -> list[Transition]:
    """Every offset change of a zone between 1 January of `first_year` and the end of
    `last_year` (UTC), found by scanning day by day and bisecting to the second."""
    zone = ZoneInfo(zone_name)
    start = dt.datetime(first_year, 1, 1, tzinfo=UTC) - dt.timedelta(days=1)
    stop = dt.datetime(last_year + 1, 1, 1, tzinfo=UTC) + dt.timedelta(days=1)
    found: list[Transition] = []
    day = dt.timedelta(days=1)
    here = start
    here_state = _state(zone, here)
    while here < stop:
        there = here + day
        there_state = _state(zone, there)
        if there_state != here_state:
            low, high = here, there  # low has the old state, high the new one
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if _state(zone, middle) == here_state:
                    low = middle
                else:
                    high = middle
            after = high.astimezone(zone)
            found.append(
                Transition(
                    at=high,
                    offset_from=here_state[0],
                    offset_to=there_state[0],
                    name=after.tzname() or zone_name,
                    is_daylight=bool(there_state[1]),
                )
            )
        here, here_state = there, there_state
    return [t for t in found if first_year <= t.local_onset.year <= last_year]


def _rule_candidates(onset: dt.datetime) -> set[tuple]:
    """The yearly rules that give this date: nth weekday, last weekday, or day of month."""
    weekday = _WEEKDAYS[onset.weekday()]
    days_in_month = calendar.monthrange(onset.year, onset.month)[1]
    candidates: set[tuple] = {("weekday", weekday, (onset.day - 1) // 7 + 1)}
    if onset.day + 7 > days_in_month:
        candidates.add(("weekday", weekday, -1))
    candidates.add(("monthday", onset.day))
    return candidates


def _preferred(candidates: set[tuple]) -> tuple:
    """Last-weekday rules first (how most zones are defined), then nth weekday, then a date."""

    def rank(rule: tuple) -> tuple:
        if rule[0] == "weekday":
            return (0 if rule[2] == -1 else 1, rule[2])
        return (2, rule[1])

    return sorted(candidates, key=rank)[0]


@dataclass
class _Observance:
    """A run of yearly transitions that one RRULE describes."""

    first: Transition
    last: Transition
    candidates: set[tuple]
    years: list[int] = field(default_factory=list)


def _observances(found: Iterable[Transition]) -> list[_Observance]:
    """Group the transitions into runs of consecutive years sharing one rule.

    Transitions are matched across years by their kind (offsets, name, daylight or not) and
    their order among that kind within the year, so a zone with two similar changes in one
    year (e.g. DST suspended for Ramadan) still groups correctly.
    """
    chains: dict[tuple, list[Transition]] = {}
    seen_in_year: dict[tuple, int] = {}
    for transition in found:
        kind = (
            transition.offset_from,
            transition.offset_to,
            transition.name,
            transition.is_daylight,
        )
        year = transition.local_onset.year
        ordinal = seen_in_year.get((kind, year), 0)
        seen_in_year[(kind, year)] = ordinal + 1
        chains.setdefault((kind, ordinal), []).append(transition)

    runs: list[_Observance] = []
    for chain in chains.values():
        current: _Observance | None = None
        for transition in chain:
            onset = transition.local_onset
            candidates = _rule_candidates(onset)
            if current is not None:
                previous = current.last.local_onset
                joined = current.candidates & candidates
                if (
                    joined
                    and onset.year == previous.year + 1
                    and onset.month == previous.month
                    and onset.time() == previous.time()
                ):
                    current.candidates = joined
                    current.last = transition
                    current.years.append(onset.year)
                    continue
                runs.append(current)
            current = _Observance(transition, transition, candidates, [onset.year])
        if current is not None:
            runs.append(current)
    runs.sort(key=lambda run: run.first.at)
    return runs


def _rrule(run: _Observance, open_ended: bool) -> vRecur:
    rule = _preferred(run.candidates)
    recur: dict = {"FREQ": "YEARLY", "BYMONTH": run.first.local_onset.month}
    if rule[0] == "weekday":
        recur["BYDAY"] = f"{rule[2]}{rule[1]}"
    else:
        recur["BYMONTHDAY"] = rule[1]
    if not open_ended:
        recur["UNTIL"] = run.last.at.astimezone(UTC)
    return vRecur(recur)


def build_vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for `zone_name` that is right for every time from `first_year` to `last_year`.

    The rules found in the last year covered are left open-ended (no UNTIL), so a client also
    reads later years the way the zone currently works.
    """
    # One year either side, so the first observance starts before any event in the range.
    found = transitions(zone_name, first_year - 1, last_year + 1)
    timezone = Timezone()
    timezone.add("TZID", zone_name)
    if not found:
        zone = ZoneInfo(zone_name)
        probe = dt.datetime(first_year, 1, 1, 12, tzinfo=UTC).astimezone(zone)
        offset = probe.utcoffset() or dt.timedelta(0)
        standard = TimezoneStandard()
        standard.add("DTSTART", _EPOCH)
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        standard.add("TZNAME", probe.tzname() or zone_name)
        timezone.add_component(standard)
        return timezone

    final_year = last_year + 1
    for run in _observances(found):
        part = TimezoneDaylight() if run.first.is_daylight else TimezoneStandard()
        part.add("DTSTART", run.first.local_onset)
        part.add("TZOFFSETFROM", run.first.offset_from)
        part.add("TZOFFSETTO", run.first.offset_to)
        part.add("TZNAME", run.first.name)
        if len(run.years) > 1:  # a one-off change (an irregular zone) needs no rule
            part.add("RRULE", _rrule(run, open_ended=run.years[-1] == final_year))
        timezone.add_component(part)
    return timezone
