"""iCalendar objects for interviews: pure functions, appointment data in, bytes out.

Follows iTIP (RFC 5546): an invitation is METHOD:REQUEST, a change keeps the UID and raises
SEQUENCE (the caller's job), a cancellation is METHOD:CANCEL with STATUS:CANCELLED and
"Cancelled: " in SUMMARY; a feed has no METHOD; a PUBLISH download has no ATTENDEE. SUMMARY,
LOCATION and CN are one line whatever the user typed. Times carry the event's TZID with a
VTIMEZONE built by `vtimezone` (RRULE form), or are written in UTC for the UTC zone. All text
goes through icalendar's property types, so commas, semicolons, backslashes and newlines are
escaped as RFC 5545 requires.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText, vUri

from fieldwork.core.time import is_valid_timezone, now_utc
from fieldwork.invites.vtimezone import build_vtimezone

PRODID = "-//Fieldwork//Fieldwork interview scheduling//EN"
METHODS = ("REQUEST", "CANCEL", "PUBLISH")
ROLES = ("REQ-PARTICIPANT", "CHAIR", "OPT-PARTICIPANT", "NON-PARTICIPANT")
PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")
STATUSES = ("CONFIRMED", "TENTATIVE", "CANCELLED")
UTC_ZONES = ("UTC", "Etc/UTC")
#: What a cancelled event's SUMMARY starts with.
CANCELLED_PREFIX = "Cancelled: "
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Attendee:
    """Someone invited to an interview: the interviewer (usually CHAIR) or the participant."""

    name: str
    email: str
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"


@dataclass(frozen=True)
class CalendarEvent:
    """Everything a calendar needs to know about one interview, independent of the database."""

    uid: str
    sequence: int
    start: dt.datetime
    end: dt.datetime
    timezone: str
    summary: str
    description: str
    organiser_name: str
    organiser_email: str
    attendees: tuple[Attendee, ...]
    location: str = ""
    url: str = ""
    status: str = "CONFIRMED"
    stamp: dt.datetime | None = None
    attachments: tuple[tuple[str, str], ...] = ()


def single_line(text: str) -> str:
    """A name as one line: control characters (CR, LF, tab ...) become a single space."""
    return _CONTROL.sub(" ", text).strip()


def _check(event: CalendarEvent) -> None:
    if event.start.tzinfo is None or event.end.tzinfo is None:
        raise ValueError(f"{event.uid}: start and end must be aware datetimes")
    if event.end <= event.start:
        raise ValueError(f"{event.uid}: the end must come after the start")
    if not is_valid_timezone(event.timezone):
        raise ValueError(f"{event.uid}: unknown time zone {event.timezone!r}")
    if event.status not in STATUSES:
        raise ValueError(f"{event.uid}: unknown STATUS {event.status!r}")
    if event.sequence < 0:
        raise ValueError(f"{event.uid}: SEQUENCE cannot be negative")
    for attendee in event.attendees:
        if attendee.role not in ROLES or attendee.partstat not in PARTSTATS:
            raise ValueError(f"{event.uid}: bad ROLE or PARTSTAT for {attendee.email}")


def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        # A parameter value cannot hold a line break; a person's name never needs one.
        address.params["CN"] = single_line(name)
    for key, value in params.items():
        address.params[key] = value
    return address


def _local(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """The moment as wall-clock time in its zone, or in UTC where wall-clock time is ambiguous.

    Going through UTC first turns a wall-clock time that does not exist (in the hour the clocks
    skip) into the real instant. An hour that repeats when the clocks go back is ambiguous,
    and clients resolve it differently (ical.js takes the later one; RFC 5545 the earlier),
    so such a time is written in UTC, which every client reads the same way.
    """
    instant = moment.astimezone(dt.UTC)
    if zone_name in UTC_ZONES:
        return instant
    local = instant.astimezone(ZoneInfo(zone_name))
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return instant
    return local


def _vevent(event: CalendarEvent, method: str | None, stamp: dt.datetime) -> Event:
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", (event.stamp or stamp).astimezone(dt.UTC))
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("DTSTART", _local(event.start, event.timezone))
    vevent.add("DTEND", _local(event.end, event.timezone))
    # SUMMARY and LOCATION are one line whatever was typed (calcurse, for one, drops a whole
    # feed over a folded line break in SUMMARY); DESCRIPTION keeps its lines, escaped.
    summary = single_line(event.summary)
    if (method == "CANCEL" or event.status == "CANCELLED") and not summary.startswith(
        CANCELLED_PREFIX
    ):
        # Said in the title too, for clients that ignore STATUS and would show it as live.
        summary = CANCELLED_PREFIX + summary
    vevent.add("SUMMARY", vText(summary))
    if event.description:
        vevent.add("DESCRIPTION", vText(event.description))
    if event.location:
        vevent.add("LOCATION", vText(single_line(event.location)))
    if event.url:
        vevent.add("URL", vUri(event.url))
    vevent.add("STATUS", "CANCELLED" if method == "CANCEL" else event.status)
    vevent.add("TRANSP", "TRANSPARENT" if event.status == "CANCELLED" else "OPAQUE")
    vevent.add("ORGANIZER", _address(event.organiser_email, event.organiser_name))
    # PUBLISH carries no attendee list (RFC 5546 3.2.1): a download is a copy, not a meeting.
    for attendee in event.attendees if method != "PUBLISH" else ():
        vevent.add(
            "ATTENDEE",
            _address(
                attendee.email,
                attendee.name,
                CUTYPE="INDIVIDUAL",
                ROLE=attendee.role,
                PARTSTAT=attendee.partstat,
                RSVP="TRUE",
            ),
        )
    for title, link in event.attachments:
        if not link.startswith(("https://", "http://")):
            raise ValueError(f"{event.uid}: an attachment must be a web link, not {link!r}")
        attachment = vUri(link)
        attachment.params["FILENAME"] = single_line(title)
        vevent.add("ATTACH", attachment)
    return vevent


def build_calendar(
    events: Sequence[CalendarEvent], method: str | None, calendar_name: str = ""
) -> bytes:
    """A VCALENDAR holding `events`, with one VTIMEZONE per zone they use.

    `method` is "REQUEST" (invite or update), "CANCEL", "PUBLISH", or None for a
    subscription feed. Under CANCEL every event is written STATUS:CANCELLED; a REQUEST
    for a cancelled event is refused, since a client would re-create the meeting.
    """
    if method is not None and method not in METHODS:
        raise ValueError(f"unknown METHOD {method!r}")
    for event in events:
        _check(event)
        if method == "REQUEST" and event.status == "CANCELLED":
            raise ValueError(f"{event.uid}: a cancelled event is sent with METHOD:CANCEL")

    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    if method:
        calendar.add("METHOD", method)
    if calendar_name:
        calendar.add("NAME", vText(single_line(calendar_name)))
        calendar.add("X-WR-CALNAME", vText(single_line(calendar_name)))

    years: dict[str, tuple[int, int]] = {}
    for event in events:
        if event.timezone in UTC_ZONES:
            continue
        zone = ZoneInfo(event.timezone)
        first = event.start.astimezone(zone).year
        last = event.end.astimezone(zone).year
        known = years.get(event.timezone)
        years[event.timezone] = (
            (min(known[0], first), max(known[1], last)) if known else (first, last)
        )
    for zone_name in sorted(years):
        calendar.add_component(build_vtimezone(zone_name, *years[zone_name]))

    stamp = now_utc()
    for event in events:
        calendar.add_component(_vevent(event, method, stamp))
    return calendar.to_ical()


def _text(component, name: str) -> str:
    value = component.get(name)
    return "" if value is None else str(value)


def _address_of(value) -> tuple[str, str]:
    email = str(value)
    if email.lower().startswith("mailto:"):
        email = email[len("mailto:") :]
    return str(value.params.get("CN", "")), email


def events_from_bytes(data: bytes) -> list[CalendarEvent]:
    """Read back what `build_calendar` wrote (with icalendar), for tests and diagnostics."""
    calendar = Calendar.from_ical(data)
    events = []
    for vevent in calendar.walk("VEVENT"):
        start = vevent.decoded("DTSTART")
        tzid = vevent["DTSTART"].params.get("TZID") or "UTC"
        organiser_name, organiser_email = _address_of(vevent["ORGANIZER"])
        attendees = vevent.get("ATTENDEE", [])
        if not isinstance(attendees, list):
            attendees = [attendees]
        events.append(
            CalendarEvent(
                uid=_text(vevent, "UID"),
                sequence=int(vevent.get("SEQUENCE", 0)),
                start=start,
                end=vevent.decoded("DTEND"),
                timezone=str(tzid),
                summary=_text(vevent, "SUMMARY"),
                description=_text(vevent, "DESCRIPTION"),
                organiser_name=organiser_name,
                organiser_email=organiser_email,
                attendees=tuple(
                    Attendee(
                        *_address_of(attendee),
                        role=str(attendee.params.get("ROLE", "REQ-PARTICIPANT")),
                        partstat=str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")),
                    )
                    for attendee in attendees
                ),
                location=_text(vevent, "LOCATION"),
                url=_text(vevent, "URL"),
                status=_text(vevent, "STATUS") or "CONFIRMED",
                stamp=vevent.decoded("DTSTAMP"),
                attachments=tuple(
                    (str(a.params.get("FILENAME", "")), str(a))
                    for a in (
                        vevent.get("ATTACH")
                        if isinstance(vevent.get("ATTACH"), list)
                        else [vevent["ATTACH"]]
                        if "ATTACH" in vevent
                        else []
                    )
                ),
            )
        )
    return events


def event_from_bytes(data: bytes) -> CalendarEvent:
    """The single event of a calendar object (an invite, update or cancellation)."""
    events = events_from_bytes(data)
    if len(events) != 1:
        raise ValueError(f"expected one VEVENT, found {len(events)}")
    return events[0]
