"""The grouped SQL queries behind every coverage figure.

Each participant of a study is classified once, in SQL (`participant_facts`), into exactly one
*bucket* of progress and one AAPOR *case type*; the figures of any cell are then one
`GROUP BY` over those facts. No figure is computed by looping over rows in Python, so the
number of queries is the same for 10 participants or 20,000.

A study may count an interview as achieved only once the after-interview pipeline
(``fieldwork.pipeline``) reaches a chosen step; until then its participant is ``pipeline``.
Beside the buckets, ``interviewed`` counts the people with a held interview and a consent that
counts, whatever the pipeline says: the same as ``achieved`` when the study chose no step. The
AAPOR case type I (interview) follows ``interviewed``.

Buckets (mutually exclusive, so a cell's buckets add up to its participants):

``achieved``
    At least one appointment held (and past the study's coverage step, if any), and a
    consent whose take-part item is agreed and that either stands or was withdrawn with the
    data kept (``keep_anonymised``): the interview can still be used. A participant counts
    once however many interviews they gave (quotas are about people). Withdrawn with the
    data destroyed never counts.
``closed``
    Not achieved, and Declined, Ineligible or Withdrawn: will not fill the cell.
``booked``
    Not achieved nor closed, with an appointment still booked for the future.
``pipeline``
    Not achieved, closed nor booked, and Agreed, Scheduled (e.g. the booked time has passed
    without an outcome, or they did not show) or Interviewed without a consent that counts:
    agreed to take part, no interview booked ahead.
``approached``
    None of the above, and ever contacted: status Approached or Unreachable, or any contact
    attempt logged.
``not_approached``
    Everyone else: Identified and never tried.

Case types for the rates are defined in `fieldwork.coverage.rates`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from fieldwork.extensions import db
from fieldwork.pipeline import services as pipeline
from fieldwork.recruitment.dispositions import CATEGORY_BY_CODE, AaporCategory
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentItem,
    ContactAttempt,
    DataHandling,
)
from fieldwork.recruitment.services import TAKE_PART
from fieldwork.sampling.models import District, Organisation, Participant
from fieldwork.sampling.models import RecruitmentStatus as S
from fieldwork.scheduling.models import Appointment
from fieldwork.scheduling.models import AppointmentStatus as A

BUCKETS = ("achieved", "booked", "pipeline", "approached", "not_approached", "closed")
#: How far along each bucket is, for ordering candidates (lower = nearer an interview).
BUCKET_RANK = {"booked": 1, "pipeline": 2, "approached": 3, "not_approached": 4}
CASE_TYPES = ("I", "R", "NC", "O", "U", "NE")
CLOSED_STATUSES = (S.DECLINED, S.INELIGIBLE, S.WITHDRAWN)
AGREED_STATUSES = (S.AGREED, S.SCHEDULED, S.INTERVIEWED)
#: The columns a figures row may be grouped by.
DIMENSIONS = (
    "role_id",
    "phase_id",
    "district_id",
    "district_name",
    "organisation_id",
    "organisation_name",
    "organisation_kind",
)


def _codes(category: AaporCategory) -> list[str]:
    return [code for code, name in CATEGORY_BY_CODE.items() if name == category.value]


def participant_facts(study_id: int, now: dt.datetime) -> Subquery:
    """One row per participant of the study: where they are in a cell, and their case type."""
    appointments = (
        select(
            Appointment.participant_id.label("participant_id"),
            func.sum(case((Appointment.status == A.HELD, 1), else_=0)).label("held"),
            func.sum(case((Appointment.status == A.NO_SHOW, 1), else_=0)).label("no_shows"),
            func.sum(case((Appointment.status == A.CANCELLED_LATE, 1), else_=0)).label(
                "late_cancellations"
            ),
            func.max(
                case(
                    (and_(Appointment.status == A.BOOKED, Appointment.starts_at >= now), 1),
                    else_=0,
                )
            ).label("has_future_booking"),
            func.min(case((Appointment.status == A.HELD, Appointment.starts_at))).label(
                "first_held_at"
            ),
        )
        .where(Appointment.study_id == study_id)
        .group_by(Appointment.participant_id)
        .subquery("appointment_facts")
    )
    consented = (
        select(Consent.participant_id.label("participant_id"))
        .join(Participant, Participant.id == Consent.participant_id)
        .join(ConsentAnswer, ConsentAnswer.consent_id == Consent.id)
        .join(ConsentItem, ConsentItem.id == ConsentAnswer.item_id)
        .where(
            Participant.study_id == study_id,
            ConsentItem.key == TAKE_PART,
            ConsentAnswer.is_agreed.is_(True),
            or_(
                Consent.withdrawn_at.is_(None),
                Consent.data_handling == DataHandling.KEEP_ANONYMISED,
            ),
        )
        .group_by(Consent.participant_id)
        .subquery("consent_facts")
    )
    ranked = (
        select(
            ContactAttempt.participant_id.label("participant_id"),
            ContactAttempt.disposition.label("disposition"),
            func.row_number()
            .over(
                partition_by=ContactAttempt.participant_id,
                order_by=(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc()),
            )
            .label("position"),
        )
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(Participant.study_id == study_id)
        .subquery("ranked_attempts")
    )
    latest = (
        select(ranked.c.participant_id, ranked.c.disposition)
        .where(ranked.c.position == 1)
        .subquery("latest_attempt")
    )

    status = Participant.status
    # The study may count an interview only once its pipeline reaches a step (a setting).
    reached_step = pipeline.reached_step_condition(study_id, Participant.id)
    is_interviewed = and_(
        func.coalesce(appointments.c.held, 0) > 0, consented.c.participant_id.isnot(None)
    )
    is_achieved = and_(is_interviewed, reached_step)
    is_booked = func.coalesce(appointments.c.has_future_booking, 0) == 1
    was_contacted = latest.c.participant_id.isnot(None)
    last = latest.c.disposition

    bucket = case(
        (is_achieved, "achieved"),
        (status.in_(CLOSED_STATUSES), "closed"),
        (is_booked, "booked"),
        (status.in_(AGREED_STATUSES), "pipeline"),
        (or_(status.in_((S.APPROACHED, S.UNREACHABLE)), was_contacted), "approached"),
        else_="not_approached",
    )
    case_type = case(
        (is_interviewed, "I"),
        (status == S.INELIGIBLE, "NE"),
        (status.in_((S.DECLINED, S.WITHDRAWN)), "R"),
        (or_(is_booked, status.in_(AGREED_STATUSES)), "O"),
        (last.in_(_codes(AaporCategory.REFUSAL)), "R"),
        (last.in_(_codes(AaporCategory.INTERVIEW) + _codes(AaporCategory.OTHER)), "O"),
        (last.in_(_codes(AaporCategory.NOT_ELIGIBLE)), "NE"),
        (
            or_(
                last.in_(_codes(AaporCategory.NON_CONTACT)),
                status.in_((S.APPROACHED, S.UNREACHABLE)),
            ),
            "NC",
        ),
        else_="U",
    )
    return (
        select(
            Participant.id.label("participant_id"),
            Participant.role_id.label("role_id"),
            District.phase_id.label("phase_id"),
            Participant.district_id.label("district_id"),
            District.name.label("district_name"),
            Participant.organisation_id.label("organisation_id"),
            Organisation.name.label("organisation_name"),
            Organisation.kind.label("organisation_kind"),
            Participant.interviewer_id.label("interviewer_id"),
            Participant.reference.label("reference"),
            Participant.name.label("name"),
            status.label("status"),
            bucket.label("bucket"),
            case_type.label("case_type"),
            func.coalesce(appointments.c.held, 0).label("held"),
            func.coalesce(appointments.c.no_shows, 0).label("no_shows"),
            func.coalesce(appointments.c.late_cancellations, 0).label("late_cancellations"),
            appointments.c.first_held_at.label("first_held_at"),
            case((is_interviewed, 1), else_=0).label("is_interviewed"),
        )
        .select_from(Participant)
        .join(District, District.id == Participant.district_id)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .outerjoin(appointments, appointments.c.participant_id == Participant.id)
        .outerjoin(consented, consented.c.participant_id == Participant.id)
        .outerjoin(latest, latest.c.participant_id == Participant.id)
        .where(Participant.study_id == study_id)
        .subquery("facts")
    )


def _whole(expression: ColumnElement) -> ColumnElement[int]:
    """A sum as an integer: PostgreSQL sums integers to numeric (Decimal in Python)."""
    return cast(func.coalesce(expression, 0), Integer)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return _whole(func.sum(case((condition, 1), else_=0)))


def figures_statement(
    study_id: int,
    now: dt.datetime,
    by: Sequence[str],
    where: dict[str, object] | None = None,
) -> Select:
    """One row per group of `by` (names from DIMENSIONS): participants per bucket, cases per
    type, appointments per outcome. `where` narrows to dimension values (a drill-down)."""
    facts = participant_facts(study_id, now)
    keys = [facts.c[name] for name in by]
    statement = select(
        *keys,
        func.count().label("participants"),
        *(_count_where(facts.c.bucket == name).label(name) for name in BUCKETS),
        _count_where(facts.c.is_interviewed == 1).label("interviewed"),
        *(_count_where(facts.c.case_type == name).label(f"case_{name}") for name in CASE_TYPES),
        _whole(func.sum(facts.c.held)).label("held_appointments"),
        _whole(func.sum(facts.c.no_shows)).label("no_show_appointments"),
        _whole(func.sum(facts.c.late_cancellations)).label("late_cancellations"),
    )
    for name, value in (where or {}).items():
        statement = statement.where(facts.c[name] == value)
    return statement.group_by(*keys)


def figures(
    study_id: int,
    now: dt.datetime,
    by: Sequence[str],
    where: dict[str, object] | None = None,
) -> list:
    """Run `figures_statement` (one query)."""
    return list(db.session.execute(figures_statement(study_id, now, by, where)))


def weekly_rows(study_id: int, now: dt.datetime) -> list:
    """(kind, day, count) rows in one query: people achieved by the UTC day of their first
    held interview, and appointments booked ahead by the UTC day they start."""
    facts = participant_facts(study_id, now)
    held_day = func.date(facts.c.first_held_at)
    held = (
        select(literal("held").label("kind"), held_day.label("day"), func.count().label("n"))
        .where(facts.c.bucket == "achieved")
        .group_by(held_day)
    )
    booked_day = func.date(Appointment.starts_at)
    booked = (
        select(literal("booked").label("kind"), booked_day.label("day"), func.count().label("n"))
        .where(
            Appointment.study_id == study_id,
            Appointment.status == A.BOOKED,
            Appointment.starts_at >= now,
        )
        .group_by(booked_day)
    )
    return list(db.session.execute(union_all(held, booked)))


def candidates(
    study_id: int,
    now: dt.datetime,
    cells: Sequence[tuple[int, int]],
    per_cell: int,
    interviewer_id: int | None = None,
) -> list:
    """Up to `per_cell` people per (role_id, phase_id) cell who could still fill it (not
    achieved, not closed), nearest an interview first, then by reference; one query.
    `interviewer_id` keeps only the people assigned to that interviewer."""
    if not cells:
        return []
    facts = participant_facts(study_id, now)
    rank = case(*((facts.c.bucket == name, value) for name, value in BUCKET_RANK.items()), else_=9)
    in_cells = or_(
        *(
            and_(facts.c.role_id == role_id, facts.c.phase_id == phase_id)
            for role_id, phase_id in cells
        )
    )
    ordered = select(
        facts,
        rank.label("rank"),
        func.row_number()
        .over(
            partition_by=(facts.c.role_id, facts.c.phase_id),
            order_by=(rank, facts.c.reference),
        )
        .label("position"),
    ).where(in_cells, facts.c.bucket.in_(tuple(BUCKET_RANK)))
    if interviewer_id is not None:
        ordered = ordered.where(facts.c.interviewer_id == interviewer_id)
    ordered = ordered.subquery("ordered")
    return list(
        db.session.execute(
            select(ordered)
            .where(ordered.c.position <= per_cell)
            .order_by(ordered.c.role_id, ordered.c.phase_id, ordered.c.position)
        )
    )
