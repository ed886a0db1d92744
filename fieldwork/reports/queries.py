"""The one list the weekly report reads itself: interviews in a span, by reference only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.sampling.models import District, Participant, Phase, Role, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

#: Interviews the report lists: held, booked, missed (a cancelled one is not an interview).
LISTED = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.HELD,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED_LATE,
)
#: The list is for reading, not for the whole study: a busy week shows its first 200.
LIMIT = 200


def interviews_between(study: Study, starts_at: dt.datetime, ends_at: dt.datetime) -> list:
    """(starts_at, reference, role, phase, mode, status) of the study's interviews starting in
    [starts_at, ends_at), in time order; one query, no names."""
    return list(
        db.session.execute(
            select(
                Appointment.starts_at,
                Participant.reference,
                Role.name.label("role"),
                Phase.name.label("phase"),
                Appointment.mode,
                Appointment.status,
            )
            .join(Participant, Participant.id == Appointment.participant_id)
            .join(Role, Role.id == Participant.role_id)
            .join(District, District.id == Participant.district_id)
            .join(Phase, Phase.id == District.phase_id)
            .where(
                Appointment.study_id == study.id,
                Appointment.starts_at >= starts_at,
                Appointment.starts_at < ends_at,
                Appointment.status.in_(LISTED),
            )
            .order_by(Appointment.starts_at, Participant.reference)
            .limit(LIMIT)
        )
    )
