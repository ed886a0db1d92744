"""Lists of interviews and people that need someone's attention, for the home pages.

Each function returns a list of at most `limit` rows and the total, in a constant number of
queries (one for the rows with their people joined, one count), so the home pages cost the
same however large the study grows. An interviewer (a viewer who is not a coordinator) gets
only their own rows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import aliased, joinedload

from fieldwork.accounts.models import User
from fieldwork.core.pagination import Page, paginate
from fieldwork.core.time import now_utc
from fieldwork.sampling.models import Participant, RecruitmentStatus, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

#: Outcomes that mean the person still has to be booked again.
REBOOK_OUTCOMES = (
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED_LATE,
    AppointmentStatus.CANCELLED,
)

#: Participants in these states are not booked again whatever their last appointment was.
FINISHED_STATUSES = (
    RecruitmentStatus.INTERVIEWED,
    RecruitmentStatus.DECLINED,
    RecruitmentStatus.INELIGIBLE,
    RecruitmentStatus.WITHDRAWN,
    RecruitmentStatus.UNREACHABLE,
)


def _shortlist(statement: Select, limit: int) -> Page:
    """The first `limit` rows and the total: two queries."""
    return paginate(statement, 1, limit)


def _own(statement: Select, viewer: User | None) -> Select:
    if viewer is not None and not viewer.is_coordinator:
        statement = statement.where(Appointment.interviewer_id == viewer.id)
    return statement


def _with_people(statement: Select) -> Select:
    return statement.options(
        joinedload(Appointment.participant).joinedload(Participant.organisation),
        joinedload(Appointment.participant).joinedload(Participant.role),
        joinedload(Appointment.interviewer),
    )


def interviews_between(
    study: Study, viewer: User | None, start: dt.datetime, end: dt.datetime, limit: int = 50
) -> Page:
    """Booked interviews starting in [start, end), soonest first, with their people."""
    statement = _with_people(
        select(Appointment).where(
            Appointment.study_id == study.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    ).order_by(Appointment.starts_at, Appointment.id)
    return _shortlist(_own(statement, viewer), limit)


def outcomes_owed(
    study: Study, viewer: User | None, limit: int = 20, now: dt.datetime | None = None
) -> Page:
    """Interviews whose time is over but which are still only booked: each waits for its
    outcome (held, no-show, cancelled late) and stays listed until it is recorded."""
    statement = _with_people(
        select(Appointment).where(
            Appointment.study_id == study.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at <= (now or now_utc()),
        )
    ).order_by(Appointment.starts_at, Appointment.id)
    return _shortlist(_own(statement, viewer), limit)


def to_rebook(study: Study, viewer: User | None, limit: int = 20) -> Page:
    """People whose latest interview was a no-show or was cancelled, who have nothing booked
    and are still in the running: each is shown with that latest appointment.

    One query for the rows. It starts from the missed and cancelled appointments only (read
    from ix_appointment_study_status_starts) and keeps those with no later appointment and
    nothing booked for their participant (two short probes on
    ix_appointment_participant_starts each), where a window function ranked every
    appointment of the study.
    """
    later = aliased(Appointment)
    booked = aliased(Appointment)
    statement = (
        select(Appointment)
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(
            Appointment.study_id == study.id,
            Appointment.status.in_(REBOOK_OUTCOMES),
            Participant.status.not_in(FINISHED_STATUSES),
            ~exists().where(
                later.participant_id == Appointment.participant_id,
                or_(
                    later.starts_at > Appointment.starts_at,
                    and_(later.starts_at == Appointment.starts_at, later.id > Appointment.id),
                ),
            ),
            ~exists().where(
                booked.participant_id == Appointment.participant_id,
                booked.status == AppointmentStatus.BOOKED,
            ),
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
    )
    if viewer is not None and not viewer.is_coordinator:
        statement = statement.where(Participant.interviewer_id == viewer.id)
    return _shortlist(_with_people(statement), limit)


def to_contact(study: Study, viewer: User, limit: int = 20) -> Page:
    """The viewer's assigned participants who are not yet booked or finished (identified,
    approached, agreed), the least recently changed first: the people they should contact."""
    statement = (
        select(Participant)
        .where(
            Participant.study_id == study.id,
            Participant.interviewer_id == viewer.id,
            Participant.status.in_(
                (
                    RecruitmentStatus.IDENTIFIED,
                    RecruitmentStatus.APPROACHED,
                    RecruitmentStatus.AGREED,
                )
            ),
        )
        .options(joinedload(Participant.organisation), joinedload(Participant.role))
        .order_by(Participant.updated_at, Participant.id)
    )
    return _shortlist(statement, limit)
