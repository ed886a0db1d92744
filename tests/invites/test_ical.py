"""Calendar objects for interviews, parsed back by icalendar, vobject and ical.js."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fieldwork.core.time import set_clock
from fieldwork.invites.ical import (
    Attendee,
    CalendarEvent,
    build_calendar,
    event_from_bytes,
    events_from_bytes,
)
from tests.calendar_parsers import (
    read_with_icalendar,
    read_with_icaljs,
    read_with_vobject,
    rfc6868_decode,
)

LONDON = ZoneInfo("Europe/London")
AWKWARD = 'O\'Brien, Siân; "Dr" \\ test\nsecond line'


def make_event(**changes) -> CalendarEvent:
    start = dt.datetime(2026, 3, 30, 10, 0, tzinfo=LONDON)
    fields = dict(
        uid="appointment-42@fieldwork.example.org",
        sequence=0,
        start=start,
        end=start + dt.timedelta(hours=1),
        timezone="Europe/London",
        summary="Interview: Provider-Led Pathways study (telephone)",
        description="Telephone interview for the Provider-Led Pathways study.",
        organiser_name="Research team",
        organiser_email="team@example.org",
        attendees=(
            Attendee("Ann Interviewer", "ann@example.org", role="CHAIR"),
            Attendee("Bob Participant", "bob@example.org"),
        ),
        location="Room 3, Caxton House",
        url="https://fieldwork.example.org/appointments/42",
    )
    fields.update(changes)
    return CalendarEvent(**fields)


def test_invite_is_a_request_with_organiser_attendees_uid_and_sequence():
    data = build_calendar([make_event(sequence=3)], "REQUEST")
    calendar = read_with_icalendar(data)
    assert str(calendar["METHOD"]) == "REQUEST"
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == "appointment-42@fieldwork.example.org"
    assert vevent["SEQUENCE"] == 3
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in vevent
    assert str(vevent["ORGANIZER"]) == "mailto:team@example.org"
    assert vevent["ORGANIZER"].params["CN"] == "Research team"
    attendees = {str(a): a.params for a in vevent["ATTENDEE"]}
    assert attendees["mailto:ann@example.org"]["ROLE"] == "CHAIR"
    assert attendees["mailto:bob@example.org"]["ROLE"] == "REQ-PARTICIPANT"
    for params in attendees.values():
        assert params["PARTSTAT"] == "NEEDS-ACTION"
        assert params["RSVP"] == "TRUE"


def test_dtstart_carries_tzid_with_a_matching_vtimezone():
    data = build_calendar([make_event()], "REQUEST")
    calendar = read_with_icalendar(data)
    (vevent,) = calendar.walk("VEVENT")
    assert vevent["DTSTART"].params["TZID"] == "Europe/London"
    assert vevent["DTEND"].params["TZID"] == "Europe/London"
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/London"]


@pytest.fixture
def fixed_clock():
    set_clock(lambda: dt.datetime(2026, 3, 1, 9, 15, tzinfo=dt.UTC))
    yield
    set_clock(None)


def test_dtstamp_comes_from_the_injectable_clock(fixed_clock):
    (vevent,) = read_with_icalendar(build_calendar([make_event()], "REQUEST")).walk("VEVENT")
    assert vevent.decoded("DTSTAMP") == dt.datetime(2026, 3, 1, 9, 15, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "day, offset",
    [(dt.date(2026, 3, 30), dt.timedelta(hours=1)), (dt.date(2026, 10, 26), dt.timedelta(0))],
    ids=["after-clocks-go-forward", "after-clocks-go-back"],
)
def test_ten_oclock_london_the_monday_after_a_change_is_ten_oclock_everywhere(day, offset):
    start = dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=LONDON)
    data = build_calendar([make_event(start=start, end=start + dt.timedelta(hours=1))], "REQUEST")
    assert f"DTSTART;TZID=Europe/London:{day:%Y%m%d}T100000".encode() in data
    (vevent,) = read_with_icalendar(data).walk("VEVENT")
    assert vevent.decoded("DTSTART") == start
    assert read_with_vobject(data).vevent.dtstart.value.utcoffset() == offset
    (reading,) = read_with_icaljs(data)
    assert reading["events"][0]["start"]["local"] == f"{day.isoformat()}T10:00:00"
    expected_utc = (start - offset).replace(tzinfo=None).isoformat() + "Z"
    assert reading["events"][0]["start"]["utc"] == expected_utc


def test_awkward_text_round_trips_through_every_parser():
    """Commas, semicolons, quotes, a backslash and accents survive in SUMMARY, DESCRIPTION and
    LOCATION; DESCRIPTION keeps its newlines, while SUMMARY, LOCATION and CN are one line
    (the newline becomes a space) and a CN's double quotes travel as RFC 6868 escapes."""
    event = make_event(
        summary=AWKWARD,
        description=AWKWARD + "\n\nThird; line, here",
        location=AWKWARD,
        organiser_name=AWKWARD,
        attendees=(Attendee(AWKWARD, "siân@example.org"),),
    )
    data = build_calendar([event], "REQUEST")
    one_line = AWKWARD.replace("\n", " ")

    parsed = event_from_bytes(data)
    assert parsed.summary == one_line
    assert parsed.description == event.description
    assert parsed.location == one_line
    assert parsed.organiser_name == one_line
    assert parsed.attendees[0].name == one_line
    assert parsed.attendees[0].email == "siân@example.org"

    other = read_with_vobject(data).vevent
    assert other.summary.value == one_line
    assert other.description.value == event.description
    assert other.location.value == one_line
    assert rfc6868_decode(other.organizer.params["CN"][0]) == one_line

    (reading,) = read_with_icaljs(data)
    seen = reading["events"][0]
    assert seen["summary"] == one_line
    assert seen["description"] == event.description
    assert seen["location"] == one_line
    assert seen["organizer"]["cn"] == one_line
    assert seen["attendees"][0]["cn"] == one_line


