"""The person-level records of the export: contact attempts, appointments, consent forms and
their items, consents and consent answers; dates in the study's zone at the chosen precision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldwork.exports.consent_scope import archivable_participants
from fieldwork.exports.package import (
    DatePrecision,
    Field,
    ForeignKey,
    Table,
    count_field,
    date_field,
    enum_field,
    id_field,
    local_day,
    ordinal_field,
    reference_field,
)
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentForm,
    ConsentFormVersion,
    ConsentItem,
    ContactAttempt,
)
from fieldwork.sampling.models import (
    Participant,
    Study,
)
from fieldwork.scheduling.models import Appointment


def _numbered(rows: Sequence[Sequence], key_position: int = 0) -> list[tuple[Any, int, tuple]]:
    """(key, running number within the key, row) for rows already ordered by key."""
    out = []
    previous, number = None, 0
    for row in rows:
        key = row[key_position]
        number = number + 1 if key == previous else 1
        previous = key
        out.append((key, number, tuple(row)))
    return out


def _contact_attempts(study: Study, zone: ZoneInfo, precision: DatePrecision) -> Table:
    from fieldwork.recruitment.models import ContactChannel

    rows = db.session.execute(
        select(
            Participant.reference,
            ContactAttempt.attempted_at,
            ContactAttempt.channel,
            ContactAttempt.disposition,
        )
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(
            Participant.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(Participant.reference, ContactAttempt.attempted_at, ContactAttempt.id)
    ).all()
    return Table(
        "contact_attempts",
        "Contact attempts",
        "Every try to reach a participant, with its outcome (a disposition code). Notes are "
        "never exported.",
        [
            reference_field(),
            ordinal_field(
                "attempt_number", "1 for the participant's first attempt, 2 for the next, ..."
            ),
            date_field("attempted_on", "The date of the attempt", precision, required=True),
            enum_field("channel", "How the attempt was made.", ContactChannel),
            Field(
                "disposition",
                "string",
                "The outcome: a code of the dispositions resource.",
                {"required": True},
            ),
        ],
        ("participant_reference", "attempt_number"),
        [
            (reference, number, local_day(row[1], zone, precision), row[2], row[3])
            for reference, number, row in _numbered(rows)
        ],
        (
            ForeignKey(("participant_reference",), "participants", ("participant_reference",)),
            ForeignKey(("disposition",), "dispositions", ("code",)),
        ),
        is_person_level=True,
    )


def _appointment_fields(precision: DatePrecision) -> list[Field]:
    """The appointments file's fields: never a place, link or note."""
    from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus

    return [
        reference_field(),
        ordinal_field(
            "appointment_number", "1 for the participant's first appointment, 2 for the next, ..."
        ),
        date_field("appointment_on", "The date of the interview", precision, True),
        enum_field("mode", "How the interview was (to be) held.", AppointmentMode),
        count_field("planned_minutes", "The length booked, in minutes."),
        enum_field(
            "outcome", "What became of the appointment (see the codebook).", AppointmentStatus
        ),
        count_field("actual_minutes", "The real length in minutes, when recorded.", required=False),
        Field("is_recorded", "boolean", "Whether the interview was audio-recorded, when recorded."),
    ]


