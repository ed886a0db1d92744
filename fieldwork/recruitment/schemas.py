"""Recruitment records as the API answers them (contact attempts, consents, audit events),
and the filters of their lists."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load, validate

from fieldwork.api.schemas import (
    Choice,
    Id,
    PageArguments,
    Resource,
    SortedList,
    Text,
    WholeNumber,
    page_of,
)
from fieldwork.recruitment.dispositions import AaporCategory, Disposition
from fieldwork.recruitment.models import ConsentMethod, ContactChannel, DataHandling
from fieldwork.sampling.schemas import ParticipantReference, Reference

#: Longest action name accepted as a filter.
MAX_ACTION_LENGTH = 60

_WHEN = {"description": "ISO 8601 with a UTC offset."}


class ContactAttempt(Resource):
    """One try to reach a participant, with its outcome."""

    id = Id()
    participant = fields.Nested(ParticipantReference)
    attempted_at = fields.AwareDateTime(metadata=_WHEN)
    channel = Choice(ContactChannel)
    disposition = Choice(
        Disposition, metadata={"description": "The outcome (AAPOR-style disposition code)."}
    )
    aapor_category = Choice(
        AaporCategory,
        attribute="disposition.category",
        metadata={"description": "The code's AAPOR category, for rates."},
    )
    note = Text()
    next_action_on = fields.Date(allow_none=True)
    recorded_by = fields.Nested(Reference, allow_none=True)
    created_at = fields.AwareDateTime(metadata=_WHEN)


class ConsentAnswer(Resource):
    """The participant's answer to one item of the form."""

    key = fields.String(
        attribute="item.key", metadata={"description": "e.g. take_part, audio_recording"}
    )
    text = fields.String(attribute="item.text")
    is_agreed = fields.Boolean()


class ConsentFormReference(Resource):
    """A consent form by id and title."""

    id = Id()
    title = fields.String()


class Consent(Resource):
    """A participant's answers to one consent form version."""

    id = Id()
    participant = fields.Nested(ParticipantReference)
    form = fields.Nested(ConsentFormReference, attribute="version.form")
    version = fields.Integer(attribute="version.number", validate=validate.Range(min=1))
    method = Choice(ConsentMethod)
    given_at = fields.AwareDateTime(metadata=_WHEN)
    recorded_by = fields.Nested(
        Reference,
        allow_none=True,
        metadata={"description": "Null when given online by the participant."},
    )
    typed_name = Text(metadata={"description": "Empty after erasure."})
    answers = SortedList(fields.Nested(ConsentAnswer), key=lambda answer: answer.item.position)
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    withdrawal_reason = Text()
    data_handling = Choice(DataHandling, allow_none=True)


class AuditEvent(Resource):
    """Who changed what, when, with the values before and after."""

    id = Id()
    created_at = fields.AwareDateTime(metadata=_WHEN)
    action = fields.String(metadata={"description": "e.g. participant.status_changed"})
    actor = fields.Nested(
        Reference,
        allow_none=True,
        metadata={"description": "Null for the participant (online) or the system."},
    )
    subject_type = Text()
    subject_id = fields.Integer(allow_none=True)
    participant = fields.Nested(ParticipantReference, allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


ContactAttemptPage = page_of(ContactAttempt)
ConsentPage = page_of(Consent)
AuditEventPage = page_of(AuditEvent)


# --- Arguments -------------------------------------------------------------------------------


class _RecordArguments(PageArguments):
    """An empty filter here means no filter (as these lists always took it)."""

    participant = WholeNumber(metadata={"description": "Only this participant, by id."})

    @pre_load
    def drop_empty_filters(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        paging = set(PageArguments._declared_fields)
        return {
            name: value
            for name, value in data.items()
            if name in paging or str(value).strip() != ""
        }


class ContactAttemptArguments(_RecordArguments):
    disposition = Choice(Disposition, metadata={"description": "Only this outcome."})


class ConsentArguments(_RecordArguments):
    method = Choice(ConsentMethod, metadata={"description": "Only consents given this way."})


class AuditEventArguments(_RecordArguments):
    action = fields.String(
        validate=[
            validate.Length(max=MAX_ACTION_LENGTH, error="must be at most {max} characters."),
            validate.Regexp("^[^\x00]*$", error="must not contain NUL characters."),
        ],
        metadata={"description": "Only this action, e.g. consent.recorded."},
    )
