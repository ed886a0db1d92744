"""Reminders: planned with the booking, moved with it, cancelled with it; rendered from each
study's templates; handed to the outbox exactly once by the sweep (see jobs.py).

The rows are the truth. `plan_reminders`, `move_reminders` and `cancel_reminders` write in
the caller's session and never commit, so a booking, its invites and its reminders are saved
together or not at all.

A reminder's state follows its outbox message: pending until the SMTP server accepted it
(`sync_reminder_states` copies sent and failed across after each outbox sweep).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, exists, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from fieldwork.accounts.models import User
from fieldwork.core.pagination import Page, paginate
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState
from fieldwork.reminders.messages import message_domain, prepare_reminder_email
from fieldwork.reminders.models import (
    Reminder,
    ReminderRecipient,
    ReminderSettings,
    ReminderState,
)
from fieldwork.reminders.settings import ReminderError, settings_for
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

# --- planning with the booking ---------------------------------------------------------------


def plan_reminders(appointment: Appointment) -> list[Reminder]:
    """Create the reminders of a booked appointment in the caller's session (no commit).

    One per offset and recipient the study's settings name; none for a participant without
    an email address, and none whose time has already passed.
    """
    if appointment.status != AppointmentStatus.BOOKED:
        return []
    settings = settings_for(appointment.study_id)
    study = db.session.get_one(Study, appointment.study_id)
    participant = db.session.get(Participant, appointment.participant_id)
    now = now_utc()
    recipients = [
        recipient
        for recipient in ReminderRecipient
        if settings.is_for(recipient)
        and (recipient != ReminderRecipient.PARTICIPANT or (participant and participant.email))
    ]
    created: list[Reminder] = []
    for offset in sorted(set(settings.offsets or ()), reverse=True):
        due_at = appointment.starts_at - dt.timedelta(minutes=offset)
        if due_at <= now:
            continue
        for recipient in recipients:
            reminder = Reminder(
                appointment_id=appointment.id,
                recipient=recipient,
                offset_minutes=offset,
                due_at=due_at,
                state=ReminderState.PENDING,
                attempts=0,
                last_error="",
                message_id=f"<reminder-{uuid.uuid4().hex}@{message_domain(study)}>",
                created_at=now,
            )
            db.session.add(reminder)
            created.append(reminder)
    _prepare_emails(appointment, created, settings, study, participant)
    db.session.flush()
    return created


def _prepare_emails(
    appointment: Appointment,
    reminders: list[Reminder],
    settings: ReminderSettings,
    study: Study | None,
    participant: Participant | None,
) -> None:
    """Write each new reminder's email now, so the sweep only queues it at its time."""
    if not reminders or study is None or participant is None:
        return
    interviewer = db.session.get(User, appointment.interviewer_id)
    # The booking's appointment has its people and study in the session already; give them
    # to it without a query (its relationships never load lazily).
    set_committed_value(appointment, "study", study)
    set_committed_value(appointment, "participant", participant)
    set_committed_value(appointment, "interviewer", interviewer)
    for reminder in reminders:
        prepare_reminder_email(reminder, appointment, settings)


def cancel_reminders(
    appointment: Appointment, reason: str = "The appointment was cancelled."
) -> int:
    """Cancel the appointment's reminders not yet sent, and their queued outbox messages
    (no commit). Returns how many reminders were cancelled."""
    outbox.cancel_pending(appointment.id, ("reminder",))
    result = db.session.execute(
        update(Reminder)
        .where(Reminder.appointment_id == appointment.id, Reminder.state == ReminderState.PENDING)
        .values(state=ReminderState.CANCELLED, settled_at=now_utc(), last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def move_reminders(appointment: Appointment) -> list[Reminder]:
    """After a reschedule: cancel the pending reminders and plan them for the new time
    (no commit)."""
    cancel_reminders(appointment, "The appointment was moved; planned again for the new time.")
    return plan_reminders(appointment)


def reminders_of(appointment_id: int) -> list[Reminder]:
    return list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.appointment_id == appointment_id)
            .order_by(Reminder.due_at, Reminder.id)
        )
    )


# --- after the outbox ran --------------------------------------------------------------------


