"""The demo study's interviews after the interview: each held one a little further along."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.pipeline.recording import record_step
from fieldwork.pipeline.steps import due_on, interview_day, setting_of, steps_of
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

DEMO_FILE_LOCATION = "Team drive / interviews"


def load_pipeline_demo(study: Study) -> None:
    """Record the first steps of the demo's held interviews (the n-th held one has n % 7 steps
    done, each on its due day), with made-up file references. Commits."""
    coordinator = db.session.scalar(
        select(User).where(User.role == "coordinator").order_by(User.id).limit(1)
    )
    if coordinator is None:
        return
    steps = steps_of(study)
    setting_of(study)
    held = list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.study_id == study.id, Appointment.status == AppointmentStatus.HELD)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    for number, appointment in enumerate(held):
        held_on = interview_day(appointment)
        for step in steps[: number % (len(steps) + 1)]:
            due = due_on(held_on, step) or held_on
            done_at = dt.datetime.combine(due, dt.time(11), tzinfo=dt.UTC)
            record_step(
                appointment,
                step.id,
                coordinator,
                note="",
                file_name=f"interview-{appointment.id:04d}.{'wav' if step.position < 3 else 'txt'}",
                location=DEMO_FILE_LOCATION,
                now=done_at,
            )
