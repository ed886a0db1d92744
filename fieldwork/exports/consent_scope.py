"""Who may appear in the person-level resources of the export, and how many are left out.

A participant is in when their latest consent to each form they answered is not withdrawn and
agrees to archiving where the form asks (a re-consent that declines archiving excludes them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select

from fieldwork.exports.package import ARCHIVING_ITEM, Exclusions
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentFormVersion,
    ConsentItem,
)
from fieldwork.sampling.models import (
    Participant,
    Study,
)


def _latest_consents(study: Study):
    """Each participant's latest consent to each form (by when it was given), as a subquery
    of (consent_id, participant_id, withdrawn_at)."""
    ranked = (
        select(
            Consent.id.label("consent_id"),
            Consent.participant_id,
            Consent.withdrawn_at,
            func.row_number()
            .over(
                partition_by=(Consent.participant_id, ConsentFormVersion.form_id),
                order_by=(Consent.given_at.desc(), Consent.id.desc()),
            )
            .label("position"),
        )
        .join(ConsentFormVersion, ConsentFormVersion.id == Consent.version_id)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(Participant.study_id == study.id)
        .subquery()
    )
    return (
        select(ranked.c.consent_id, ranked.c.participant_id, ranked.c.withdrawn_at)
        .where(ranked.c.position == 1)
        .subquery()
    )


def _archiving_answers(agreed: bool):
    return (
        select(ConsentAnswer.consent_id)
        .join(ConsentItem, ConsentItem.id == ConsentAnswer.item_id)
        .where(ConsentItem.key == ARCHIVING_ITEM, ConsentAnswer.is_agreed.is_(agreed))
    )


def archivable_participants(study: Study):
    """A selectable of the ids of the study's participants whose latest consent to some form
    agrees to archiving, and none of whose latest consents (one per form) is withdrawn or
    declines archiving: the only people in person-level resources."""
    latest = _latest_consents(study)
    excluded = select(latest.c.participant_id).where(
        or_(
            latest.c.withdrawn_at.is_not(None),
            latest.c.consent_id.in_(_archiving_answers(False)),
        )
    )
    return select(latest.c.participant_id).where(
        latest.c.withdrawn_at.is_(None),
        latest.c.consent_id.in_(_archiving_answers(True)),
        latest.c.participant_id.not_in(excluded),
    )


def _withdrawn_participants(study: Study):
    latest = _latest_consents(study)
    return select(latest.c.participant_id).where(latest.c.withdrawn_at.is_not(None))


def exclusions_of(study: Study) -> Exclusions:
    """Who is in and why the others are not, in one grouped query."""
    archivable = Participant.id.in_(archivable_participants(study))
    withdrawn = Participant.id.in_(_withdrawn_participants(study))
    has_any = exists().where(Consent.participant_id == Participant.id)

    def count_where(condition) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            func.count(Participant.id),
            count_where(archivable),
            count_where(~has_any),
            count_where(and_(has_any, withdrawn)),
            count_where(and_(has_any, ~withdrawn, ~archivable)),
        ).where(Participant.study_id == study.id)
    ).one()
    return Exclusions(*(int(value) for value in row))
