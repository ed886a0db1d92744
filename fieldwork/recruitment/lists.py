"""Contact attempts as a downloadable list, for the participants a list is filtered to."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from fieldwork.core.time import local
from fieldwork.extensions import db
from fieldwork.recruitment.models import ContactAttempt
from fieldwork.sampling.models import Participant

CONTACT_CSV_HEADER = [
    "participant_reference",
    "participant_name",
    "attempted_at",
    "channel",
    "disposition",
    "aapor_category",
    "note",
    "next_action_on",
    "recorded_by",
]


def contact_attempt_rows(participants: Select, zone_name: str) -> Iterator[list]:
    """Every contact attempt of the participants `participants` selects, by reference and
    time; times ISO 8601 in `zone_name`."""
    ids = participants.with_only_columns(Participant.id).order_by(None).scalar_subquery()
    statement = (
        select(ContactAttempt)
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(ContactAttempt.participant_id.in_(ids))
        .options(joinedload(ContactAttempt.participant), joinedload(ContactAttempt.recorded_by))
        .order_by(Participant.reference, ContactAttempt.attempted_at, ContactAttempt.id)
        .execution_options(yield_per=500)
    )
    for attempt in db.session.scalars(statement):
        yield [
            attempt.participant.reference,
            attempt.participant.name,
            local(attempt.attempted_at, zone_name).isoformat(),
            attempt.channel.label,
            attempt.disposition.label,
            attempt.disposition.category.label,
            attempt.note,
            attempt.next_action_on.isoformat() if attempt.next_action_on else "",
            attempt.recorded_by.name if attempt.recorded_by else "",
        ]
