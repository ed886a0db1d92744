"""Reminders as the API answers them, and the filters of their lists."""

from __future__ import annotations

from marshmallow import fields

from fieldwork.api.schemas import Choice, Id, Resource, UtcDateTime, page_of
from fieldwork.outbox import services as outbox
from fieldwork.outbox.schemas import INTERRUPTED, UTC, ByAppointment, study_filter
from fieldwork.reminders.models import Reminder as ReminderRow
from fieldwork.reminders.models import ReminderRecipient, ReminderState


class Reminder(Resource):
    """One planned reminder for one appointment and recipient."""

    id = Id()
    appointment_id = Id()
    study_id = Id(attribute="appointment.study_id")
    recipient = Choice(ReminderRecipient)
    offset_minutes = fields.Integer(metadata={"description": "Minutes before the start."})
    due_at = UtcDateTime(metadata=UTC)
    state = Choice(
        ReminderState,
        metadata={
            "description": "pending until the mail server accepted it; missed when no "
            "scheduler ran before the interview started."
        },
    )
    is_interrupted = fields.Method("interrupted", metadata=INTERRUPTED)
    attempts = fields.Integer()
    last_error = fields.String()
    message_id = fields.String(metadata={"description": "The stable Message-ID header."})
    outbox_message_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(metadata=UTC)
    settled_at = UtcDateTime(allow_none=True, metadata=UTC)

    def interrupted(self, reminder: ReminderRow) -> bool:
        message = reminder.outbox_message
        return message is not None and outbox.is_interrupted(message)


ReminderPage = page_of(Reminder)


# --- Arguments -------------------------------------------------------------------------------


class ReminderArguments(ByAppointment):
    state = Choice(ReminderState, metadata={"description": "Only this state."})
    recipient = Choice(
        ReminderRecipient, metadata={"description": "Only reminders to this kind of recipient."}
    )


class ReminderStudyArguments(ReminderArguments):
    """The deprecated /reminders list: the study by `?study=`, or every study."""

    study = study_filter()
