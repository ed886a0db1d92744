"""Invitation emails (iMIP, RFC 6047): the calendar object carried the way clients expect.

The structure is the one Outlook and Google send and read:

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST; charset=UTF-8
      application/ics; name="invite.ics"  (attachment)

The calendar part's `method=` always equals the METHOD inside, because both come from the
same argument. Header values are cleaned of control characters before they are set, so a name
or subject holding "\\r\\nBcc: ..." cannot add a header or a recipient.
"""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from zoneinfo import ZoneInfo

from fieldwork.invites.headers import address_message, checked_address, clean_name
from fieldwork.invites.ical import Attendee, CalendarEvent, build_calendar, single_line

KINDS = ("invite", "update", "cancellation")
_METHOD_OF_KIND = {"invite": "REQUEST", "update": "REQUEST", "cancellation": "CANCEL"}


def header_text(value: str) -> str:
    """A header value on one line: CR, LF and other control characters become spaces."""
    return single_line(value)


def mailbox(name: str, email: str) -> Address:
    """A From/To mailbox: the name on one line, the address checked (ValueError if unusable).
    Set it on a message with `fieldwork.invites.headers.address_message` (or `set_addresses`),
    never with `message["To"] = ...`, whose folding can change who a message goes to."""
    return Address(display_name=clean_name(name), addr_spec=checked_address(email))


def describe_time(moment: dt.datetime, zone_name: str) -> str:
    """A time as people read it, with the zone named twice over:
    'Monday 30 March 2026, 10:00 BST (Europe/London)'."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()} ({zone_name})"


def describe_clock(moment: dt.datetime, zone_name: str) -> str:
    """Just the clock time and zone abbreviation, e.g. '11:00 BST' (for an end time)."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local:%H:%M} {local.tzname()}"


def render_invitation(kind: str, context: dict) -> tuple[str, str]:
    """The text and HTML bodies of an invite, update or cancellation (needs an app context).

    `context` must hold `event` (CalendarEvent) and `recipient` (Attendee); it may hold
    `study_name`, `mode` (e.g. "telephone"), `notes`, `manage_url` (where the recipient can
    reschedule or cancel), `call_line` (who calls whom on which number), `with_name`,
    `reader_zone` (the recipient's zone) and, for an update, `previous_start` (aware
    datetime). The templates get `when`, `until` and `previous_when`, written in the reader's
    zone with the event's zone beside it when they differ; the HTML has its CSS inlined.
    """
    from fieldwork.invites.bodies import describe_end, describe_for_reader, render_email

    if kind not in KINDS:
        raise ValueError(f"unknown kind of invitation {kind!r}")
    event: CalendarEvent = context["event"]
    reader_zone = context.get("reader_zone") or event.timezone
    values = dict(context)
    values["when"] = describe_for_reader(event.start, reader_zone, event.timezone)
    values["until"] = describe_end(event.end, reader_zone)
    previous = context.get("previous_start")
    values["previous_when"] = (
        describe_for_reader(previous, reader_zone, event.timezone) if previous else ""
    )
    for name in ("study_name", "mode", "notes", "manage_url", "call_line", "with_name"):
        values.setdefault(name, "")
    values.setdefault("organiser_name", event.organiser_name)
    values.setdefault("organiser_email", event.organiser_email)
    return render_email(kind, **values)


def method_for(kind: str) -> str:
    """The iTIP METHOD an invitation of this kind carries."""
    return _METHOD_OF_KIND[kind]


def build_invitation_email(
    *,
    event: CalendarEvent,
    method: str,
    to: Attendee,
    subject: str,
    text_body: str,
    html_body: str,
    sender_name: str,
    sender_email: str,
    message_id: str | None = None,
) -> EmailMessage:
    """One recipient's invitation email with the calendar object inline and attached.

    From is the organiser (`sender_*`), so a client sends the attendee's reply there.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"an invitation email carries REQUEST or CANCEL, not {method!r}")
    calendar = build_calendar([event], method)

    message = EmailMessage(policy=SMTP)
    address_message(
        message,
        sender=mailbox(sender_name, sender_email),
        to=[mailbox(to.name, to.email)],
        message_id=message_id,
    )
    message["Subject"] = header_text(subject)
    message["MIME-Version"] = "1.0"

    message.set_content(text_body, subtype="plain", charset="utf-8")
    message.add_alternative(html_body, subtype="html", charset="utf-8")
    message.add_alternative(
        calendar.decode("utf-8"),
        subtype="calendar",
        charset="utf-8",
        cte="base64",
        params={"method": method},
    )
    message.add_attachment(
        calendar,
        maintype="application",
        subtype="ics",
        filename="invite.ics",
        params={"name": "invite.ics"},
    )
    return message
