"""The interviewers' daily digest: each evening, one email listing their interviews of the
next day (a periodic job registered by fieldwork.reminders.init_app)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.policy import SMTP
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reminders.messages import where_text
from fieldwork.scheduling.models import Appointment, AppointmentStatus


def _digest_message_id(interviewer: User, day: dt.date, domain: str) -> str:
    return f"<digest-{interviewer.id}-{day:%Y%m%d}@{domain}>"


def _tomorrows_interviews(
    now: dt.datetime, hour: int
) -> dict[int, tuple[User, dt.date, list[Appointment]]]:
    """Interviewer id → (interviewer, their tomorrow, its booked interviews) for each
    interviewer whose local time is past the digest hour."""
    appointments = (
        db.session.scalars(
            select(Appointment)
            .options(
                joinedload(Appointment.interviewer),
                joinedload(Appointment.participant),
                joinedload(Appointment.study),
            )
            .where(
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at > now,
                Appointment.starts_at < now + dt.timedelta(hours=60),
            )
            .order_by(Appointment.starts_at)
        )
        .unique()
        .all()
    )
    by_interviewer: dict[int, tuple[User, dt.date, list[Appointment]]] = {}
    for appointment in appointments:
        interviewer = appointment.interviewer
        local_now = now.astimezone(ZoneInfo(interviewer.timezone))
        if local_now.hour < hour:
            continue
        tomorrow = local_now.date() + dt.timedelta(days=1)
        if appointment.starts_at.astimezone(ZoneInfo(interviewer.timezone)).date() != tomorrow:
            continue
        by_interviewer.setdefault(interviewer.id, (interviewer, tomorrow, []))[2].append(
            appointment
        )
    return by_interviewer


def _digest_email(
    interviewer: User, day: dt.date, items: list[Appointment], message_id: str, domain: str
) -> EmailMessage:
    """One interviewer's digest of the day's interviews, each in their zone and the study's."""
    from fieldwork.invites.bodies import inline_css
    from fieldwork.invites.headers import address_message
    from fieldwork.invites.mail import describe_time, header_text, mailbox

    lines = [
        {
            "when": describe_time(item.starts_at, interviewer.timezone),
            "study_when": describe_time(item.starts_at, item.timezone),
            "reference": item.participant.reference,
            "name": item.participant.name,
            "study": item.study.name,
            "mode": item.mode.label.lower(),
            "where": where_text(item.mode, item.location, item.video_link),
        }
        for item in items
    ]
    context = {
        "interviewer": interviewer,
        "day": f"{day:%A} {day.day} {day:%B %Y}",
        "lines": lines,
        "zone": interviewer.timezone,
    }
    message = EmailMessage(policy=SMTP)
    address_message(
        message,
        sender=mailbox("Fieldwork", f"fieldwork@{domain}"),
        to=[mailbox(interviewer.name, interviewer.email)],
        message_id=message_id,
    )
    message["Subject"] = header_text(f"Your interviews on {context['day']} ({len(items)})")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template("emails/reminder_digest.txt", **context))
    message.add_alternative(
        inline_css(render_template("emails/reminder_digest.html", **context)),
        subtype="html",
    )
    return message


def send_daily_digests(now: dt.datetime | None = None) -> int:
    """Queue, for each interviewer whose local time is past the digest hour, one email listing
    their interviews tomorrow (in their zone). Idempotent: a digest has a Message-ID made of
    the interviewer and the day, and the outbox refuses a Message-ID twice, so running the job
    every few minutes (and after a downtime) sends each digest once. Returns how many queued.
    """
    now = now or now_utc()
    domain = current_app.config["REMINDER_DIGEST_DOMAIN"]
    by_interviewer = _tomorrows_interviews(now, int(current_app.config["REMINDER_DIGEST_HOUR"]))
    if not by_interviewer:
        return 0
    wanted = {
        _digest_message_id(interviewer, day, domain): (interviewer, day, items)
        for interviewer, day, items in by_interviewer.values()
    }
    already = set(
        db.session.scalars(
            select(OutboxMessage.message_id).where(OutboxMessage.message_id.in_(wanted))
        )
    )
    queued = 0
    for message_id, (interviewer, day, items) in wanted.items():
        if message_id in already:
            continue
        message = _digest_email(interviewer, day, items, message_id, domain)
        try:
            with db.session.begin_nested():
                outbox.enqueue(message, kind="digest", study_id=None)
        except IntegrityError:
            continue  # another run queued it a moment ago
        queued += 1
    db.session.commit()
    return queued
