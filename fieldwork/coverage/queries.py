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
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Integer,
    Label,
    Select,
    SQLColumnExpression,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)

from fieldwork.core.time import UTCDateTime
from fieldwork.extensions import db
from fieldwork.pipeline.figures import reached_step_condition
from fieldwork.recruitment.dispositions import CATEGORY_BY_CODE, AaporCategory
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentItem,
    ContactAttempt,
    DataHandling,
)
from fieldwork.recruitment.status import TAKE_PART
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

# Every statement here is built once per process around these parameters and bound when it
# runs: building one (hundreds of expression objects) took longer in Python than running it
# on a study of 2,000 people, and a statement built once is also compiled once.
#: The study a statement counts.
STUDY_ID = bindparam("study_id", type_=Integer)
#: The moment it counts at (what is booked ahead).
NOW = bindparam("now", type_=UTCDateTime)


def _codes(category: AaporCategory) -> list[str]:
    return [code for code, name in CATEGORY_BY_CODE.items() if name == category.value]


def _appointment_facts() -> Subquery:
    """Per participant with appointments: held, no-shows, late cancellations, whether one is
    booked ahead, and when the first held one started. One pass over the study's appointments."""
    return (
        select(
            Appointment.participant_id.label("participant_id"),
            func.sum(case((Appointment.status == A.HELD, 1), else_=0)).label("held"),
            func.sum(case((Appointment.status == A.NO_SHOW, 1), else_=0)).label("no_shows"),
            func.sum(case((Appointment.status == A.CANCELLED_LATE, 1), else_=0)).label(
                "late_cancellations"
            ),
            func.max(
                case(
                    (and_(Appointment.status == A.BOOKED, Appointment.starts_at >= NOW), 1),
                    else_=0,
                )
            ).label("has_future_booking"),
            func.min(case((Appointment.status == A.HELD, Appointment.starts_at))).label(
                "first_held_at"
            ),
        )
        .where(Appointment.study_id == STUDY_ID)
        .group_by(Appointment.participant_id)
        .subquery("appointment_facts")
    )


