"""Reminders and outbox messages as the API answers them, and the filters of their lists."""

from __future__ import annotations

from marshmallow import fields, validate

from fieldwork.api.schemas import (
    Choice,
    Id,
    PageArguments,
    Resource,
    UtcDateTime,
    WholeNumber,
    page_of,
)
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxKind, OutboxState
from fieldwork.outbox.models import OutboxMessage as OutboxRow
from fieldwork.reminders.models import Reminder as ReminderRow
from fieldwork.reminders.models import ReminderRecipient, ReminderState
from fieldwork.sampling.queries import MAX_SLUG_LENGTH

_UTC = {"description": "UTC, ISO 8601."}
_INTERRUPTED = {
    "type": "boolean",
    "description": "Its send was interrupted: it may or may not have arrived.",
}


class Reminder(Resource):
    """One planned reminder for one appointment and recipient."""

    id = Id()
    appointment_id = Id()
    study_id = Id(attribute="appointment.study_id")
    recipient = Choice(ReminderRecipient)
    offset_minutes = fields.Integer(metadata={"description": "Minutes before the start."})
    due_at = UtcDateTime(metadata=_UTC)
    state = Choice(
        ReminderState,
        metadata={
            "description": "pending until the mail server accepted it; missed when no "
            "scheduler ran before the interview started."
        },
    )
    is_interrupted = fields.Method("interrupted", metadata=_INTERRUPTED)
    attempts = fields.Integer()
    last_error = fields.String()
    message_id = fields.String(metadata={"description": "The stable Message-ID header."})
    outbox_message_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(metadata=_UTC)
    settled_at = UtcDateTime(allow_none=True, metadata=_UTC)

    def interrupted(self, reminder: ReminderRow) -> bool:
        message = reminder.outbox_message
        return message is not None and outbox.is_interrupted(message)


class OutboxMessage(Resource):
    """One message the tool sends (the MIME text is not served)."""

    id = Id()
    study_id = fields.Integer(allow_none=True)
    appointment_id = fields.Integer(allow_none=True)
    kind = Choice(OutboxKind)
    subject = fields.String()
    sender = fields.String()
    recipients = fields.List(fields.String(), attribute="recipient_list")
    message_id = fields.String()
    state = Choice(OutboxState)
    is_interrupted = fields.Method("interrupted", metadata=_INTERRUPTED)
    attempts = fields.Integer()
    last_error = fields.String()
    due_at = UtcDateTime(metadata=_UTC)
    next_attempt_at = UtcDateTime(metadata=_UTC)
    claimed_at = UtcDateTime(allow_none=True, metadata=_UTC)
    sent_at = UtcDateTime(allow_none=True, metadata=_UTC)
    created_at = UtcDateTime(metadata=_UTC)

    def interrupted(self, message: OutboxRow) -> bool:
        return outbox.is_interrupted(message)


ReminderPage = page_of(Reminder)
OutboxMessagePage = page_of(OutboxMessage)


# --- Arguments -------------------------------------------------------------------------------


class _ByAppointment(PageArguments):
    appointment = WholeNumber(metadata={"description": "Only this appointment, by id."})


class ReminderArguments(_ByAppointment):
    state = Choice(ReminderState, metadata={"description": "Only this state."})
    recipient = Choice(
        ReminderRecipient, metadata={"description": "Only reminders to this kind of recipient."}
    )


class OutboxArguments(_ByAppointment):
    state = Choice(OutboxState, metadata={"description": "Only this state."})
    kind = Choice(OutboxKind, metadata={"description": "Only this kind."})


def _study_filter() -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=MAX_SLUG_LENGTH),
        metadata={"description": "Only this study, by slug."},
    )


class ReminderStudyArguments(ReminderArguments):
    """The deprecated /reminders list: the study by `?study=`, or every study."""

    study = _study_filter()


class OutboxStudyArguments(OutboxArguments):
    """The deprecated /outbox list: the study by `?study=`, or every study."""

    study = _study_filter()
