"""Answers from calendars for the demo study, read through the same path as real mail: an
acceptance, a decline with a comment (so "to rebook" has a row) and a proposed new time."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.replies import services
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus


def demo_reply(
    appointment: Appointment,
    email: str,
    partstat: str,
    stamp: dt.datetime,
    comment: str = "",
    proposed: dt.datetime | None = None,
) -> bytes:
    """A reply email as a calendar client writes it (METHOD:REPLY, or COUNTER with `proposed`)."""
    calendar = Calendar()
    calendar.add("PRODID", "-//Fieldwork demo//Calendar client//EN")
    calendar.add("VERSION", "2.0")
    method = "COUNTER" if proposed else "REPLY"
    calendar.add("METHOD", method)
    event = Event()
    event.add("UID", appointment.ical_uid)
    event.add("SEQUENCE", appointment.sequence)
    event.add("DTSTAMP", stamp)
    start = proposed or appointment.starts_at
    event.add("DTSTART", start)
    event.add("DTEND", start + (appointment.ends_at - appointment.starts_at))
    attendee = vCalAddress(f"mailto:{email}")
    attendee.params["PARTSTAT"] = partstat
    event.add("ATTENDEE", attendee)
    if comment:
        event.add("COMMENT", comment)
    calendar.add_component(event)
    message = EmailMessage()
    message["From"] = email
    message["To"] = "organiser@example.org"
    message["Subject"] = f"{'New time proposed' if proposed else partstat.title()}: Interview"
    message["Date"] = format_datetime(stamp)
    message["Message-ID"] = make_msgid(domain="demo.fieldwork.invalid")
    message.set_content("An answer to your invitation.\n")
    message.add_alternative(
        calendar.to_ical(), maintype="text", subtype="calendar", params={"method": method}
    )
    return message.as_bytes(policy=SMTP)


def load_replies_demo(study: Study) -> int:
    """Answer the demo's first three interviews ahead; returns how many answers were read."""
    ahead = list(
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.participant), joinedload(Appointment.interviewer))
            .where(
                Appointment.study_id == study.id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at > now_utc(),
            )
            .order_by(Appointment.starts_at)
            .limit(3)
        ).unique()
    )
    now = now_utc()
    mails = []
    if len(ahead) >= 1:
        first = ahead[0]
        mails.append(demo_reply(first, first.participant.email, "ACCEPTED", now))
        mails.append(demo_reply(first, first.interviewer.email, "ACCEPTED", now))
    if len(ahead) >= 2:
        second = ahead[1]
        mails.append(
            demo_reply(
                second,
                second.participant.email,
                "DECLINED",
                now - dt.timedelta(hours=2),
                "Sorry, I am at a conference that day. Any day the week after works for me.",
            )
        )
    if len(ahead) >= 3:
        third = ahead[2]
        local = third.starts_at.astimezone(ZoneInfo(third.timezone))
        proposed = (local + dt.timedelta(days=1)).replace(hour=14, minute=0)
        mails.append(
            demo_reply(
                third,
                third.participant.email,
                "TENTATIVE",
                now - dt.timedelta(hours=1),
                "Could we do the afternoon of the next day instead?",
                proposed.astimezone(dt.UTC),
            )
        )
    for raw in mails:
        header = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        services.process_message(header, raw, len(raw), len(raw))
    return len(mails)
