"""The steps due soon, for the home page, read with bounded queries.

The board (`fieldwork.pipeline.board`) places every held interview in Python; the home page
needs only the few steps due first and how many there are, so it must not. A step's due date is
working days after the interview's local date, which SQL cannot compute portably, but it only
ever grows with that date: "due by D" is "held on or before the latest date whose due date is
D or earlier", a bound on `starts_at`. Zones shift a local date by at most 14 hours, so rows
well before the bound are counted in SQL, and only the rows within that margin of it (a day's
interviews) are read to check their local date. Each step costs four queries whatever the size
of the study, and reads at most the rows the panel lists plus those sharing their due dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, select

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.pipeline import workdays
from fieldwork.pipeline.models import PipelineEntry, PipelineStep
from fieldwork.pipeline.steps import due_on, steps_of, today_in
from fieldwork.recruitment.models import Consent, DataHandling
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

#: The widest gap between a UTC instant and its local date in any zone (UTC-12 to UTC+14).
ZONE_MARGIN = dt.timedelta(hours=14)


@dataclass(frozen=True)
class DueItem:
    """A step due soon or overdue, for the home page."""

    appointment_id: int
    reference: str
    step_name: str
    due_on: dt.date
    is_overdue: bool


@dataclass(frozen=True)
class DueSteps:
    """The first `limit` steps due, soonest first, and how many are due in all."""

    items: list[DueItem]
    total: int


@dataclass(frozen=True)
class UndoItem:
    """A held interview whose participant asked for their data to be destroyed, with steps done
    that nobody has undone yet."""

    appointment_id: int
    reference: str


def _done(step_ids: list[int]):
    """Entries done (and not undone) for the outer appointment among `step_ids`."""
    return and_(
        PipelineEntry.appointment_id == Appointment.id,
        PipelineEntry.step_id.in_(step_ids),
        PipelineEntry.undone_at.is_(None),
    )


def _destroy_requested() -> Select:
    return select(Consent.participant_id).where(
        Consent.withdrawn_at.is_not(None), Consent.data_handling == DataHandling.DESTROY
    )


def _held(study: Study, viewer: User | None) -> Select:
    statement = select(Appointment.id).where(
        Appointment.study_id == study.id, Appointment.status == AppointmentStatus.HELD
    )
    if viewer is not None and not viewer.is_coordinator:
        statement = statement.where(Appointment.interviewer_id == viewer.id)
    return statement


def _waiting_on(study: Study, viewer: User | None, steps: list[PipelineStep], index: int):
    """Held interviews whose first step not done is `steps[index]` (those of participants
    asking for destruction are the undo list's, not due)."""
    statement = _held(study, viewer).where(Appointment.participant_id.not_in(_destroy_requested()))
    step = steps[index]
    if step.id is None:  # unsaved default steps: nothing is done yet, all wait on the first
        return statement if index == 0 else None
    prior = [earlier.id for earlier in steps[:index]]
    statement = statement.where(~exists().where(_done([step.id])))
    if prior:
        statement = statement.where(
            select(func.count(PipelineEntry.id)).where(_done(prior)).scalar_subquery() == len(prior)
        )
    return statement


def _latest_held(days: int, by: dt.date) -> dt.date:
    """The latest interview date whose step, due `days` working days later, is due by `by`."""
    held = by - dt.timedelta(days=days)  # at least `days` calendar days pass
    while workdays.add_working_days(held, days) > by:
        held -= dt.timedelta(days=1)
    return held


def _before(day: dt.date, margin: dt.timedelta) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) + margin


def _local_day(starts_at: dt.datetime, zone: str) -> dt.date:
    return starts_at.astimezone(ZoneInfo(zone)).date()


def _rows(statement: Select) -> list:
    ids = statement.subquery()
    return list(
        db.session.execute(
            select(
                Appointment.id, Appointment.starts_at, Appointment.timezone, Participant.reference
            )
            .join(Participant, Participant.id == Appointment.participant_id)
            .where(Appointment.id.in_(select(ids.c.id)))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def _count_held_by(waiting: Select, latest: dt.date) -> int:
    """How many of `waiting` were held on or before `latest` (their local date)."""
    next_day = latest + dt.timedelta(days=1)
    surely = db.session.scalar(
        select(func.count()).select_from(
            waiting.where(Appointment.starts_at < _before(next_day, -ZONE_MARGIN)).subquery()
        )
    )
    near = _rows(
        waiting.where(
            Appointment.starts_at >= _before(next_day, -ZONE_MARGIN),
            Appointment.starts_at < _before(next_day, ZONE_MARGIN),
        )
    )
    return (surely or 0) + sum(1 for row in near if _local_day(row[1], row[2]) <= latest)


def due_steps(
    study: Study,
    viewer: User | None,
    limit: int,
    days: int = 5,
    now: dt.datetime | None = None,
) -> DueSteps:
    """Steps overdue or due within `days` working days, soonest first (then by reference), the
    first `limit` of them, and their number (interviewers: their own interviews)."""
    today = today_in(study, now)
    horizon = workdays.add_working_days(today, days)
    steps = steps_of(study, create=False)
    found: list[DueItem] = []
    total = 0
    for index, step in enumerate(steps):
        waiting = _waiting_on(study, viewer, steps, index)
        if waiting is None or step.due_working_days is None:
            continue
        latest = _latest_held(step.due_working_days, horizon)
        total += _count_held_by(waiting, latest)
        # Any `limit` rows bound the limit-th soonest due date: read what falls due by then.
        first = _rows(
            waiting.where(
                Appointment.starts_at < _before(latest + dt.timedelta(days=1), ZONE_MARGIN)
            )
            .order_by(Appointment.starts_at, Appointment.id)
            .limit(limit)
        )
        if not first:
            continue
        by = horizon
        if len(first) == limit:
            by = min(horizon, max(due_on(_local_day(r[1], r[2]), step) or by for r in first))
        last_held = _latest_held(step.due_working_days, by)
        for appointment_id, starts_at, zone, reference in _rows(
            waiting.where(
                Appointment.starts_at < _before(last_held + dt.timedelta(days=1), ZONE_MARGIN)
            )
        ):
            due = due_on(_local_day(starts_at, zone), step)
            if due is not None and due <= by:
                found.append(DueItem(appointment_id, reference, step.name, due, due < today))
    found.sort(key=lambda item: (item.due_on, item.reference))
    return DueSteps(found[:limit], total)


def to_undo(study: Study, viewer: User | None) -> list[UndoItem]:
    """Held interviews (interviewers: their own) whose participant asked for their data to be
    destroyed and that have steps done still to undo, in the order they were held."""
    waiting_undo = and_(
        PipelineEntry.appointment_id == Appointment.id,
        PipelineEntry.undo_required_at.is_not(None),
        PipelineEntry.undone_at.is_(None),
    )
    statement = _held(study, viewer).where(
        Appointment.participant_id.in_(_destroy_requested()), exists().where(waiting_undo)
    )
    return [UndoItem(row[0], row[3]) for row in _rows(statement)]
