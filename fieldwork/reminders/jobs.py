"""The periodic jobs the scheduler runs. Each needs an app context and nothing else, so a test
can call it directly with an injected clock.

Exactly-once: `sweep_due_reminders` claims a batch of due reminders with a conditional
UPDATE (`... WHERE state = 'pending' AND outbox_message_id IS NULL`, with `FOR UPDATE SKIP
LOCKED` on PostgreSQL so two schedulers take different rows instead of queueing behind each
other), and in the same transaction queues each one's outbox message and links it. The
transaction commits whole or not at all: a crash before the commit leaves the reminders as
they were (nothing lost), and after it no other sweep can claim them again (nothing
doubled). The outbox then sends each message once by its own claim.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reminders import services, templating
from fieldwork.reminders.models import Reminder, ReminderState
from fieldwork.scheduling.models import Appointment, AppointmentStatus

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    """What one reminder sweep did, by reminder id."""

    queued: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _claim_batch(now: dt.datetime, limit: int) -> list[int]:
    """Claim up to `limit` due reminders for this sweep, inside the current transaction."""
    candidates = (
        select(Reminder.id)
        .where(
            Reminder.state == ReminderState.PENDING,
            Reminder.outbox_message_id.is_(None),
            Reminder.due_at <= now,
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(candidates))
    if not ids:
        return []
    # The conditional UPDATE decides: a row another sweep queued meanwhile no longer matches.
    return list(
        db.session.scalars(
            update(Reminder)
            .where(
                Reminder.id.in_(ids),
                Reminder.state == ReminderState.PENDING,
                Reminder.outbox_message_id.is_(None),
            )
            .values(attempts=Reminder.attempts + 1)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        )
    )


def _settle(reminder: Reminder, state: ReminderState, why: str, now: dt.datetime) -> None:
    reminder.state = state
    reminder.last_error = why[:2000]
    reminder.settled_at = now


def _queue_batch(now: dt.datetime, limit: int, report: SweepReport) -> int:
    """One transaction: claim, then queue, miss or cancel each claimed reminder; commit."""
    try:
        claimed = _claim_batch(now, limit)
        if not claimed:
            db.session.commit()
            return 0
        reminders = (
            db.session.scalars(
                select(Reminder)
                .options(
                    joinedload(Reminder.appointment).joinedload(Appointment.participant),
                    joinedload(Reminder.appointment).joinedload(Appointment.interviewer),
                    joinedload(Reminder.appointment).joinedload(Appointment.study),
                )
                .where(Reminder.id.in_(claimed))
                .order_by(Reminder.due_at, Reminder.id)
                .execution_options(populate_existing=True)
            )
            .unique()
            .all()
        )
        settings = services._settings_by_study({r.appointment.study_id for r in reminders})
        for reminder in reminders:
            appointment = reminder.appointment
            if appointment.status != AppointmentStatus.BOOKED:
                _settle(
                    reminder,
                    ReminderState.CANCELLED,
                    f"The appointment is {appointment.status.label.lower()}.",
                    now,
                )
                report.cancelled.append(reminder.id)
                continue
            if appointment.starts_at <= now:
                due = reminder.due_at.astimezone(ZoneInfo(appointment.timezone))
                _settle(
                    reminder,
                    ReminderState.MISSED,
                    f"It fell due at {due:%d %b %Y %H:%M %Z} while no scheduler was running, "
                    "and the interview had started by the time one ran.",
                    now,
                )
                report.missed.append(reminder.id)
                continue
            try:
                message = services.build_reminder_email(
                    reminder, appointment, settings[appointment.study_id]
                )
            except (templating.TemplateProblem, ValueError) as error:
                _settle(reminder, ReminderState.FAILED, f"Could not write the email: {error}", now)
                report.failed.append(reminder.id)
                continue
            row = outbox.enqueue(
                message,
                kind="reminder",
                study_id=appointment.study_id,
                appointment_id=appointment.id,
                due_at=now,
            )
            reminder.outbox_message_id = row.id
            report.queued.append(reminder.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(claimed)


def sweep_due_reminders(now: dt.datetime | None = None, limit: int | None = None) -> SweepReport:
    """Turn every due pending reminder into an outbox message, exactly once.

    After a downtime a reminder whose time passed is sent at once if its interview is still
    ahead, and marked missed (for the coordinator to see) if the interview has started.
    """
    now = now or now_utc()
    limit = limit or int(current_app.config["REMINDER_BATCH_SIZE"])
    report = SweepReport()
    while _queue_batch(now, limit, report) == limit:
        pass
    return report


def sweep_outbox(
    now: dt.datetime | None = None, limit: int = 100, stop: threading.Event | None = None
) -> outbox.SendReport:
    """Send what the outbox holds that is due (each message once, retried with backoff when
    the server is away), then carry the outcome into the reminders.

    The reminder messages of interviews that have started are withdrawn first: a reminder
    after the fact only confuses."""
    services.sync_reminder_states(now)
    total = outbox.SendReport()
    while True:
        report = outbox.send_due(limit=limit, now=now, stop=stop)
        for name in ("sent", "deferred", "failed", "skipped", "interrupted"):
            getattr(total, name).extend(getattr(report, name))
        handled = len(report.sent) + len(report.deferred) + len(report.failed)
        handled += len(report.interrupted)
        if handled + len(report.skipped) < limit or handled == 0:
            break
        if stop is not None and stop.is_set():
            break
    db.session.expire_all()
    services.sync_reminder_states(now)
    return total


def sweep(now: dt.datetime | None = None, stop: threading.Event | None = None) -> None:
    """The scheduler's frequent job: queue due reminders, then send (stopping between two
    messages once `stop` is set)."""
    now = now or now_utc()
    report = sweep_due_reminders(now)
    if report.missed:
        log.warning("reminders: %d missed (their interviews had started)", len(report.missed))
    sent = sweep_outbox(now, stop=stop)
    if sent.sent or sent.deferred or sent.failed:
        log.info(
            "outbox: %d sent, %d deferred, %d failed",
            len(sent.sent),
            len(sent.deferred),
            len(sent.failed),
        )


def heartbeat(holder: str, host: str, pid: int, started_at: dt.datetime) -> None:
    services.beat(holder, host, pid, started_at)


def read_calendar_replies() -> None:
    """Read the organiser's mailbox for calendar answers (replies' own job; IMAP only)."""
    from fieldwork.replies import mailbox

    report = mailbox.read_mailbox()
    if report.recorded or report.unmatched or report.errors:
        log.info(
            "calendar replies: %d recorded, %d not used, %d failed",
            len(report.recorded),
            len(report.unmatched),
            len(report.errors),
        )


def refresh_busy_calendars(stop: threading.Event | None = None) -> None:
    """Re-read interviewers' published busy calendars; it runs beside the sweep (a job of
    its own), so reminders never wait for it."""
    from fieldwork.scheduling.busy import refresh_busy_calendars as refresh

    count = refresh(stop=stop)
    log.info("busy calendars: %d refreshed", count)


# --- the daily digest ------------------------------------------------------------------------


def _digest_message_id(interviewer: User, day: dt.date, domain: str) -> str:
    return f"<digest-{interviewer.id}-{day:%Y%m%d}@{domain}>"


def send_daily_digests(now: dt.datetime | None = None) -> int:
    """Queue, for each interviewer whose local time is past the digest hour, one email listing
    their interviews tomorrow (in their zone). Idempotent: a digest has a Message-ID made of
    the interviewer and the day, and the outbox refuses a Message-ID twice, so running the job
    every few minutes (and after a downtime) sends each digest once. Returns how many queued.
    """
    from fieldwork.invites.bodies import inline_css
    from fieldwork.invites.headers import address_message
    from fieldwork.invites.mail import describe_time, header_text, mailbox

    now = now or now_utc()
    hour = int(current_app.config["REMINDER_DIGEST_HOUR"])
    domain = current_app.config["REMINDER_DIGEST_DOMAIN"]
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
        lines = [
            {
                "when": describe_time(item.starts_at, interviewer.timezone),
                "study_when": describe_time(item.starts_at, item.timezone),
                "reference": item.participant.reference,
                "name": item.participant.name,
                "study": item.study.name,
                "mode": item.mode.label.lower(),
                "where": services._where(item.mode, item.location, item.video_link),
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
        try:
            with db.session.begin_nested():
                outbox.enqueue(message, kind="digest", study_id=None)
        except IntegrityError:
            continue  # another run queued it a moment ago
        queued += 1
    db.session.commit()
    return queued
