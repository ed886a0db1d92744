"""Who works on whom: assigning participants to an interviewer.

An interviewer sees and works on the participants assigned to them (and nobody else's), so
every booking assigns its participant to the booking's interviewer, and a coordinator can
assign one participant (their page) or many at once (the participant list's bulk action).
Each change is an audit event ("Sandra assigned P1-017 to Kathryn").
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant


class AssignmentError(ValueError):
    """The assignment cannot be made; the message says why, for the person who asked."""


def set_interviewer(participant: Participant, interviewer: User | None, by: User | None) -> bool:
    """Assign one participant (None: take them off anyone's list), with an audit event. No
    commit: the caller's transaction (a booking, say) writes it. Returns whether it changed."""
    new_id = interviewer.id if interviewer is not None else None
    if participant.interviewer_id == new_id:
        return False
    before = None
    if participant.interviewer_id is not None:
        previous = db.session.get(User, participant.interviewer_id)
        before = previous.name if previous is not None else None
    participant.interviewer_id = new_id
    audit.record_event(
        "participant.assigned",
        actor=by,
        study_id=participant.study_id,
        subject_type="participant",
        subject_id=participant.id,
        participant_id=participant.id,
        before={"interviewer": before},
        after={"interviewer": interviewer.name if interviewer is not None else None},
    )
    return True


def assign_interviewer(
    participant_ids: Iterable[int],
    interviewer_id: int | None,
    by: User | None,
    *,
    study_id: int | None = None,
) -> int:
    """Assign the participants to the interviewer (None unassigns them); commits once.

    Ids that do not exist (or are not in `study_id`, when given) are refused as a whole,
    so nothing is half-done. Returns how many participants changed.
    """
    ids = sorted({int(i) for i in participant_ids})
    if not ids:
        raise AssignmentError("Choose at least one participant.")
    interviewer = None
    if interviewer_id is not None:
        interviewer = db.session.get(User, interviewer_id)
        if interviewer is None or not interviewer.is_enabled:
            raise AssignmentError("That interviewer does not exist or cannot log in.")
    statement = select(Participant).where(Participant.id.in_(ids))
    if study_id is not None:
        statement = statement.where(Participant.study_id == study_id)
    people = list(
        db.session.scalars(statement.options(joinedload(Participant.interviewer))).unique()
    )
    if len(people) != len(ids):
        raise AssignmentError("Some of those participants are not in this study.")
    try:
        changed = sum(set_interviewer(person, interviewer, by) for person in people)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return changed
