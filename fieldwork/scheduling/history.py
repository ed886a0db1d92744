"""An appointment's history: one line per booking, move, cancellation and outcome, and the
audit event that goes with each (the participant's own changes are audited as theirs)."""

from __future__ import annotations

import datetime as dt

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.scheduling.models import Appointment, AppointmentChange, ChangeAction


def record_change(
    appointment: Appointment,
    action: ChangeAction,
    actor: User | None,
    *,
    old_starts_at: dt.datetime | None = None,
    new_starts_at: dt.datetime | None = None,
    detail: str = "",
    audited: bool = True,
) -> None:
    """A line of the appointment's history and, unless the caller writes its own (a
    participant's change through their link), the audit event."""
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            changed_at=now_utc(),
            changed_by_id=actor.id if actor else None,
            action=action,
            old_starts_at=old_starts_at,
            new_starts_at=new_starts_at,
            detail=detail,
        )
    )
    if audited:
        _audit_change(appointment, action, actor, old_starts_at=old_starts_at, detail=detail)


#: The audit trail's name for each line of an appointment's history.
AUDIT_ACTIONS = {
    ChangeAction.BOOKED: "appointment.booked",
    ChangeAction.MOVED: "appointment.moved",
    ChangeAction.CANCELLED: "appointment.cancelled",
    ChangeAction.OUTCOME: "appointment.outcome_recorded",
}


def _audit_change(
    appointment: Appointment,
    action: ChangeAction,
    actor: User | None,
    *,
    old_starts_at: dt.datetime | None,
    detail: str,
) -> None:
    """Every booking, move, cancellation and outcome by a user (or the system) is also an
    audit event, no commit; a participant's own changes are written by
    `audit_participant_change` instead."""
    interviewer = db.session.get(User, appointment.interviewer_id)
    after: dict = {
        "starts_at": appointment.starts_at,
        "interviewer": interviewer.name if interviewer else None,
        "mode": appointment.mode.value,
    }
    before = None
    if action == ChangeAction.MOVED:
        before = {"starts_at": old_starts_at}
    elif action == ChangeAction.CANCELLED:
        after["reason"] = detail
    elif action == ChangeAction.OUTCOME:
        after["outcome"] = appointment.status.value
        after["detail"] = detail
    audit.record_event(
        AUDIT_ACTIONS[action],
        actor=actor,
        study_id=appointment.study_id,
        subject_type="appointment",
        subject_id=appointment.id,
        participant_id=appointment.participant_id,
        before=before,
        after=after,
    )


def audit_participant_change(action: str, appointment: Appointment, **after) -> None:
    """An audit event for a participant's own change (there is no user as actor)."""
    audit.record_event(
        action,
        actor=None,
        study_id=appointment.study_id,
        subject_type="appointment",
        subject_id=appointment.id,
        participant_id=appointment.participant_id,
        after={"by": "participant", **after},
    )
