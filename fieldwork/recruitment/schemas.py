"""Recruitment records as the API answers them (contact attempts, consents, audit events,
consent links), the filters of their lists, and the bodies of its writes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from fieldwork.api.schemas import (
    Choice,
    EmptyFiltersPageArguments,
    Id,
    Resource,
    RowId,
    SortedList,
    StrictBoolean,
    Text,
    WholeNumber,
    page_of,
)
from fieldwork.core.time import now_utc
from fieldwork.recruitment.dispositions import AaporCategory, Disposition
from fieldwork.recruitment.links import CONSENT_LINK_DAYS
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


class _RecordArguments(EmptyFiltersPageArguments):
    participant = WholeNumber(metadata={"description": "Only this participant, by id."})


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


class ConsentLink(Resource):
    """A private online consent link: its URL is shown once (only a hash is kept)."""

    id = Id()
    participant_id = Id()
    version_id = Id(metadata={"description": "The consent form version it asks about."})
    url = fields.String(metadata={"format": "uri", "description": "The link; shown once."})
    expires_at = fields.AwareDateTime()
    sent = fields.Boolean(metadata={"description": "Emailed to the participant (outbox)."})


# --- Bodies of writes ------------------------------------------------------------------------


class _Body(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class NewContactAttempt(_Body):
    """A contact attempt to record."""

    class Meta(_Body.Meta):
        description = (
            "A contact attempt to record. The participant's status moves by the "
            "disposition's rule; a call back without a date is due the next working day."
        )

    channel = Choice(ContactChannel, required=True)
    disposition = Choice(Disposition, required=True)
    attempted_at = fields.AwareDateTime(
        load_default=now_utc,
        metadata={"description": "When (ISO 8601 with an offset); now when left out."},
    )
    note = fields.String(validate=validate.Length(max=4000))
    next_action_on = fields.Date(allow_none=True)


class NewConsent(_Body):
    """A participant's consent to record."""

    class Meta(_Body.Meta):
        description = (
            "A participant's consent, written or verbal, to a published version of a "
            "consent form: every required item must be agreed."
        )

    version_id = RowId(required=True)
    method = Choice(ConsentMethod, required=True)
    answers = fields.Dict(
        keys=fields.String(),
        values=StrictBoolean(),
        required=True,
        metadata={"description": "Each item's key with true (agreed) or false."},
    )
    given_at = fields.AwareDateTime(metadata={"description": "When; now when left out."})
    typed_name = fields.String(validate=validate.Length(max=200))


class NewConsentLink(_Body):
    """A consent link to create."""

    class Meta(_Body.Meta):
        description = (
            "A private online consent link to a published version; `send` also emails it "
            "to the participant through the outbox (in the study's consent-request words)."
        )

    version_id = RowId(required=True)
    days = fields.Integer(
        strict=True,
        load_default=CONSENT_LINK_DAYS,
        validate=validate.Range(min=1, max=90),
        metadata={"description": f"How long it works (default {CONSENT_LINK_DAYS} days)."},
    )
    send = StrictBoolean(load_default=False)
