"""Replies from calendars as Outlook and Google Calendar send them, built with icalendar, plus
malformed and hostile messages. Each function gives the raw bytes of one email."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from icalendar import Calendar, Event, vCalAddress, vText

ORGANISER = "fieldwork@example.org"
STAMP = dt.datetime(2026, 3, 20, 11, 30, tzinfo=dt.UTC)


def reply_calendar(
    uid: str,
    attendee_email: str,
    partstat: str = "ACCEPTED",
    *,
    name: str = "",
    sequence: int = 0,
    comment: str = "",
    style: str = "outlook",
    method: str = "REPLY",
    starts_at: dt.datetime | None = None,
    minutes: int = 60,
    attendees: int = 1,
) -> bytes:
    """A VCALENDAR the way the named client writes a REPLY (or a COUNTER when `method` says).

    Outlook (Exchange) writes COMMENT and the summary "Accepted: ..."; Google puts the comment
    in the ATTENDEE's X-RESPONSE-COMMENT and writes times in UTC.
    """
    calendar = Calendar()
    if style == "google":
        calendar.add("PRODID", "-//Google Inc//Google Calendar 70.9054//EN")
    else:
        calendar.add("PRODID", "Microsoft Exchange Server 2010")
    calendar.add("VERSION", "2.0")
    calendar.add("METHOD", method)
    event = Event()
    event.add("UID", uid)
    event.add("SEQUENCE", sequence)
    event.add("DTSTAMP", STAMP)
    start = starts_at or dt.datetime(2026, 3, 24, 10, tzinfo=dt.UTC)
    event.add("DTSTART", start)
    event.add("DTEND", start + dt.timedelta(minutes=minutes))
    event.add("SUMMARY", vText(f"{partstat.title()}: Interview"))
    organiser = vCalAddress(f"mailto:{ORGANISER}")
    organiser.params["CN"] = "Fieldwork"
    event.add("ORGANIZER", organiser)
    for number in range(attendees):
        address = attendee_email if number == 0 else f"someone{number}@example.org"
        attendee = vCalAddress(f"mailto:{address}")
        if name and number == 0:
            attendee.params["CN"] = name
        attendee.params["PARTSTAT"] = partstat
        if style == "google":
            attendee.params["CUTYPE"] = "INDIVIDUAL"
            attendee.params["ROLE"] = "REQ-PARTICIPANT"
            attendee.params["X-NUM-GUESTS"] = "0"
            if comment:
                attendee.params["X-RESPONSE-COMMENT"] = comment
        event.add("ATTENDEE", attendee)
    if comment and style != "google":
        event.add("COMMENT", vText(comment))
    calendar.add_component(event)
    return calendar.to_ical()


def email_with_calendar(
    calendar: bytes | str,
    *,
    sender: str,
    subject: str = "Accepted: Interview",
    method: str = "REPLY",
    style: str = "outlook",
    charset: str = "utf-8",
    message_id: str | None = "",
) -> bytes:
    """An email carrying `calendar` as a real client sends it: multipart/alternative with a
    text/calendar part (method=...), and for Google an extra invite.ics attachment."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ORGANISER
    message["Subject"] = subject
    message["Date"] = format_datetime(STAMP)
    if message_id is not None:
        message["Message-ID"] = message_id or make_msgid(domain="mail.example.org")
    message.set_content("This is an answer to your invitation.\n")
    message.add_alternative("<p>This is an answer to your invitation.</p>", subtype="html")
    data = calendar if isinstance(calendar, bytes) else calendar.encode(charset)
    message.add_alternative(
        data, maintype="text", subtype="calendar", params={"method": method, "charset": charset}
    )
    if style == "google":
        message.make_mixed()
        message.add_attachment(data, maintype="application", subtype="ics", filename="invite.ics")
    return message.as_bytes(policy=SMTP)


def reply_email(uid: str, attendee_email: str, partstat: str = "ACCEPTED", **options) -> bytes:
    """A REPLY email from `attendee_email` (or `sender`), Outlook style unless `style` says."""
    sender = options.pop("sender", attendee_email)
    style = options.get("style", "outlook")
    method = options.get("method", "REPLY")
    subject = options.pop("subject", f"{partstat.title()}: Interview")
    message_id = options.pop("message_id", "")
    return email_with_calendar(
        reply_calendar(uid, attendee_email, partstat, **options),
        sender=sender,
        subject=subject,
        method=method,
        style=style,
        message_id=message_id,
    )


def plain_email(subject: str = "Lunch on Friday?", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = headers.get("sender", "colleague@example.org")
    message["To"] = ORGANISER
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("Shall we have lunch on Friday?\n")
    return message.as_bytes(policy=SMTP)


def raw_email(headers: str, body: bytes) -> bytes:
    """An email written byte by byte (for what no well-behaved library would write)."""
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n\r\n" + body
