"""Outbox messages as the API answers them, the filters of their lists, and the pieces the
reminders' schemas share (a reminder is sent as an outbox message)."""

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
from fieldwork.core.studies import MAX_SLUG_LENGTH
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxKind, OutboxState
from fieldwork.outbox.models import OutboxMessage as OutboxRow

#: A UTC time field's documentation.
UTC = {"description": "UTC, ISO 8601."}
#: The `is_interrupted` field's documentation (messages, and reminders through theirs).
INTERRUPTED = {
    "type": "boolean",
    "description": "Its send was interrupted: it may or may not have arrived.",
}


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
    is_interrupted = fields.Method("interrupted", metadata=INTERRUPTED)
    attempts = fields.Integer()
    last_error = fields.String()
    due_at = UtcDateTime(metadata=UTC)
    next_attempt_at = UtcDateTime(metadata=UTC)
    claimed_at = UtcDateTime(allow_none=True, metadata=UTC)
    sent_at = UtcDateTime(allow_none=True, metadata=UTC)
    created_at = UtcDateTime(metadata=UTC)

    def interrupted(self, message: OutboxRow) -> bool:
        return outbox.is_interrupted(message)


OutboxMessagePage = page_of(OutboxMessage)


# --- Arguments -------------------------------------------------------------------------------


class ByAppointment(PageArguments):
    """A page of a list that can be narrowed to one appointment."""

    appointment = WholeNumber(metadata={"description": "Only this appointment, by id."})


class OutboxArguments(ByAppointment):
    state = Choice(OutboxState, metadata={"description": "Only this state."})
    kind = Choice(OutboxKind, metadata={"description": "Only this kind."})


def study_filter() -> fields.String:
    """The deprecated lists' `?study=` (a slug)."""
    return fields.String(
        validate=validate.Length(min=1, max=MAX_SLUG_LENGTH),
        metadata={"description": "Only this study, by slug."},
    )


class OutboxStudyArguments(OutboxArguments):
    """The deprecated /outbox list: the study by `?study=`, or every study."""

    study = study_filter()