def test_cancellation_is_method_cancel_with_status_cancelled_and_same_uid():
    invite = build_calendar([make_event(sequence=0)], "REQUEST")
    cancel = build_calendar([make_event(sequence=1, status="CANCELLED")], "CANCEL")
    (before,) = read_with_icalendar(invite).walk("VEVENT")
    calendar = read_with_icalendar(cancel)
    assert str(calendar["METHOD"]) == "CANCEL"
    (after,) = calendar.walk("VEVENT")
    assert str(after["STATUS"]) == "CANCELLED"
    assert str(after["UID"]) == str(before["UID"])
    assert after["SEQUENCE"] > before["SEQUENCE"]
    (reading,) = read_with_icaljs(cancel)
    assert reading["method"] == "CANCEL"
    assert reading["events"][0]["status"] == "CANCELLED"


def test_cancel_method_marks_the_event_cancelled_even_if_the_caller_forgot():
    (vevent,) = read_with_icalendar(build_calendar([make_event()], "CANCEL")).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"


def test_a_request_for_a_cancelled_event_is_refused():
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        build_calendar([make_event(status="CANCELLED")], "REQUEST")


def test_feed_has_no_method_and_keeps_cancelled_events():
    events = [
        make_event(),
        make_event(uid="appointment-43@fieldwork.example.org", sequence=2, status="CANCELLED"),
    ]
    data = build_calendar(events, None, calendar_name="Ann's interviews")
    calendar = read_with_icalendar(data)
    assert "METHOD" not in calendar
    assert str(calendar["X-WR-CALNAME"]) == "Ann's interviews"
    assert [str(e["STATUS"]) for e in calendar.walk("VEVENT")] == ["CONFIRMED", "CANCELLED"]
    assert len(calendar.walk("VTIMEZONE")) == 1
    (reading,) = read_with_icaljs(data)
    assert reading["method"] is None
    assert [e["sequence"] for e in reading["events"]] == [0, 2]


def test_one_vtimezone_per_zone_covering_every_event():
    sydney = ZoneInfo("Australia/Sydney")
    later = dt.datetime(2028, 7, 1, 9, tzinfo=sydney)
    events = [
        make_event(),
        make_event(
            uid="b@x", start=later, end=later + dt.timedelta(hours=1), timezone="Australia/Sydney"
        ),
        make_event(
            uid="c@x", start=later, end=later + dt.timedelta(hours=2), timezone="Australia/Sydney"
        ),
    ]
    data = build_calendar(events, "PUBLISH")
    zones = [str(z["TZID"]) for z in read_with_icalendar(data).walk("VTIMEZONE")]
    assert zones == ["Australia/Sydney", "Europe/London"]
    (reading,) = read_with_icaljs(data)
    assert [e["start"]["epoch"] for e in reading["events"]] == [
        int(e.start.timestamp()) for e in events
    ]


def test_utc_events_are_written_in_utc_without_a_vtimezone():
    start = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    data = build_calendar(
        [make_event(start=start, end=start + dt.timedelta(hours=1), timezone="UTC")], "REQUEST"
    )
    assert b"DTSTART:20260601T090000Z" in data
    assert read_with_icalendar(data).walk("VTIMEZONE") == []


def test_topic_guide_link_is_an_attach_property():
    event = make_event(attachments=(("Topic guide: advisers", "https://example.org/guide.pdf"),))
    parsed = event_from_bytes(build_calendar([event], "REQUEST"))
    assert parsed.attachments == (("Topic guide: advisers", "https://example.org/guide.pdf"),)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"start": dt.datetime(2026, 3, 30, 10)}, "aware"),
        ({"end": dt.datetime(2026, 3, 30, 9, tzinfo=LONDON)}, "after the start"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"status": "MAYBE"}, "STATUS"),
        ({"attendees": (Attendee("A", "a@example.org", role="BOSS"),)}, "ROLE"),
        ({"attachments": (("x", "javascript:alert(1)"),)}, "web link"),
    ],
)
def test_bad_events_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        build_calendar([make_event(**changes)], "REQUEST")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="METHOD"):
        build_calendar([make_event()], "REPLY")


def test_events_from_bytes_reads_back_what_was_written():
    event = make_event(stamp=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    (parsed,) = events_from_bytes(build_calendar([event], "REQUEST"))
    assert dataclasses.replace(parsed, start=event.start, end=event.end) == event
    assert parsed.start == event.start and parsed.end == event.end


def test_a_cancelled_event_says_so_in_its_summary_as_well_as_its_status():
    for method in ("CANCEL", None):
        data = build_calendar([make_event(sequence=1, status="CANCELLED")], method)
        (vevent,) = read_with_icalendar(data).walk("VEVENT")
        assert str(vevent["STATUS"]) == "CANCELLED"
        assert str(vevent["SUMMARY"]).startswith("Cancelled: Interview:")
    live = build_calendar([make_event()], None)
    assert not str(read_with_icalendar(live).walk("VEVENT")[0]["SUMMARY"]).startswith("Cancel")


def test_a_publish_download_carries_no_attendee_list():
    """RFC 5546 3.2.1: PUBLISH has no ATTENDEE; REQUEST keeps them."""
    published = read_with_icalendar(build_calendar([make_event()], "PUBLISH"))
    (vevent,) = published.walk("VEVENT")
    assert "ATTENDEE" not in vevent and "ORGANIZER" in vevent
    (request,) = read_with_icalendar(build_calendar([make_event()], "REQUEST")).walk("VEVENT")
    assert len(request.get("ATTENDEE")) == 2
