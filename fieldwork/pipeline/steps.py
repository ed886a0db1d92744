"""A study's pipeline steps and settings, and when each step falls due.

Due dates are working days after the interview's date in the study's zone
(`fieldwork.pipeline.workdays`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.pipeline import workdays
from fieldwork.pipeline.models import (
    DEFAULT_ANONYMISED_STEP,
    DEFAULT_STEPS,
    PipelineEntry,
    PipelineSetting,
    PipelineStep,
)
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment

MAX_STEPS = 20


MAX_DUE_DAYS = 260  # a year of working days


class PipelineError(ValueError):
    """A request the pipeline refuses; the message is for the user."""


def steps_of(study: Study, create: bool = True) -> list[PipelineStep]:
    """The study's steps in order; a study without any gets the default list (commits then).
    With `create` False nothing is written: a study without steps gets unsaved defaults."""
    steps = list(
        db.session.scalars(
            select(PipelineStep)
            .where(PipelineStep.study_id == study.id)
            .order_by(PipelineStep.position, PipelineStep.id)
        )
    )
    if steps:
        return steps
    if not create:
        return [
            PipelineStep(study_id=study.id, position=position, name=name, due_working_days=days)
            for position, (name, days) in enumerate(DEFAULT_STEPS, start=1)
        ]
    try:
        with transaction():
            for position, (name, days) in enumerate(DEFAULT_STEPS, start=1):
                db.session.add(
                    PipelineStep(
                        study_id=study.id, position=position, name=name, due_working_days=days
                    )
                )
    except IntegrityError:
        pass  # another request made them at the same moment (this insert is rolled back)
    return list(
        db.session.scalars(
            select(PipelineStep)
            .where(PipelineStep.study_id == study.id)
            .order_by(PipelineStep.position, PipelineStep.id)
        )
    )


def setting_of(study: Study) -> PipelineSetting:
    """The study's pipeline settings; made on first use (anonymised = the default step)."""
    setting = db.session.get(PipelineSetting, study.id)
    if setting is not None:
        return setting
    steps = steps_of(study)
    anonymised = next((s for s in steps if s.name == DEFAULT_ANONYMISED_STEP), None)
    try:
        with transaction():
            setting = PipelineSetting(
                study_id=study.id, anonymised_step_id=anonymised.id if anonymised else None
            )
            db.session.add(setting)
    except IntegrityError:  # another request made it at the same moment
        setting = db.session.get_one(PipelineSetting, study.id)
    return setting


@dataclass
class StepSpec:
    """One row of the step editor: an existing step (id) or a new one (id None)."""

    id: int | None
    name: str
    due_working_days: int | None
    position: int
    remove: bool = False


def save_steps(
    study: Study,
    specs: list[StepSpec],
    achieved_step: str | None,
    anonymised_step: str | None,
    actor: User,
) -> list[PipelineStep]:
    """Replace the study's step list (names, due days, order; removals) and the settings, in one
    transaction. `achieved_step`/`anonymised_step` name a step by its (new) name, or None.
    A step some interview has done cannot be removed. Commits."""
    from fieldwork.audit import services as audit

    with transaction():
        existing = {step.id: step for step in steps_of(study)}
        kept, removed = _checked_specs(specs, existing)
        before = [(s.position, s.name, s.due_working_days) for s in existing.values()]
        for step in removed:
            db.session.delete(step)
        ordered = sorted(kept, key=lambda spec: (spec.position, spec.id or 10**9))
        by_name: dict[str, PipelineStep] = {}
        for position, spec in enumerate(ordered, start=1):
            step = existing[spec.id] if spec.id is not None else PipelineStep(study_id=study.id)
            step.position = position
            step.name = spec.name.strip()[:120]
            step.due_working_days = spec.due_working_days
            db.session.add(step)
            by_name[step.name.casefold()] = step
        db.session.flush()
        setting = setting_of(study)
        for attribute, chosen in (
            ("achieved_step_id", achieved_step),
            ("anonymised_step_id", anonymised_step),
        ):
            named = by_name.get(chosen.strip().casefold()) if chosen else None
            if chosen and named is None:
                raise PipelineError("Choose a step of the list for each setting.")
            setattr(setting, attribute, named.id if named else None)
        audit.record_event(
            "pipeline.steps_changed",
            actor=actor,
            study_id=study.id,
            subject_type="study",
            subject_id=study.id,
            before={"steps": before},
            after={"steps": [(s.position, s.name, s.due_working_days) for s in by_name.values()]},
        )
    return steps_of(study)


def _checked_specs(
    specs: list[StepSpec], existing: dict[int, PipelineStep]
) -> tuple[list[StepSpec], list[PipelineStep]]:
    """(the rows kept, the steps removed), or PipelineError with the first problem."""
    kept = [spec for spec in specs if not spec.remove]
    if not kept:
        raise PipelineError("Keep at least one step.")
    if len(kept) > MAX_STEPS:
        raise PipelineError(f"A pipeline has at most {MAX_STEPS} steps.")
    names = [spec.name.strip() for spec in kept]
    if any(not name for name in names):
        raise PipelineError("Give every step a name.")
    if len({name.casefold() for name in names}) != len(names):
        raise PipelineError("Two steps have the same name; give each step its own name.")
    for spec in kept:
        if spec.due_working_days is not None and not 0 <= spec.due_working_days <= MAX_DUE_DAYS:
            raise PipelineError(f"Due days must be between 0 and {MAX_DUE_DAYS}.")
    for spec in specs:
        if spec.id is not None and spec.id not in existing:
            raise PipelineError("That step is not in this study.")
    removed = [existing[spec.id] for spec in specs if spec.remove and spec.id is not None]
    if removed:
        used = db.session.scalar(
            select(func.count(PipelineEntry.id)).where(
                PipelineEntry.step_id.in_([step.id for step in removed])
            )
        )
        if used:
            raise PipelineError(
                "A step that interviews have done cannot be removed "
                f"({', '.join(step.name for step in removed)})."
            )
    return kept, removed


def interview_day(appointment: Appointment) -> dt.date:
    """The interview's date where it was booked (its zone)."""
    return appointment.starts_at.astimezone(ZoneInfo(appointment.timezone)).date()


def due_on(held_on: dt.date, step: PipelineStep) -> dt.date | None:
    """When a step is due: `due_working_days` working days after the interview's date."""
    if step.due_working_days is None:
        return None
    return workdays.add_working_days(held_on, step.due_working_days)


def today_in(study: Study, now: dt.datetime | None = None) -> dt.date:
    return (now or now_utc()).astimezone(ZoneInfo(study.timezone)).date()


def achieved_step(study: Study) -> PipelineStep | None:
    """The step coverage waits for, if the study chose one."""
    setting = db.session.get(PipelineSetting, study.id)
    if setting is None or setting.achieved_step_id is None:
        return None
    return db.session.get(PipelineStep, setting.achieved_step_id)
