"""The whole demo study, domain by domain: the sample frame first, then what builds on it."""

from __future__ import annotations

from fieldwork.extensions import db
from fieldwork.sampling.demo import DEMO_LOGINS, load_demo
from fieldwork.sampling.models import Study

__all__ = ["DEMO_LOGINS", "load_demo_study"]

DEMO_NOT_SENT = "Demo data: invitations to made-up addresses are not sent."


def load_demo_study() -> Study:
    """Load the demo study with its recruitment, appointments and quotas (the database must
    not hold it yet). The invitations its bookings queue are cancelled, not sent."""
    from fieldwork.coverage.demo import load_coverage_demo
    from fieldwork.outbox.services import cancel_study_pending
    from fieldwork.pipeline.demo import load_pipeline_demo
    from fieldwork.recruitment.demo import load_recruitment_demo
    from fieldwork.replies.demo import load_replies_demo
    from fieldwork.scheduling.demo import load_scheduling_demo

    study = load_demo()
    load_recruitment_demo(study)
    load_scheduling_demo(study)
    load_replies_demo(study)
    load_coverage_demo(study)
    load_pipeline_demo(study)
    cancel_study_pending(study.id, DEMO_NOT_SENT)
    fit_fieldwork_window(study)
    db.session.commit()
    return study


def fit_fieldwork_window(study: Study) -> None:
    """Widen the study's fieldwork window to cover every appointment and contact of the demo
    (all dated relative to today), so the demo tells one story. No commit."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from fieldwork.recruitment.models import ContactAttempt
    from fieldwork.sampling.models import Participant
    from fieldwork.scheduling.models import Appointment

    zone = ZoneInfo(study.timezone)
    first_appointment, last_appointment = db.session.execute(
        select(func.min(Appointment.starts_at), func.max(Appointment.starts_at)).where(
            Appointment.study_id == study.id
        )
    ).one()
    first_contact, last_contact, last_follow_up = db.session.execute(
        select(
            func.min(ContactAttempt.attempted_at),
            func.max(ContactAttempt.attempted_at),
            func.max(ContactAttempt.next_action_on),
        )
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(Participant.study_id == study.id)
    ).one()
    days = [
        moment.astimezone(zone).date()
        for moment in (first_appointment, last_appointment, first_contact, last_contact)
        if moment is not None
    ]
    days += [day for day in (last_follow_up,) if day is not None]
    if not days:
        return
    study.fieldwork_starts_on = min([*days, study.fieldwork_starts_on or min(days)])
    study.fieldwork_ends_on = max([*days, study.fieldwork_ends_on or max(days)])
