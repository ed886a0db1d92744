"""The reminders' sweep, the scheduler's most frequent job: due reminders into the outbox, then
the outbox sent. It needs an app context and nothing else, so a test can call it directly
with an injected clock.

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
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.messaging import templating
from fieldwork.outbox import sending
from fieldwork.outbox import services as outbox
from fieldwork.outbox.composing import PreparedMessage
from fieldwork.reminders import services
from fieldwork.reminders.messages import reminder_email
from fieldwork.reminders.models import Reminder, ReminderSettings, ReminderState
from fieldwork.reminders.settings import settings_by_study
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


def _claimed_reminders(claimed: list[int]) -> list[Reminder]:
    """The claimed reminders with what their emails say loaded (appointment, people, study,
    the email written when each was planned)."""
    return list(
        db.session.scalars(
            select(Reminder)
            .options(
                joinedload(Reminder.appointment).joinedload(Appointment.participant),
                # A batch has few interviewers and studies: one query each, rather than their
                # columns repeated on every row for the ORM to match up again.
                joinedload(Reminder.appointment).selectinload(Appointment.interviewer),
                joinedload(Reminder.appointment).selectinload(Appointment.study),
            )
            .options(undefer(Reminder.prepared_email))
            .where(Reminder.id.in_(claimed))
            .order_by(Reminder.due_at, Reminder.id)
            .execution_options(populate_existing=True)
        )
        .unique()
        .all()
    )


def _message_or_settle(
    reminder: Reminder, settings: ReminderSettings, now: dt.datetime, report: SweepReport
) -> PreparedMessage | None:
    """The reminder's email, or None after settling a reminder that must not go (appointment
    no longer booked: cancelled; interview started: missed; email cannot be written: failed)."""
    appointment = reminder.appointment
    if appointment.status != AppointmentStatus.BOOKED:
        why = f"The appointment is {appointment.status.label.lower()}."
        _settle(reminder, ReminderState.CANCELLED, why, now)
        report.cancelled.append(reminder.id)
        return None
    if appointment.starts_at <= now:
        due = reminder.due_at.astimezone(ZoneInfo(appointment.timezone))
        why = (
            f"It fell due at {due:%d %b %Y %H:%M %Z} while no scheduler was running, "
            "and the interview had started by the time one ran."
        )
        _settle(reminder, ReminderState.MISSED, why, now)
        report.missed.append(reminder.id)
        return None
    try:
        return reminder_email(reminder, appointment, settings)
    except (templating.TemplateProblem, ValueError) as error:
        _settle(reminder, ReminderState.FAILED, f"Could not write the email: {error}", now)
        report.failed.append(reminder.id)
        return None


def _queue_batch(now: dt.datetime, limit: int, report: SweepReport) -> int:
    """One transaction: claim a batch, then queue (in one INSERT), miss or cancel each claimed
    reminder. Returns how many were claimed."""
    with transaction():
        claimed = _claim_batch(now, limit)
        reminders = _claimed_reminders(claimed) if claimed else []
        settings = settings_by_study({r.appointment.study_id for r in reminders})
        queued: list[tuple[Reminder, outbox.Outgoing]] = []
        for reminder in reminders:
            study_id = reminder.appointment.study_id
            message = _message_or_settle(reminder, settings[study_id], now, report)
            if message is not None:
                outgoing = outbox.Outgoing(message, study_id, reminder.appointment_id)
                queued.append((reminder, outgoing))
        ids = outbox.enqueue_many([item for _, item in queued], kind="reminder", due_at=now)
        links = zip((reminder for reminder, _ in queued), ids, strict=True)
        _link_messages(list(links))
        report.queued.extend(reminder.id for reminder, _ in queued)
    return len(claimed)


#: Links one queued reminder to its message and drops the email written ahead (executemany).
_LINK = (
    update(Reminder.__table__)
    .where(Reminder.__table__.c.id == bindparam("reminder_id"))
    .values(outbox_message_id=bindparam("queued_id"), prepared_email=None)
)
#: The same for a whole batch on PostgreSQL, in one statement (an executemany is a round trip
#: and an index lookup per row there, a tenth of a sweep's queueing).
_LINK_ON_POSTGRESQL = text(
    """
    UPDATE reminder SET outbox_message_id = given.queued_id, prepared_email = NULL
    FROM unnest(CAST(:reminder_ids AS integer[]), CAST(:queued_ids AS integer[]))
        AS given (reminder_id, queued_id)
    WHERE reminder.id = given.reminder_id
    """
)


def _link_messages(links: list[tuple[Reminder, int]]) -> None:
    """Record each queued reminder's outbox message in one statement (the ORM would flush an
    UPDATE per reminder), and the same on the session's copies, which stay unmodified."""
    if not links:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            _LINK_ON_POSTGRESQL,
            {
                "reminder_ids": [reminder.id for reminder, _ in links],
                "queued_ids": [message for _, message in links],
            },
        )
    else:
        connection.execute(
            _LINK,
            [{"reminder_id": reminder.id, "queued_id": message} for reminder, message in links],
        )
    for reminder, message_id in links:
        set_committed_value(reminder, "outbox_message_id", message_id)
        set_committed_value(reminder, "prepared_email", None)


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
    now: dt.datetime | None = None, limit: int = 500, stop: threading.Event | None = None
) -> sending.SendReport:
    """Send what the outbox holds that is due (each message once, retried with backoff when
    the server is away), then carry the outcome into the reminders.

    The reminder messages of interviews that have started are withdrawn first: a reminder
    after the fact only confuses."""
    services.sync_reminder_states(now)
    total = sending.SendReport()
    while True:
        report = sending.send_due(limit=limit, now=now, stop=stop)
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