def sync_reminder_states(now: dt.datetime | None = None) -> None:
    """Copy the outcome of the outbox into the reminders (commits).

    Reads only pending and failed reminders (the partial index); a reminder message still
    waiting (SMTP down) when its interview starts is withdrawn and the reminder marked missed.
    """
    now = now or now_utc()
    started = select(Appointment.id).where(Appointment.starts_at <= now)
    stale = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.kind == OutboxKind.REMINDER,
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.appointment_id.in_(started),
        )
        .values(state=OutboxState.CANCELLED)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if stale:
        db.session.execute(
            update(Reminder)
            .where(Reminder.outbox_message_id.in_(stale), Reminder.state == ReminderState.PENDING)
            .values(
                state=ReminderState.MISSED,
                settled_at=now,
                last_error="The mail server did not accept it before the interview started.",
            )
            .execution_options(synchronize_session=False)
        )

    def outbox_in(*states: OutboxState):
        return exists().where(
            OutboxMessage.id == Reminder.outbox_message_id, OutboxMessage.state.in_(states)
        )

    for target, source in (
        (ReminderState.SENT, OutboxState.SENT),
        (ReminderState.FAILED, OutboxState.FAILED),
    ):
        db.session.execute(
            update(Reminder)
            .where(Reminder.state == ReminderState.PENDING, outbox_in(source))
            .values(state=target, settled_at=now)
            .execution_options(synchronize_session=False)
        )
    # Retried by hand on the outbox page: pending again.
    db.session.execute(
        update(Reminder)
        .where(
            Reminder.state == ReminderState.FAILED,
            outbox_in(OutboxState.PENDING, OutboxState.SENDING),
        )
        .values(state=ReminderState.PENDING, settled_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# --- the reminders page ----------------------------------------------------------------------


#: The filter "interrupted": claimed by a sender that never confirmed (not a stored state).
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class ReminderFilters:
    state: str = ""


def _interrupted_clause(now: dt.datetime):
    return and_(
        Reminder.state == ReminderState.PENDING,
        exists().where(
            OutboxMessage.id == Reminder.outbox_message_id, outbox.interrupted_clause(now)
        ),
    )


def reminder_query(filters: ReminderFilters, study_id: int | None) -> Select:
    """Reminders with what the list shows loaded; the most urgent states first, then by time."""
    statement = (
        select(Reminder)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .options(
            joinedload(Reminder.appointment).joinedload(Appointment.participant),
            joinedload(Reminder.appointment).joinedload(Appointment.interviewer),
            joinedload(Reminder.outbox_message),
        )
        .order_by(Reminder.due_at.desc(), Reminder.id.desc())
    )
    if study_id is not None:
        statement = statement.where(Appointment.study_id == study_id)
    if filters.state == INTERRUPTED:
        statement = statement.where(_interrupted_clause(now_utc()))
    elif filters.state:
        statement = statement.where(Reminder.state == ReminderState(filters.state))
    return statement


def list_reminders(
    filters: ReminderFilters, page: int, per_page: int, study_id: int | None
) -> Page[Reminder]:
    return paginate(reminder_query(filters, study_id), page, per_page)


@dataclass(frozen=True)
class Attention:
    """What the coordinator must look at: counts of missed, failed and interrupted."""

    missed: int
    failed: int
    interrupted: int

    @property
    def any(self) -> bool:
        return bool(self.missed or self.failed or self.interrupted)


def attention(study_id: int | None) -> Attention:
    """One grouped query: how many reminders of the study were missed, failed or interrupted."""
    now = now_utc()
    statement = select(
        func.coalesce(func.sum(_case(Reminder.state == ReminderState.MISSED)), 0),
        func.coalesce(func.sum(_case(Reminder.state == ReminderState.FAILED)), 0),
        func.coalesce(func.sum(_case(_interrupted_clause(now))), 0),
    ).join(Appointment, Appointment.id == Reminder.appointment_id)
    if study_id is not None:
        statement = statement.where(Appointment.study_id == study_id)
    missed, failed, interrupted = db.session.execute(statement).one()
    return Attention(int(missed), int(failed), int(interrupted))


def _case(condition):
    from sqlalchemy import case

    return case((condition, 1), else_=0)


def get_reminder(reminder_id: int) -> Reminder | None:
    return (
        db.session.scalars(
            select(Reminder)
            .options(
                joinedload(Reminder.appointment).joinedload(Appointment.participant),
                joinedload(Reminder.appointment).joinedload(Appointment.interviewer),
                joinedload(Reminder.outbox_message),
            )
            .where(Reminder.id == reminder_id)
            # Senders work in sessions of their own: read the rows as they are now.
            .execution_options(populate_existing=True)
        )
        .unique()
        .one_or_none()
    )


def is_resendable(reminder: Reminder, now: dt.datetime | None = None) -> bool:
    """Failed, or interrupted mid-send, and the interview still ahead."""
    now = now or now_utc()
    if reminder.appointment.starts_at <= now:
        return False
    if reminder.appointment.status != AppointmentStatus.BOOKED:
        return False
    message = reminder.outbox_message
    if reminder.state == ReminderState.FAILED:
        return message is None or outbox.is_retryable(message)
    return (
        reminder.state == ReminderState.PENDING
        and message is not None
        and outbox.is_interrupted(message, now)
    )


def resend(reminder_id: int) -> Reminder:
    """The coordinator's one-click resend of a failed or interrupted reminder (commits).

    The same outbox message goes again (the outbox's retry), with the same Message-ID, so a
    receiving server that already has it can drop the copy. A reminder that failed before it
    reached the outbox (e.g. an unusable address since corrected) is planned again for now.
    """
    reminder = get_reminder(reminder_id)
    if reminder is None:
        raise ReminderError("There is no such reminder.")
    if not is_resendable(reminder):
        raise ReminderError(
            f"A reminder that is {reminder.state.value} cannot be sent again"
            + (
                " now that the interview has started."
                if reminder.appointment.starts_at <= now_utc()
                else "."
            )
        )
    if reminder.outbox_message is not None:
        try:
            outbox.retry(reminder.outbox_message.id)
        except outbox.OutboxError as error:
            raise ReminderError(str(error)) from error
        reminder.state = ReminderState.PENDING
    else:
        reminder.state = ReminderState.PENDING
        reminder.due_at = now_utc()
        reminder.last_error = ""
    reminder.settled_at = None
    db.session.commit()
    return reminder
