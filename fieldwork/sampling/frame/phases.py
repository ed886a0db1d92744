"""Phases: the list with their districts and people, saving and deleting one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.frame.common import (
    FrameFieldError,
    flush_or_refuse,
    people_still_using,
    plural,
    refuse_if,
    require_name,
)
from fieldwork.sampling.models import (
    District,
    Participant,
    Phase,
    Study,
)


@dataclass
class PhaseRow:
    phase: Phase
    districts: int
    participants: int


def phase_rows(study: Study) -> list[PhaseRow]:
    """The study's phases with their numbers of districts and participants, in one query."""
    districts = (
        select(District.phase_id.label("key"), func.count().label("n"))
        .where(District.study_id == study.id)
        .group_by(District.phase_id)
        .subquery()
    )
    people = (
        select(District.phase_id.label("key"), func.count().label("n"))
        .join(Participant, Participant.district_id == District.id)
        .where(District.study_id == study.id)
        .group_by(District.phase_id)
        .subquery()
    )
    statement = (
        select(Phase, func.coalesce(districts.c.n, 0), func.coalesce(people.c.n, 0))
        .outerjoin(districts, districts.c.key == Phase.id)
        .outerjoin(people, people.c.key == Phase.id)
        .where(Phase.study_id == study.id)
        .order_by(Phase.number)
    )
    return [PhaseRow(*row) for row in db.session.execute(statement).all()]


def get_phase(study: Study, phase_id: int) -> Phase | None:
    """A phase of `study`; None for another study's phase, so the page answers 404."""
    return db.session.scalar(select(Phase).where(Phase.id == phase_id, Phase.study_id == study.id))


def districts_in_phase(phase: Phase) -> list[District]:
    return list(
        db.session.scalars(
            select(District).where(District.phase_id == phase.id).order_by(District.name)
        )
    )


@transaction()
def save_phase(
    study: Study,
    phase: Phase | None,
    *,
    number: int | None,
    name: str,
    go_live_on: dt.date | None = None,
) -> Phase:
    """Create (phase=None) or update a phase; its number is unique in the study. Commits."""
    if number is None or not 1 <= number <= 99:
        raise FrameFieldError("number", "Enter a phase number from 1 to 99.")
    name = require_name(name, "phase")
    same_number = select(Phase.id).where(Phase.study_id == study.id, Phase.number == number)
    if phase is not None:
        same_number = same_number.where(Phase.id != phase.id)
    if db.session.scalar(same_number.limit(1)) is not None:
        raise FrameFieldError("number", f"This study already has a phase {number}.")
    if phase is None:
        phase = Phase(study_id=study.id)
        db.session.add(phase)
    phase.number = number
    phase.name = name
    phase.go_live_on = go_live_on
    flush_or_refuse("number", f"This study already has a phase {number}.")
    return phase


def why_not_delete_phase(phase: Phase) -> str | None:
    """Why the phase cannot be deleted yet, or None if it can."""
    reason = people_still_using(
        phase.study_id,
        f"in the districts of {phase.name}",
        "move them to another district",
        phase_id=phase.id,
    )
    if reason:
        return reason
    districts = db.session.scalar(select(func.count()).where(District.phase_id == phase.id))
    if districts:
        return (
            f"{phase.name} still has {plural(districts, 'district')}: move "
            f"{'it' if districts == 1 else 'them'} to another phase or delete "
            f"{'it' if districts == 1 else 'them'} first."
        )
    return None


@transaction()
def delete_phase(phase: Phase) -> None:
    refuse_if(why_not_delete_phase(phase))
    db.session.execute(delete(Phase).where(Phase.id == phase.id))
