"""Where each held interview is in the pipeline, and the board of a study's interviews.

The board arranges held interviews in Python because a due date in working days (bank
holidays) is calendar arithmetic that SQL cannot do portably; its queries are a fixed number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.pipeline.models import (
    PipelineEntry,
    PipelineStep,
)
from fieldwork.pipeline.steps import due_on, interview_day, steps_of, today_in
from fieldwork.recruitment.models import Consent, DataHandling
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

#: How many interviews a board column shows before "show all".
COLUMN_LIMIT = 20


@dataclass
class StepState:
    """A step of one interview: done (its entry), or waiting with its due date."""

    step: PipelineStep
    entry: PipelineEntry | None
    due_on: dt.date | None
    is_overdue: bool

    @property
    def is_done(self) -> bool:
        return self.entry is not None and self.entry.is_done


@dataclass
class InterviewProgress:
    """Where one held interview is in the pipeline."""

    appointment: Appointment
    held_on: dt.date
    steps: list[StepState]
    #: The participant withdrew asking for their data to be destroyed.
    must_destroy: bool = False

    @property
    def current(self) -> StepState | None:
        """The first step not done (None when every step is done)."""
        return next((state for state in self.steps if not state.is_done), None)

    @property
    def is_overdue(self) -> bool:
        current = self.current
        return bool(current and current.is_overdue and not self.must_destroy)

    @property
    def to_undo(self) -> list[PipelineEntry]:
        """Steps done that consent asks to undo and nobody has undone yet."""
        return [s.entry for s in self.steps if s.entry is not None and s.entry.is_waiting_undo]

    @property
    def undone(self) -> list[PipelineEntry]:
        return [s.entry for s in self.steps if s.entry is not None and s.entry.undone_at]

    @property
    def reference(self) -> str:
        return self.appointment.participant.reference


def _held(study: Study, viewer: User | None) -> Select:
    statement = (
        select(Appointment)
        .where(Appointment.study_id == study.id, Appointment.status == AppointmentStatus.HELD)
        .options(
            joinedload(Appointment.participant).joinedload(Participant.role),
            joinedload(Appointment.interviewer),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if viewer is not None and not viewer.is_coordinator:
        statement = statement.where(Appointment.interviewer_id == viewer.id)
    return statement


def destroy_requested(participant_ids: Iterable[int]) -> set[int]:
    """Participants with a consent withdrawn asking for their data to be destroyed."""
    ids = list(set(participant_ids))
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Consent.participant_id).where(
                Consent.participant_id.in_(ids),
                Consent.withdrawn_at.is_not(None),
                Consent.data_handling == DataHandling.DESTROY,
            )
        )
    )


def _progress(
    appointments: list[Appointment], steps: list[PipelineStep], today: dt.date
) -> list[InterviewProgress]:
    """Three queries whatever the number: entries, destroy requests (appointments given)."""
    ids = [a.id for a in appointments]
    entries: dict[tuple[int, int], PipelineEntry] = {}
    if ids:
        for entry in db.session.scalars(
            select(PipelineEntry)
            .where(PipelineEntry.appointment_id.in_(ids))
            .options(joinedload(PipelineEntry.done_by), joinedload(PipelineEntry.undone_by))
        ):
            entries[(entry.appointment_id, entry.step_id)] = entry
    destroy = destroy_requested(a.participant_id for a in appointments)
    result = []
    for appointment in appointments:
        held_on = interview_day(appointment)
        states = []
        for step in steps:
            found = entries.get((appointment.id, step.id))
            due = due_on(held_on, step)
            done = found is not None and found.is_done
            states.append(StepState(step, found, due, bool(due and not done and due < today)))
        result.append(
            InterviewProgress(
                appointment, held_on, states, must_destroy=appointment.participant_id in destroy
            )
        )
    return result


def interview_progress(
    appointment: Appointment, study: Study, now: dt.datetime | None = None
) -> InterviewProgress:
    """One held interview's steps with their entries and due dates."""
    return _progress([appointment], steps_of(study), today_in(study, now))[0]


@dataclass
class Column:
    """The interviews waiting on one step (or complete), overdue first."""

    key: str
    label: str
    step: PipelineStep | None
    interviews: list[InterviewProgress] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.interviews if item.is_overdue)

    @property
    def shown(self) -> list[InterviewProgress]:
        return self.interviews[:COLUMN_LIMIT]


@dataclass
class Board:
    """Every held interview of the study by the step it waits on."""

    study: Study
    today: dt.date
    steps: list[PipelineStep]
    columns: list[Column]
    #: Interviews whose participant asked for their data to be destroyed, with steps to undo.
    to_undo: list[InterviewProgress]

    @property
    def total(self) -> int:
        return sum(len(column.interviews) for column in self.columns)

    @property
    def overdue(self) -> int:
        return sum(column.overdue for column in self.columns)


def _sort_key(item: InterviewProgress):
    current = item.current
    due = current.due_on if current else None
    return (not item.is_overdue, due or dt.date.max, item.held_on, item.appointment.id)


def board_of(study: Study, viewer: User | None = None, now: dt.datetime | None = None) -> Board:
    """The board: a column per step plus "Complete", overdue interviews first, then by due date.
    Interviewers see their own interviews. A fixed number of queries."""
    today = today_in(study, now)
    # Reading writes nothing (the home page renders panels after the board is made, so a
    # commit here would expire what other panels loaded): unsaved defaults if none are stored.
    steps = steps_of(study, create=False)
    items = _progress(list(db.session.scalars(_held(study, viewer)).unique()), steps, today)
    columns = {step.position: Column(f"step-{step.position}", step.name, step) for step in steps}
    complete = Column("complete", "Complete", None)
    to_undo = []
    for item in items:
        if item.must_destroy:
            if item.to_undo:
                to_undo.append(item)
            continue
        current = item.current
        (columns[current.step.position] if current else complete).interviews.append(item)
    ordered = [*columns.values(), complete]
    for column in ordered:
        column.interviews.sort(key=_sort_key)
    return Board(study, today, steps, ordered, to_undo)