def _appointments(study: Study, zone: ZoneInfo, precision: DatePrecision) -> Table:
    """Each exported person's appointments, numbered in order of their start."""
    rows = db.session.execute(
        select(
            Participant.reference,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.mode,
            Appointment.status,
            Appointment.actual_minutes,
            Appointment.is_recorded,
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(
            Appointment.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(Participant.reference, Appointment.starts_at, Appointment.id)
    ).all()
    return Table(
        "appointments",
        "Appointments",
        "Interviews booked, with their mode, length and outcome. Places, links and notes are "
        "never exported.",
        _appointment_fields(precision),
        ("participant_reference", "appointment_number"),
        [
            (
                reference,
                number,
                local_day(row[1], zone, precision),
                row[3],
                int((row[2] - row[1]).total_seconds() // 60),
                row[4],
                row[5],
                row[6],
            )
            for reference, number, row in _numbered(rows)
        ],
        (ForeignKey(("participant_reference",), "participants", ("participant_reference",)),),
        is_person_level=True,
    )


def _published_versions(study: Study):
    return (
        select(ConsentFormVersion.id)
        .join(ConsentForm, ConsentForm.id == ConsentFormVersion.form_id)
        .where(ConsentForm.study_id == study.id, ConsentFormVersion.published_at.is_not(None))
    )


def _consent_form_versions(study: Study) -> Table:
    rows = db.session.execute(
        select(
            ConsentFormVersion.id,
            ConsentForm.title,
            ConsentFormVersion.number,
            ConsentFormVersion.published_at,
        )
        .join(ConsentForm, ConsentForm.id == ConsentFormVersion.form_id)
        .where(ConsentFormVersion.id.in_(_published_versions(study)))
        .order_by(ConsentFormVersion.id)
    ).all()
    zone = ZoneInfo(study.timezone)
    return Table(
        "consent_form_versions",
        "Consent form versions",
        "The published versions of the study's consent forms (a published version never "
        "changes; edits make a new version).",
        [
            id_field("consent_form_version_id", "version"),
            Field("form_title", "string", "The consent form's title.", {"required": True}),
            ordinal_field("version_number", "The version's number within its form."),
            Field("published_on", "date", "The day the version was published.", {"required": True}),
        ],
        ("consent_form_version_id",),
        [(r[0], r[1], r[2], local_day(r[3], zone, DatePrecision.DAY)) for r in rows],
    )


def _consent_items(study: Study) -> Table:
    rows = db.session.execute(
        select(
            ConsentItem.version_id,
            ConsentItem.key,
            ConsentItem.position,
            ConsentItem.is_required,
            ConsentItem.text,
        )
        .where(ConsentItem.version_id.in_(_published_versions(study)))
        .order_by(ConsentItem.version_id, ConsentItem.position, ConsentItem.key)
    ).all()
    return Table(
        "consent_items",
        "Consent items",
        "The separate things a participant agrees to in each version (take part, audio "
        "recording, anonymised quotes, archiving, ...).",
        [
            Field(
                "consent_form_version_id",
                "integer",
                "The version the item belongs to.",
                {"required": True},
            ),
            Field(
                "item_key",
                "string",
                "The item's stable name across versions, e.g. "
                "take_part, audio_recording, anonymised_quotes, archiving.",
                {"required": True},
            ),
            Field("position", "integer", "The item's place on the form.", {"required": True}),
            Field(
                "is_required",
                "boolean",
                "True when there is no consent without this item.",
                {"required": True},
            ),
            Field("text", "string", "The item's wording on the form.", {"required": True}),
        ],
        ("consent_form_version_id", "item_key"),
        [tuple(row) for row in rows],
        (
            ForeignKey(
                ("consent_form_version_id",), "consent_form_versions", ("consent_form_version_id",)
            ),
        ),
    )


def _consent_fields(precision: DatePrecision) -> list[Field]:
    """The consents file's fields: never a signature or a reason."""
    from fieldwork.recruitment.models import ConsentMethod, DataHandling

    return [
        reference_field(),
        ordinal_field(
            "consent_number", "1 for the participant's first consent, 2 for the next, ..."
        ),
        Field("consent_form_version_id", "integer", "The version answered.", {"required": True}),
        enum_field("method", "How consent was given.", ConsentMethod),
        date_field("given_on", "The date consent was given", precision, required=True),
        date_field(
            "withdrawn_on", "The date consent was withdrawn (empty if it stands)", precision
        ),
        enum_field(
            "data_handling",
            "For a withdrawn consent: what happens to the data "
            "already gathered (empty if it stands).",
            DataHandling,
            required=False,
        ),
    ]


def _consents(
    study: Study, zone: ZoneInfo, precision: DatePrecision
) -> tuple[Table, dict[int, tuple[str, int]]]:
    """The consents table, and each consent's (reference, number) for the answers table."""
    rows = db.session.execute(
        select(
            Participant.reference,
            Consent.id,
            Consent.version_id,
            Consent.method,
            Consent.given_at,
            Consent.withdrawn_at,
            Consent.data_handling,
        )
        .join(Participant, Participant.id == Consent.participant_id)
        .where(
            Participant.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(Participant.reference, Consent.given_at, Consent.id)
    ).all()
    numbered = _numbered(rows)
    table = Table(
        "consents",
        "Consents",
        "Each participant's answers to a consent form version: how and when given, and any "
        "withdrawal. Signatures and reasons are never exported; the items agreed are in "
        "consent_answers.",
        _consent_fields(precision),
        ("participant_reference", "consent_number"),
        [
            (
                reference,
                number,
                row[2],
                row[3],
                local_day(row[4], zone, precision),
                local_day(row[5], zone, precision),
                row[6],
            )
            for reference, number, row in numbered
        ],
        (
            ForeignKey(("participant_reference",), "participants", ("participant_reference",)),
            ForeignKey(
                ("consent_form_version_id",), "consent_form_versions", ("consent_form_version_id",)
            ),
        ),
        is_person_level=True,
    )
    return table, {row[1]: (reference, number) for reference, number, row in numbered}


def _consent_answers(study: Study, consent_numbers: dict[int, tuple[str, int]]) -> Table:
    rows = db.session.execute(
        select(
            ConsentAnswer.consent_id, Consent.version_id, ConsentItem.key, ConsentAnswer.is_agreed
        )
        .join(Consent, Consent.id == ConsentAnswer.consent_id)
        .join(ConsentItem, ConsentItem.id == ConsentAnswer.item_id)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(
            Participant.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(
            Participant.reference,
            Consent.given_at,
            Consent.id,
            ConsentItem.position,
            ConsentItem.key,
        )
    ).all()
    return Table(
        "consent_answers",
        "Consent answers",
        "The yes or no to each item of each consent.",
        [
            reference_field(),
            Field("consent_number", "integer", "The consent (see consents).", {"required": True}),
            Field(
                "consent_form_version_id", "integer", "The version answered.", {"required": True}
            ),
            Field("item_key", "string", "The item (see consent_items).", {"required": True}),
            Field(
                "is_agreed",
                "boolean",
                "True when the participant agreed to the item.",
                {"required": True},
            ),
        ],
        ("participant_reference", "consent_number", "item_key"),
        [(*consent_numbers[row[0]], row[1], row[2], row[3]) for row in rows],
        (
            ForeignKey(
                ("participant_reference", "consent_number"),
                "consents",
                ("participant_reference", "consent_number"),
            ),
            ForeignKey(
                ("consent_form_version_id", "item_key"),
                "consent_items",
                ("consent_form_version_id", "item_key"),
            ),
        ),
        is_person_level=True,
    )


def build(study: Study, zone: ZoneInfo, precision: DatePrecision) -> list[Table]:
    """The person-level records' tables, in the package's order."""
    consents, consent_numbers = _consents(study, zone, precision)
    return [
        _contact_attempts(study, zone, precision),
        _appointments(study, zone, precision),
        _consent_form_versions(study),
        _consent_items(study),
        consents,
        _consent_answers(study, consent_numbers),
    ]
