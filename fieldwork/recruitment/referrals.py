"""Who suggested whom (snowball sampling)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    Referral,
)
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.sampling.models import Participant, Study


def find_participant_by_reference(study: Study, reference: str) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(
            Participant.study_id == study.id,
            func.upper(Participant.reference) == reference.strip().upper(),
        )
    )


@transaction()
def record_referral(
    participant: Participant, referred_by: Participant | None, note: str, actor: User | None
) -> Referral:
    """Record who suggested this participant. Commits."""
    if referred_by is not None:
        if referred_by.id == participant.id:
            raise RecruitmentError("A participant cannot refer themselves.")
        if referred_by.study_id != participant.study_id:
            raise RecruitmentError("The referring participant is in another study.")
    referral = Referral(
        participant_id=participant.id,
        referred_by_participant_id=referred_by.id if referred_by else None,
        recorded_by_id=actor.id if actor else None,
        note=(note or "").strip(),
        created_at=now_utc(),
    )
    db.session.add(referral)
    db.session.flush()
    audit.record_event(
        "referral.recorded",
        actor=actor,
        study_id=participant.study_id,
        subject_type="referral",
        subject_id=referral.id,
        participant_id=participant.id,
        after={"referred_by": referred_by.reference if referred_by else None},
    )
    return referral


def referrals_of(participant: Participant) -> dict[str, list[Referral]]:
    """Who referred this participant, and whom they referred (one query)."""
    rows = list(
        db.session.scalars(
            select(Referral)
            .where(
                or_(
                    Referral.participant_id == participant.id,
                    Referral.referred_by_participant_id == participant.id,
                )
            )
            .options(joinedload(Referral.participant), joinedload(Referral.referred_by))
            .order_by(Referral.created_at.desc(), Referral.id.desc())
        )
    )
    return {
        "referred_by": [r for r in rows if r.participant_id == participant.id],
        "referred": [r for r in rows if r.referred_by_participant_id == participant.id],
    }
