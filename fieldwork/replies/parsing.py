"""Reading iMIP replies (RFC 6047) out of raw mail: pure functions, bytes in, facts out.

Nothing here knows the database. What cannot be read raises `Unreadable` with a sentence for
the coordinator; nothing else escapes, whatever the mail holds (broken MIME, broken iCalendar,
unknown charsets, several events).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

#: Methods a calendar sends back to an organiser that Fieldwork acts on (RFC 5546 §3.2).
HANDLED_METHODS = ("REPLY", "COUNTER")
#: PARTSTAT values of a REPLY that Fieldwork records.
ANSWERS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}
#: Content types a calendar part comes in (Outlook sometimes adds an application/ics copy).
CALENDAR_TYPES = ("text/calendar", "application/ics")
MAX_COMMENT = 1000
_SPACE = re.compile(r"\s+")


class Unreadable(ValueError):
    """The mail or its calendar part cannot be read; the message says why, for a person."""


@dataclass(frozen=True)
class MailFacts:
    """What the headers of a mail say."""

    key: str
    sender_email: str
    sender: str
    subject: str
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class CalendarAnswer:
    """One attendee's answer, as the reply's VEVENT states it."""

    method: str
    uid: str
    sequence: int
    attendee_email: str
    attendee_name: str
    #: The PARTSTAT as written (upper case); empty for a COUNTER that gives none.
    partstat: str
    comment: str
    stamp: dt.datetime | None
    proposed_start: dt.datetime | None = None
    proposed_end: dt.datetime | None = None


def one_line(text: str, limit: int) -> str:
    """Text as one line of at most `limit` characters (control characters become spaces)."""
    cleaned = _SPACE.sub(" ", "".join(c if c.isprintable() else " " for c in text)).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _headers(data: bytes) -> Message:
    return BytesParser(policy=policy.default).parsebytes(data, headersonly=True)


def _header(message: Message, name: str) -> str:
    """A header as text; a header too broken to decode gives what can be read of it."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - the email package raises many kinds on hostile headers
        value = message.get_all(name, [""])[0] if hasattr(message, "get_all") else ""
    return "" if value is None else str(value)


def message_id_of(header_bytes: bytes) -> str | None:
    """The Message-ID (without brackets) of a header block, or None when it has no usable one."""
    message_id = one_line(_header(_headers(header_bytes), "Message-ID"), 400).strip("<> ")
    if message_id and len(message_id) <= 290 and " " not in message_id:
        return message_id
    return None


def message_key(header_bytes: bytes) -> str:
    """The key that makes a message handled once: its Message-ID, or a hash of its headers."""
    return message_id_of(header_bytes) or "sha256:" + hashlib.sha256(header_bytes).hexdigest()


def mail_facts(header_bytes: bytes) -> MailFacts:
    """Sender, subject, date and key from the header block of a message."""
    headers = _headers(header_bytes)
    sender = one_line(_header(headers, "From"), 320)
    try:
        addresses = [address for _, address in getaddresses([sender]) if "@" in address]
    except Exception:  # noqa: BLE001 - hostile From headers
        addresses = []
    try:
        sent_at = parsedate_to_datetime(_header(headers, "Date"))
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, IndexError):
        sent_at = None
    return MailFacts(
        key=message_key(header_bytes),
        sender_email=addresses[0].lower()[:320] if len(addresses) == 1 else "",
        sender=sender,
        subject=one_line(_header(headers, "Subject"), 300),
        sent_at=sent_at,
    )


