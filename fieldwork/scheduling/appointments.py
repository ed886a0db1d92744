"""Reading appointments: who sees which, one with its history, the filtered list and its CSV."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentMode,
    AppointmentStatus,
)

# --- Who sees what ---------------------------------------------------------------------------


def visible_to(statement: Select, viewer: User | None) -> Select:
    """Interviewers see their own appointments only; coordinators all of the studies they
    coordinate (a membership as coordinator there says so)."""
    if viewer is not None:
        statement = statement.where(
            or_(
                Appointment.study_id.in_(viewer.coordinated_study_ids),
                Appointment.interviewer_id == viewer.id,
            )
        )
    return statement


def with_people(statement: Select) -> Select:
    return statement.options(
        joinedload(Appointment.participant).joinedload(Participant.role),
        joinedload(Appointment.participant).joinedload(Participant.organisation),
        joinedload(Appointment.interviewer),
        joinedload(Appointment.study),
    )


def get_appointment(appointment_id: int, viewer: User | None = None) -> Appointment | None:
    """One appointment with its people, or None when missing or not the viewer's."""
    statement = with_people(select(Appointment).where(Appointment.id == appointment_id))
    return db.session.scalars(visible_to(statement, viewer)).unique().one_or_none()


def get_appointment_with_history(
    appointment_id: int, viewer: User | None = None
) -> Appointment | None:
    statement = with_people(select(Appointment).where(Appointment.id == appointment_id)).options(
        selectinload(Appointment.changes).joinedload(AppointmentChange.changed_by),
        joinedload(Appointment.outcome_recorded_by),
    )
    return db.session.scalars(visible_to(statement, viewer)).unique().one_or_none()


@dataclass
class AppointmentFilters:
    interviewer_id: int | None = None
    status: AppointmentStatus | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    participant_id: int | None = None


def appointment_query(
    study: Study | None, filters: AppointmentFilters, viewer: User | None, zone_name: str
) -> Select:
    """Appointments of a study (or all studies), filtered, soonest first; dates are read in
    `zone_name`."""
    from fieldwork.core.time import to_utc

    statement = with_people(select(Appointment))
    if study is not None:
        statement = statement.where(Appointment.study_id == study.id)
    if filters.interviewer_id:
        statement = statement.where(Appointment.interviewer_id == filters.interviewer_id)
    if filters.participant_id:
        statement = statement.where(Appointment.participant_id == filters.participant_id)
    if filters.status:
        statement = statement.where(Appointment.status == filters.status)
    if filters.from_date:
        statement = statement.where(
            Appointment.starts_at >= to_utc(filters.from_date, dt.time(), zone_name)
        )
    if filters.to_date:
        day_after = filters.to_date + dt.timedelta(days=1)
        statement = statement.where(Appointment.starts_at < to_utc(day_after, dt.time(), zone_name))
    if study is not None and viewer is not None:
        # Narrowed to one study: its coordinators see all of it, anyone else their own (the
        # same rows as `visible_to`, without an OR that keeps an index from counting alone).
        if study.id not in viewer.coordinated_study_ids:
            statement = statement.where(Appointment.interviewer_id == viewer.id)
    else:
        statement = visible_to(statement, viewer)
    return statement.order_by(Appointment.starts_at, Appointment.id)


APPOINTMENT_CSV_HEADER = [
    "starts_at",
    "ends_at",
    "timezone",
    "participant_reference",
    "participant_name",
    "role",
    "organisation",
    "interviewer",
    "mode",
    "place_or_link",
    "status",
    "actual_minutes",
]


def appointment_rows(study: Study, filters: AppointmentFilters, viewer: User | None):
    """The filtered appointments as CSV rows; times ISO 8601 in the study's zone."""
    from fieldwork.core.time import local

    statement = appointment_query(study, filters, viewer, study.timezone)
    for item in db.session.scalars(statement.execution_options(yield_per=500)):
        yield [
            local(item.starts_at, item.timezone).isoformat(),
            local(item.ends_at, item.timezone).isoformat(),
            item.timezone,
            item.participant.reference,
            item.participant.name,
            item.participant.role.name,
            item.participant.organisation.name,
            item.interviewer.name,
            item.mode.label,
            item.video_link if item.mode == AppointmentMode.VIDEO else item.location,
            item.status.label,
            item.actual_minutes,
        ]


def appointment_query_all(
    study: Study | None, filters: AppointmentFilters, viewer: User | None
) -> Select:
    """For the API: dates in UTC, all studies unless one is given."""
    return appointment_query(study, filters, viewer, study.timezone if study else "UTC")


def appointments_of_participant(participant_id: int) -> list[Appointment]:
    """A participant's appointments, newest first, interviewers loaded (one query)."""
    return list(
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.interviewer))
            .where(Appointment.participant_id == participant_id)
            .order_by(Appointment.starts_at.desc())
        ).unique()
    )