def _has_consent_that_counts(participant_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """A take-part item agreed, on a consent that stands or was withdrawn keeping the data.
    EXISTS, so each participant costs one probe of the consent index, not a grouped pass."""
    return (
        select(Consent.id)
        .join(ConsentAnswer, ConsentAnswer.consent_id == Consent.id)
        .join(ConsentItem, ConsentItem.id == ConsentAnswer.item_id)
        .where(
            Consent.participant_id == participant_id,
            ConsentItem.key == TAKE_PART,
            ConsentAnswer.is_agreed.is_(True),
            or_(
                Consent.withdrawn_at.is_(None),
                Consent.data_handling == DataHandling.KEEP_ANONYMISED,
            ),
        )
        .exists()
    )


def _latest_attempt_of(participant_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """The join to the participant's latest contact attempt (none if never tried): the one
    `fieldwork.recruitment.contacts.mark_latest_attempts` marks `is_latest` when attempts are
    written. A join the database can hash, where finding the latest by date took an index
    probe per participant (or ranking and sorting every attempt)."""
    return and_(ContactAttempt.participant_id == participant_id, ContactAttempt.is_latest)


def _bucket_and_case_type(
    status: ColumnElement,
    is_interviewed: ColumnElement[bool],
    is_achieved: ColumnElement[bool],
    is_booked: ColumnElement[bool],
    last: ColumnElement,
) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """The CASE expressions that put a participant in one bucket and one AAPOR case type."""
    bucket = case(
        (is_achieved, "achieved"),
        (status.in_(CLOSED_STATUSES), "closed"),
        (is_booked, "booked"),
        (status.in_(AGREED_STATUSES), "pipeline"),
        (or_(status.in_((S.APPROACHED, S.UNREACHABLE)), last.isnot(None)), "approached"),
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
    return bucket, case_type


#: The columns that name a person or a place by text: lists need them, counts do not.
NAMING_COLUMNS = (
    "participant_id",
    "district_name",
    "organisation_name",
    "interviewer_id",
    "reference",
    "name",
)


# Long because it is one SELECT: each column and join of the per-participant facts is declared
# here once, in the order the grouped queries read them.
def participant_facts(
    where: Sequence[ColumnElement[bool]] = (),
    naming: bool = True,
) -> Select:
    """One row per participant of the study (STUDY_ID, at NOW): where they are in a cell, and
    their case type.

    `where` narrows the participants first (e.g. to some cells), so the per-participant
    probes run only for them. Without `naming`, the NAMING_COLUMNS are left out (narrower
    rows for a pass that only counts). A SELECT, for callers to wrap as a subquery or a CTE."""
    appointments = _appointment_facts()
    status = Participant.status
    # Computed once per participant in an inner query, then read by the CASEs above it.
    held = func.coalesce(appointments.c.held, 0)
    columns: list[Label[Any]] = [
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
        case((and_(held > 0, _has_consent_that_counts(Participant.id)), 1), else_=0).label(
            "is_interviewed"
        ),
        # The study may count an interview only once its pipeline reaches a step.
        case((reached_step_condition(STUDY_ID, Participant.id.expression), 1), else_=0).label(
            "has_reached_step"
        ),
        func.coalesce(appointments.c.has_future_booking, 0).label("is_booked"),
        ContactAttempt.disposition.label("last_disposition"),
        held.label("held"),
        func.coalesce(appointments.c.no_shows, 0).label("no_shows"),
        func.coalesce(appointments.c.late_cancellations, 0).label("late_cancellations"),
        appointments.c.first_held_at.label("first_held_at"),
    ]
    inner = (
        select(*(c for c in columns if naming or c.name not in NAMING_COLUMNS))
        .select_from(Participant)
        .join(District, District.id == Participant.district_id)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .outerjoin(appointments, appointments.c.participant_id == Participant.id)
        .outerjoin(ContactAttempt, _latest_attempt_of(Participant.id))
        .where(Participant.study_id == STUDY_ID, *where)
        # OFFSET 0 keeps this a subquery of its own (neither database inlines it), so each
        # probe above runs once per participant, not once per CASE branch that reads it.
        .offset(0)
        .subquery("participant_state")
    )
    is_interviewed = inner.c.is_interviewed == 1
    bucket, case_type = _bucket_and_case_type(
        inner.c.status,
        is_interviewed,
        and_(is_interviewed, inner.c.has_reached_step == 1),
        inner.c.is_booked == 1,
        inner.c.last_disposition,
    )
    passed = [c for c in inner.c if c.name not in HELPER_COLUMNS]
    return select(*passed, bucket.label("bucket"), case_type.label("case_type"))


#: Columns of the inner facts query that only feed the bucket and case type.
HELPER_COLUMNS = ("has_reached_step", "is_booked", "last_disposition")


#: The columns a figures row may be grouped or narrowed by.
DIMENSIONS: dict[str, SQLColumnExpression[Any]] = {
    "role_id": Participant.role_id,
    "phase_id": District.phase_id,
    "district_id": Participant.district_id,
    "district_name": District.name,
    "organisation_id": Participant.organisation_id,
    "organisation_name": Organisation.name,
    "organisation_kind": Organisation.kind,
}


_Statement = TypeVar("_Statement", Select, CompoundSelect)


def _run(statement: Select | CompoundSelect, study_id: int, now: dt.datetime, **values) -> list:
    """Run one of these statements for a study at a moment (without JIT on PostgreSQL). Each
    names its study in every part (the view has checked the user may read it), so the per-row
    study guard of `fieldwork.accounts.scoping` is left out: added to each correlated probe it
    would multiply the work (every contact attempt, consent and answer checked again against
    the user's studies)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL would JIT-compile these wide CASE expressions once the estimated cost
        # passes jit_above_cost (from about 10,000 participants): seconds of compiling for a
        # query that runs in tenths of one. Off for the rest of this transaction only.
        db.session.execute(text("SET LOCAL jit = off"))
    parameters = {"study_id": study_id, "now": now, **values}
    return list(db.session.execute(statement, parameters))


def _built_once(statement: _Statement) -> _Statement:
    """A statement kept for the process: with the scoping guard left out (see `_run`)."""
    return statement.execution_options(all_studies=True)


def _whole(expression: ColumnElement) -> ColumnElement[int]:
    """A sum as an integer: PostgreSQL sums integers to numeric (Decimal in Python)."""
    return cast(func.coalesce(expression, 0), Integer)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return _whole(func.sum(case((condition, 1), else_=0)))


def _metric_columns(facts: Subquery | CTE) -> list[ColumnElement[int]]:
    """Per group: participants per bucket, cases per type, appointments per outcome."""
    return [
        func.count().label("participants"),
        *(_count_where(facts.c.bucket == name).label(name) for name in BUCKETS),
        _count_where(facts.c.is_interviewed == 1).label("interviewed"),
        *(_count_where(facts.c.case_type == name).label(f"case_{name}") for name in CASE_TYPES),
        _whole(func.sum(facts.c.held)).label("held_appointments"),
        _whole(func.sum(facts.c.no_shows)).label("no_show_appointments"),
        _whole(func.sum(facts.c.late_cancellations)).label("late_cancellations"),
    ]


#: The names of the metric columns, in the order `_metric_columns` gives them.
METRICS = (
    "participants",
    *BUCKETS,
    "interviewed",
    *(f"case_{name}" for name in CASE_TYPES),
    "held_appointments",
    "no_show_appointments",
    "late_cancellations",
)


@lru_cache(maxsize=32)
def figures_statement(by: tuple[str, ...], narrowed_by: tuple[str, ...] = ()) -> Select:
    """One row per group of `by` (names of DIMENSIONS): participants per bucket, cases per
    type, appointments per outcome. `narrowed_by` names the dimensions a drill-down fixes,
    each bound as ``where_<name>``."""
    narrowed = [DIMENSIONS[name] == bindparam(f"where_{name}") for name in narrowed_by]
    facts = participant_facts(narrowed).subquery("facts")
    keys = [facts.c[name] for name in by]
    return _built_once(select(*keys, *_metric_columns(facts)).group_by(*keys))


def figures(
    study_id: int,
    now: dt.datetime,
    by: Sequence[str],
    where: dict[str, object] | None = None,
) -> list:
    """Figures per group of `by`, narrowed to the dimension values of `where` (one query)."""
    where = where or {}
    statement = figures_statement(tuple(by), tuple(where))
    return _run(statement, study_id, now, **{f"where_{k}": v for k, v in where.items()})


#: The finest cell every dashboard figure adds up from: a finer quota's cell is a union of them.
CELL_KEYS = ("role_id", "phase_id", "district_id", "organisation_kind")


@lru_cache(maxsize=1)
def dashboard_statement() -> CompoundSelect:
    """The statement of `dashboard_rows`."""
    facts = participant_facts(naming=False).cte("facts").prefix_with("MATERIALIZED")
    keys = [facts.c[name] for name in CELL_KEYS]
    metrics = _metric_columns(facts)
    padding = [null() for _ in keys]
    cells = select(literal("cell").label("part"), *keys, null().label("day"), *metrics).group_by(
        *keys
    )
    held_day = func.date(facts.c.first_held_at)
    held = (
        select(literal("held"), *padding, held_day, func.count(), *(null() for _ in metrics[1:]))
        .where(facts.c.bucket == "achieved")
        .group_by(held_day)
    )
    booked_day = func.date(Appointment.starts_at)
    booked = (
        select(
            literal("booked"), *padding, booked_day, func.count(), *(null() for _ in metrics[1:])
        )
        .where(
            Appointment.study_id == STUDY_ID,
            Appointment.status == A.BOOKED,
            Appointment.starts_at >= NOW,
        )
        .group_by(booked_day)
    )
    return _built_once(union_all(cells, held, booked))


def dashboard_rows(study_id: int, now: dt.datetime) -> list:
    """Everything the dashboard counts, in one query over the participant facts computed once
    (a materialised CTE): rows ``part="cell"`` hold the metrics per CELL_KEYS group; rows
    ``part="held"`` count the people achieved by UTC day of their first held interview, and
    ``part="booked"`` the appointments booked ahead by UTC day (both in ``participants``)."""
    return _run(dashboard_statement(), study_id, now)


def next_booked_start(study_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the next booked appointment starts: from then on it no longer counts as booked
    ahead, so figures computed now hold until then at most (one index probe)."""
    return db.session.scalar(
        select(func.min(Appointment.starts_at)).where(
            Appointment.study_id == study_id,
            Appointment.status == A.BOOKED,
            Appointment.starts_at >= now,
        )
    )


@lru_cache(maxsize=2)
def candidates_statement(for_interviewer: bool) -> Select:
    """The statement of `candidates`: the cells' roles and phases bound as ``role_ids`` and
    ``phase_ids`` (every pair of them is ranked; the caller keeps the cells it asked for),
    the number per cell as ``per_cell``, and with `for_interviewer` the interviewer as
    ``interviewer_id``."""
    narrowed: list[ColumnElement[bool]] = [
        # Two plain IN lists rather than one (role, phase) IN list: PostgreSQL plans an OR of
        # pairs for every row several times slower, and extra pairs only add bounded rows.
        Participant.role_id.in_(bindparam("role_ids", expanding=True)),
        District.phase_id.in_(bindparam("phase_ids", expanding=True)),
        # Declined, ineligible or withdrawn people are achieved or closed: never candidates.
        Participant.status.not_in(CLOSED_STATUSES),
    ]
    if for_interviewer:
        narrowed.append(Participant.interviewer_id == bindparam("interviewer_id"))
    facts = participant_facts(narrowed).subquery("facts")
    rank = case(*((facts.c.bucket == name, value) for name, value in BUCKET_RANK.items()), else_=9)
    ordered = (
        select(
            facts,
            rank.label("rank"),
            func.row_number()
            .over(
                partition_by=(facts.c.role_id, facts.c.phase_id),
                order_by=(rank, facts.c.reference),
            )
            .label("position"),
        )
        .where(facts.c.bucket.in_(tuple(BUCKET_RANK)))
        .subquery("ordered")
    )
    return _built_once(
        select(ordered)
        .where(ordered.c.position <= bindparam("per_cell"))
        .order_by(ordered.c.role_id, ordered.c.phase_id, ordered.c.position)
    )


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
    statement = candidates_statement(interviewer_id is not None)
    values: dict[str, object] = {
        "role_ids": sorted({role_id for role_id, _ in cells}),
        "phase_ids": sorted({phase_id for _, phase_id in cells}),
        "per_cell": per_cell,
    }
    if interviewer_id is not None:
        values["interviewer_id"] = interviewer_id
    wanted = set(cells)
    rows = _run(statement, study_id, now, **values)
    return [row for row in rows if (row.role_id, row.phase_id) in wanted]