def _part_text(part: Message) -> str:
    """A MIME part's text in its declared charset; undecodable bytes become U+FFFD."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):  # decode=True gives bytes, or None for a multipart
        payload = b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return payload.decode("utf-8", errors="replace")


def calendar_parts(raw: bytes) -> list[str]:
    """The text of every calendar part of a message (none for an ordinary email)."""
    try:
        message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
        parts = [
            part
            for part in message.walk()
            if part.get_content_type() in CALENDAR_TYPES
            or (part.get_filename() or "").lower().endswith(".ics")
        ]
        return [_part_text(part) for part in parts]
    except Exception as error:  # noqa: BLE001 - malformed MIME of any kind
        raise Unreadable(f"The message's structure could not be read ({error}).") from error


def _address(value) -> tuple[str, str]:
    email = str(value).strip()
    if email.lower().startswith("mailto:"):
        email = email[len("mailto:") :]
    return email.strip().lower(), one_line(str(value.params.get("CN", "")), 200)


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _moment(event, name: str, zone_name: str) -> dt.datetime | None:
    if name not in event:
        return None
    value = event.decoded(name)
    if not isinstance(value, dt.datetime):
        raise Unreadable(f"The proposed {name} is a whole day, not a time.")
    if value.tzinfo is None:  # floating time: read it in the appointment's zone
        value = value.replace(tzinfo=ZoneInfo(zone_name))
    return value.astimezone(dt.UTC)


# Long by design: RFC 5546's checks of a REPLY or COUNTER in the order the standard
# gives them, each refusing with its own reason.
def read_answer(
    text: str, sender_email: str, zone_for_uid: Callable[[str], str] = lambda uid: "UTC"
) -> CalendarAnswer:
    """The answer a calendar part carries, or Unreadable saying why it cannot be used.

    A REPLY names exactly one ATTENDEE (RFC 5546 §3.2.3). A COUNTER may list everyone; the one
    proposing is the only one, or the one whose address sent the mail. Floating times of a
    COUNTER are read in the zone `zone_for_uid` gives (the appointment's).
    """
    try:
        calendar = Calendar.from_ical(text)
    except Exception as error:  # noqa: BLE001 - icalendar raises ValueError and others
        raise Unreadable(f"The calendar part is not valid iCalendar ({error}).") from error
    method = one_line(str(calendar.get("METHOD", "")), 40).upper()
    if method not in HANDLED_METHODS:
        raise Unreadable(
            f"The calendar says METHOD:{method or '(none)'}; only replies (REPLY) and proposed "
            "new times (COUNTER) are read."
        )
    events = calendar.walk("VEVENT")
    if len(events) != 1:
        raise Unreadable(
            f"The calendar holds {len(events)} events; a reply about one interview holds one."
        )
    event = events[0]
    uid = one_line(str(event.get("UID", "")), 300)
    if not uid:
        raise Unreadable("The event has no UID, so it names no appointment.")
    try:
        sequence = int(event.get("SEQUENCE", 0))
        attendees = [_address(a) for a in _as_list(event.get("ATTENDEE"))]
        stamp = event.decoded("DTSTAMP") if "DTSTAMP" in event else None
        if not isinstance(stamp, dt.datetime):
            stamp = None
        elif stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError) as error:
        raise Unreadable(
            f"The event's SEQUENCE, ATTENDEE or DTSTAMP is broken ({error})."
        ) from error
    if method == "REPLY" and len(attendees) != 1:
        raise Unreadable(
            f"The reply names {len(attendees)} attendees; a reply names the one who answers."
        )
    chosen = [a for a in attendees if len(attendees) == 1 or a[0] == sender_email]
    if len(chosen) != 1:
        raise Unreadable("The proposal does not say which attendee makes it.")
    raw_attendee = next(
        a for a in _as_list(event.get("ATTENDEE")) if _address(a)[0] == chosen[0][0]
    )
    comments = [str(c) for c in _as_list(event.get("COMMENT"))]
    comments.append(str(raw_attendee.params.get("X-RESPONSE-COMMENT", "")))
    comment = one_line(" ".join(c for c in comments if c), MAX_COMMENT)
    partstat = one_line(str(raw_attendee.params.get("PARTSTAT", "")), 40).upper()
    proposed_start = proposed_end = None
    if method == "COUNTER":
        zone_name = zone_for_uid(uid)
        try:
            proposed_start = _moment(event, "DTSTART", zone_name)
            proposed_end = _moment(event, "DTEND", zone_name)
        except (TypeError, ValueError, KeyError) as error:
            raise Unreadable(f"The proposed time cannot be read ({error}).") from error
        if proposed_start is None:
            raise Unreadable("The proposal gives no new start time.")
        if proposed_end is not None and proposed_end <= proposed_start:
            proposed_end = None
    return CalendarAnswer(
        method=method,
        uid=uid,
        sequence=sequence,
        attendee_email=chosen[0][0][:320],
        attendee_name=chosen[0][1],
        partstat=partstat,
        comment=comment,
        stamp=stamp,
        proposed_start=proposed_start,
        proposed_end=proposed_end,
    )
