"""VTIMEZONEs are derived from zoneinfo as yearly RRULEs and read right all year by ical.js."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fieldwork.invites.ical import CalendarEvent, build_calendar
from fieldwork.invites.vtimezone import build_vtimezone, transitions
from tests.calendar_parsers import read_with_icalendar, read_with_icaljs, read_with_vobject

CHECKED_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: daylight time spans the new year
    "Asia/Kolkata",  # no daylight saving, a half-hour offset
    "Europe/Paris",
)


def _parts(zone_name: str, first_year: int, last_year: int) -> list:
    return list(build_vtimezone(zone_name, first_year, last_year).subcomponents)


def test_london_is_two_yearly_rules_on_the_last_sunday():
    """Europe/London is the classic form clients know: BST from 01:00 GMT on the last Sunday
    of March, GMT from 02:00 BST on the last Sunday of October, both open-ended."""
    daylight, standard = _parts("Europe/London", 2026, 2026)
    assert daylight.name == "DAYLIGHT"
    assert daylight.decoded("DTSTART").strftime("%m%dT%H%M") == "0330T0100"
    assert daylight["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert daylight.decoded("TZOFFSETFROM") == dt.timedelta(0)
    assert daylight.decoded("TZOFFSETTO") == dt.timedelta(hours=1)
    assert str(daylight["TZNAME"]) == "BST"
    assert standard.name == "STANDARD"
    assert standard.decoded("DTSTART").strftime("%H%M") == "0200"
    assert standard["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    assert str(standard["TZNAME"]) == "GMT"
    assert "RDATE" not in daylight and "RDATE" not in standard


def test_zone_without_daylight_saving_is_one_standard_part_without_rule():
    (standard,) = _parts("Asia/Kolkata", 2026, 2027)
    assert standard.name == "STANDARD"
    assert "RRULE" not in standard
    assert standard.decoded("TZOFFSETTO") == dt.timedelta(hours=5, minutes=30)


def test_rule_change_within_the_years_covered_ends_the_old_rule_with_until():
    """The USA moved its changes in 2007 (April → March, October → November): a VTIMEZONE
    spanning 2005–2009 has the old rules ending with UNTIL and the new ones open-ended."""
    parts = _parts("America/New_York", 2005, 2009)
    rules = [(p.name, p["RRULE"].to_ical().decode()) for p in parts]
    assert ("DAYLIGHT", "FREQ=YEARLY;UNTIL=20060402T070000Z;BYDAY=1SU;BYMONTH=4") in rules
    assert ("DAYLIGHT", "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3") in rules
    assert ("STANDARD", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11") in rules
    assert len(parts) == 4


def test_transitions_are_found_to_the_second_from_zoneinfo():
    found = transitions("Europe/London", 2026, 2026)
    assert [t.at for t in found] == [
        dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC),
    ]


def _every_day(zone_name: str, years: tuple[int, int]) -> list[CalendarEvent]:
    zone = ZoneInfo(zone_name)
    events = []
    day = dt.date(years[0], 1, 1)
    while day.year <= years[1]:
        for hour, minute in ((10, 0), (1, 30)):
            start = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            events.append(
                CalendarEvent(
                    uid=f"{day.isoformat()}-{hour}{minute}@test",
                    sequence=0,
                    start=start,
                    end=start + dt.timedelta(hours=1),
                    timezone=zone_name,
                    summary="Interview",
                    description="",
                    organiser_name="Research team",
                    organiser_email="team@example.org",
                    attendees=(),
                )
            )
        day += dt.timedelta(days=1)
    return events


def test_icaljs_reads_every_day_of_two_years_as_zoneinfo_does():
    """For each zone, an event at 10:00 and at 01:30 local on every day of 2026 and 2027:
    ical.js, knowing nothing but the file, puts each at the same instant as zoneinfo, and
    10:00 reads as 10:00 local. (01:30 on the day the clocks go forward does not exist; it is
    written as the real instant, 02:30; the repeated 01:30 when they go back is written in UTC.)
    """
    calendars = {name: _every_day(name, (2026, 2027)) for name in CHECKED_ZONES}
    readings = read_with_icaljs(*(build_calendar(events, None) for events in calendars.values()))
    for (zone_name, events), reading in zip(calendars.items(), readings, strict=True):
        assert reading["timezones"] == [zone_name]
        assert len(reading["events"]) == len(events) == 2 * 730
        wrong = []
        for event, seen in zip(events, reading["events"], strict=True):
            if seen["start"]["epoch"] != int(event.start.timestamp()):
                wrong.append((event.start.isoformat(), seen["start"]))
            if event.start.hour == 10 and seen["start"]["local"][11:16] != "10:00":
                wrong.append((event.start.isoformat(), seen["start"]))
        assert wrong == [], f"{zone_name}: {len(wrong)} misread, e.g. {wrong[:3]}"


@pytest.mark.parametrize("zone_name", CHECKED_ZONES)
def test_icalendar_and_vobject_read_the_zone_as_zoneinfo_does(zone_name):
    events = [e for e in _every_day(zone_name, (2026, 2026)) if e.start.hour == 10]
    data = build_calendar(events, None)
    by_icalendar = read_with_icalendar(data).walk("VEVENT")
    by_vobject = read_with_vobject(data).vevent_list
    for event, parsed, other in zip(events, by_icalendar, by_vobject, strict=True):
        assert parsed.decoded("DTSTART") == event.start
        assert other.dtstart.value == event.start
        assert other.dtstart.value.utcoffset() == event.start.utcoffset()
