"""A participant's recruitment status and the domain's errors. Every change of status goes
through `change_status`, which writes an audit event in the same transaction; appointments call
`mark_scheduled`, `mark_unscheduled`, `mark_interviewed` and `has_consent_to_take_part`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import exists, select

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.transactions import hold_rows
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentItem,
)
from fieldwork.sampling.models import Participant, RecruitmentStatus

S = RecruitmentStatus


#: The item whose agreement is consent to take part at all.
TAKE_PART = "take_part"


class RecruitmentError(ValueError):
    """A change the rules do not allow; the message is for the user."""


class ConsentRequired(RecruitmentError):
    """The interview cannot count: no consent to take part is recorded."""


def change_status(
    participant: Participant,
    new_status: RecruitmentStatus,
    actor: User | None,
    reason: str,
    action: str = "participant.status_changed",
    extra: Mapping[str, object] | None = None,
) -> bool:
    """Set the status and write the audit event; no event when nothing changes. No commit."""
    old = participant.status
    if old == new_status and extra is None:
        return False
    participant.status = new_status
    audit.record_event(
        action,
        actor=actor,
        study_id=participant.study_id,
        subject_type="participant",
        subject_id=participant.id,
        participant_id=participant.id,
        before={"status": old.value},
        after={"status": new_status.value, "reason": reason, **(extra or {})},
    )
    return True


def mark_scheduled(participant: Participant, actor: User | None) -> None:
    """An interview was booked: the participant becomes Scheduled. No commit (the booking's
    transaction commits). Interviewed stays Interviewed (a follow-up interview)."""
    if participant.status in (S.WITHDRAWN, S.INELIGIBLE):
        raise RecruitmentError(
            f"{participant.reference} is {participant.status.label.lower()}; "
            "no interview can be booked."
        )
    if participant.status != S.INTERVIEWED:
        change_status(participant, S.SCHEDULED, actor, "interview booked")


def mark_unscheduled(participant: Participant, actor: User | None) -> None:
    """Their only booking was cancelled: Scheduled goes back to Agreed. No commit."""
    if participant.status == S.SCHEDULED:
        change_status(participant, S.AGREED, actor, "interview cancelled")


def mark_interviewed(participant: Participant, actor: User | None) -> None:
    """The interview was held. Refused without recorded consent to take part. No commit."""
    if participant.status == S.WITHDRAWN:
        raise RecruitmentError(f"{participant.reference} has withdrawn.")
    if not has_consent_to_take_part(participant):
        raise ConsentRequired(
            f"Record {participant.reference}'s consent to take part before the interview "
            "can be marked as held."
        )
    change_status(participant, S.INTERVIEWED, actor, "interview held")


def has_consent_to_take_part(participant: Participant) -> bool:
    """True when a consent not withdrawn has the take-part item agreed (one query)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Consent.participant_id == participant.id,
                    Consent.withdrawn_at.is_(None),
                    ConsentAnswer.consent_id == Consent.id,
                    ConsentAnswer.is_agreed.is_(True),
                    ConsentItem.id == ConsentAnswer.item_id,
                    ConsentItem.key == TAKE_PART,
                )
            )
        )
    )


def lock_participant(participant_id: int) -> None:
    """Hold the participant's row until the transaction ends (see docs/concurrency.md: after
    the interviewer's row, before appointments, links and consents). PostgreSQL: FOR UPDATE;
    SQLite: a no-op UPDATE, which takes the database's write lock."""
    hold_rows((Participant, participant_id))
