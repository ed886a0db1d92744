"""The pipeline's figures for coverage, reports and the export: grouped SQL, writing nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, exists, func, or_, select

from fieldwork.extensions import db
from fieldwork.pipeline.models import (
    DEFAULT_ANONYMISED_STEP,
    PipelineEntry,
    PipelineSetting,
    PipelineStep,
)
from fieldwork.pipeline.steps import steps_of
from fieldwork.recruitment.models import Consent, DataHandling
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus


@dataclass(frozen=True)
class StepCount:
    """How many held interviews have done a step (and not undone it), by a moment."""

    step_id: int
    position: int
    name: str
    due_working_days: int | None
    done: int
    undone: int
    first_done_on: dt.date | None
    last_done_on: dt.date | None


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def step_counts(study: Study, until: dt.datetime | None = None) -> tuple[int, list[StepCount]]:
    """(held interviews, per step: done, undone, first and last UTC day done), in two grouped
    queries. `until` counts only what was held and done before that moment. Writes nothing."""
    steps = steps_of(study, create=False)
    held_filter = [Appointment.study_id == study.id, Appointment.status == AppointmentStatus.HELD]
    if until is not None:
        held_filter.append(Appointment.starts_at < until)
    held = db.session.scalar(select(func.count(Appointment.id)).where(*held_filter)) or 0
    entry_filter = [PipelineEntry.step_id == PipelineStep.id]
    if until is not None:
        entry_filter.append(PipelineEntry.done_at < until)
    is_undone: ColumnElement[bool] = PipelineEntry.undone_at.is_not(None)
    if until is not None:
        is_undone = and_(is_undone, PipelineEntry.undone_at < until)
    rows = db.session.execute(
        select(
            PipelineStep.id,
            cast(func.count(PipelineEntry.id), Integer).label("entries"),
            cast(func.coalesce(func.sum(case((is_undone, 1), else_=0)), 0), Integer).label(
                "undone"
            ),
            func.min(PipelineEntry.done_at).label("first_done"),
            func.max(PipelineEntry.done_at).label("last_done"),
        )
        .select_from(PipelineStep)
        .outerjoin(
            PipelineEntry,
            and_(
                *entry_filter,
                PipelineEntry.appointment_id.in_(select(Appointment.id).where(*held_filter)),
            ),
        )
        .where(PipelineStep.study_id == study.id)
        .group_by(PipelineStep.id)
    ).all()
    by_id = {row[0]: row for row in rows}
    counts = []
    for step in steps:
        row = by_id.get(step.id)
        entries, undone = (row.entries, row.undone) if row else (0, 0)
        counts.append(
            StepCount(
                step.id,
                step.position,
                step.name,
                step.due_working_days,
                entries - undone,
                undone,
                _as_date(row.first_done) if row else None,
                _as_date(row.last_done) if row else None,
            )
        )
    return held, counts


@dataclass(frozen=True)
class ArchivableTranscript:
    """An anonymised transcript whose participant's consent allows it to be archived."""

    reference: str
    interview_on: dt.date
    anonymised_on: dt.date
    archived_on: dt.date | None


def archivable_transcripts(study: Study, archivable_participants: Select) -> list:
    """Held interviews whose anonymised step is done (not undone) and whose participant is in
    `archivable_participants` (the export's consent rule), with the anonymised and last steps'
    dates; one query (two when the study never saved its settings). Writes nothing."""
    steps = steps_of(study, create=False)
    if steps[0].id is None:
        return []  # no step stored: nothing was ever recorded
    setting = db.session.get(PipelineSetting, study.id)
    if setting is not None:
        anonymised_id = setting.anonymised_step_id
    else:
        anonymised_id = next((s.id for s in steps if s.name == DEFAULT_ANONYMISED_STEP), None)
    if anonymised_id is None:
        return []
    last_step = steps[-1]
    anonymised = (
        select(PipelineEntry.appointment_id, PipelineEntry.done_at)
        .where(PipelineEntry.step_id == anonymised_id, PipelineEntry.undone_at.is_(None))
        .subquery("anonymised")
    )
    archived = (
        select(PipelineEntry.appointment_id, PipelineEntry.done_at)
        .where(PipelineEntry.step_id == last_step.id, PipelineEntry.undone_at.is_(None))
        .subquery("archived")
    )
    rows = db.session.execute(
        select(
            Participant.reference,
            Appointment.starts_at,
            Appointment.timezone,
            anonymised.c.done_at,
            archived.c.done_at,
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .join(anonymised, anonymised.c.appointment_id == Appointment.id)
        .outerjoin(archived, archived.c.appointment_id == Appointment.id)
        .where(
            Appointment.study_id == study.id,
            Appointment.status == AppointmentStatus.HELD,
            Participant.id.in_(archivable_participants),
            ~exists().where(
                Consent.participant_id == Participant.id,
                Consent.withdrawn_at.is_not(None),
                Consent.data_handling == DataHandling.DESTROY,
            ),
        )
        .order_by(Participant.reference, Appointment.starts_at, Appointment.id)
    ).all()
    zone = ZoneInfo(study.timezone)
    return [
        ArchivableTranscript(
            reference,
            starts_at.astimezone(ZoneInfo(timezone)).date(),
            anonymised_at.astimezone(zone).date(),
            archived_at.astimezone(zone).date() if archived_at else None,
        )
        for reference, starts_at, timezone, anonymised_at, archived_at in rows
    ]


def reached_step_condition(
    study_id: int | ColumnElement[int], participant_id: ColumnElement
) -> ColumnElement[bool]:
    """SQL that is true for a participant who counts under the study's coverage step: the
    study chose no step (held is enough), or one of their held interviews has that step done
    and not undone. Pure SQL, so coverage adds no query for it. `study_id` may be a bound
    parameter (coverage builds its statements once and binds the study when they run)."""
    has_step = exists().where(
        PipelineSetting.study_id == study_id, PipelineSetting.achieved_step_id.is_not(None)
    )
    reached = (
        select(Appointment.participant_id)
        .join(PipelineEntry, PipelineEntry.appointment_id == Appointment.id)
        .join(PipelineSetting, PipelineSetting.study_id == Appointment.study_id)
        .where(
            Appointment.study_id == study_id,
            Appointment.status == AppointmentStatus.HELD,
            PipelineEntry.step_id == PipelineSetting.achieved_step_id,
            PipelineEntry.undone_at.is_(None),
        )
    )
    return or_(~has_step, participant_id.in_(reached))
