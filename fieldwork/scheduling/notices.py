"""Telling coordinators what participants did through their links: audit events (the home
page's "since your last visit" reads them) and, for those who ask, one email a day.

The digest is built from the audit trail, so it says exactly what the home page says, and it
is idempotent: each covers the span from where the last one ended, and its Message-ID names
the user and the end of the span, which the outbox refuses twice.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.policy import SMTP

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import BookingNoticeSubscription

#: The audit actions a participant's own booking, move and cancellation write.
SELF_SERVICE_ACTIONS = (
    "appointment.self_booked",
    "appointment.self_moved",
    "appointment.self_cancelled",
)
DAY = dt.timedelta(days=1)


def wants_daily_email(user: User) -> bool:
    row = db.session.get(BookingNoticeSubscription, user.id)
    return bool(row and row.is_daily_email)


def set_daily_email(user: User, wanted: bool) -> None:
    """Turn the daily email on or off for a user (commits); a new one starts from now."""
    row = db.session.get(BookingNoticeSubscription, user.id)
    if row is None:
        row = BookingNoticeSubscription(user_id=user.id, covered_until=now_utc())
        db.session.add(row)
    if wanted and not row.is_daily_email:
        row.covered_until = now_utc()
    row.is_daily_email = wanted
    db.session.commit()


def events_between(start: dt.datetime, end: dt.datetime) -> list[AuditEvent]:
    """Participants' own changes in [start, end), oldest first, people and study loaded."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.participant))
            .where(
                AuditEvent.action.in_(SELF_SERVICE_ACTIONS),
                AuditEvent.created_at >= start,
                AuditEvent.created_at < end,
            )
            .order_by(AuditEvent.created_at, AuditEvent.id)
        ).unique()
    )


def build_notice_email(user: User, events: list[AuditEvent], start: dt.datetime, end: dt.datetime):
    """One user's digest of participants' own changes, as an email."""
    from fieldwork.audit.sentences import SENTENCES
    from fieldwork.invites.bodies import render_email
    from fieldwork.invites.headers import address_message
    from fieldwork.invites.mail import header_text, mailbox

    names = dict(
        db.session.execute(
            select(Study.id, Study.name).where(Study.id.in_({e.study_id for e in events}))
        ).all()
    )
    lines = [
        {
            "study": names.get(event.study_id, "") if event.study_id is not None else "",
            "text": SENTENCES[event.action](event, user.timezone),
        }
        for event in events
    ]
    text, html = render_email(
        "booking_notices",
        user=user,
        lines=lines,
        count=len(lines),
        zone=user.timezone,
        brand="Fieldwork",
    )
    domain = current_app.config["REMINDER_DIGEST_DOMAIN"]
    message = EmailMessage(policy=SMTP)
    address_message(
        message,
        sender=mailbox("Fieldwork", f"fieldwork@{domain}"),
        to=[mailbox(user.name, user.email)],
        message_id=f"<booking-notices-{user.id}-{end:%Y%m%dT%H%M%S}@{domain}>",
    )
    noun = "change" if len(lines) == 1 else "changes"
    message["Subject"] = header_text(f"Participants' own bookings: {len(lines)} {noun} today")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def send_booking_notices(now: dt.datetime | None = None) -> int:
    """Queue a digest for each subscriber whose last one covers up to a day ago or more;
    nothing when nothing happened (the span still moves on). Returns how many were queued."""
    from fieldwork.outbox import services as outbox

    now = now or now_utc()
    queued = 0
    rows = db.session.scalars(
        select(BookingNoticeSubscription).where(BookingNoticeSubscription.is_daily_email.is_(True))
    ).all()
    for row in rows:
        start = row.covered_until or now - DAY
        if now - start < DAY:
            continue
        user = db.session.get(User, row.user_id)
        if user is None or not user.is_enabled or not user.is_coordinator:
            continue
        events = events_between(start, now)
        if events:
            try:
                with db.session.begin_nested():
                    outbox.enqueue(
                        build_notice_email(user, events, start, now), kind="digest", study_id=None
                    )
            except IntegrityError:
                continue  # another run queued it a moment ago
            queued += 1
        row.covered_until = now
    db.session.commit()
    return queued
