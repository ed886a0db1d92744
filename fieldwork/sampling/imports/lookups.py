"""The study's frame loaded once per check, by the keys a file names things with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select

from fieldwork.accounts.models import User, UserRole
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    Phase,
    Role,
    Study,
    organisation_district,
)


def quote(text: str, limit: int = 60) -> str:
    """A value from the file, quoted for a message and cut short if long."""
    return f"“{text if len(text) <= limit else text[:limit] + '…'}”"


class ExistingParticipant(NamedTuple):
    """What the checks compare a row with: a participant's fields, not an ORM object (a study
    of 100,000 people loads in a fraction of the time and memory)."""

    id: int
    reference: str
    name: str
    email: str
    organisation_id: int
    role_id: int
    district_id: int
    job_title: str
    phone: str
    notes: str
    interviewer_id: int | None


@dataclass
class StudyLookups:
    """The study's frame by the keys a file names things with (lower-case names, emails)."""

    study: Study
    phases_by_number: dict[int, Phase]
    phases_by_name: dict[str, Phase]
    phase_names: str
    roles: dict[str, Role]
    role_names: str
    districts: dict[str, District]
    organisations: dict[str, Organisation]
    organisations_by_id: dict[int, Organisation]
    #: (organisation id, district id) pairs already recorded as "covers".
    links: set[tuple[int, int]]
    interviewers: dict[str, int]
    #: Each phase as a row wrote it ("1", "Phase 1"), worked out once per spelling.
    phases_by_text: dict[str, Phase | None] = field(default_factory=dict)
    by_reference: dict[str, ExistingParticipant] = field(default_factory=dict)
    by_email: dict[str, ExistingParticipant] = field(default_factory=dict)
    by_name: dict[tuple[str, int], list[ExistingParticipant]] = field(default_factory=dict)


def load_lookups(study: Study) -> StudyLookups:
    """Everything the checks compare rows with, in a fixed handful of queries."""
    phases = db.session.scalars(
        select(Phase).where(Phase.study_id == study.id).order_by(Phase.number)
    ).all()
    roles = db.session.scalars(
        select(Role).where(Role.study_id == study.id).order_by(Role.name)
    ).all()
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.study_id == study.id)
    ).all()
    districts = db.session.scalars(select(District).where(District.study_id == study.id))
    links = db.session.execute(
        select(organisation_district.c.organisation_id, organisation_district.c.district_id)
        .join(Organisation, Organisation.id == organisation_district.c.organisation_id)
        .where(Organisation.study_id == study.id)
    )
    interviewers = db.session.execute(
        select(User.email, User.id).where(
            User.role == UserRole.INTERVIEWER, User.is_enabled.is_(True)
        )
    )
    lookups = StudyLookups(
        study=study,
        phases_by_number={phase.number: phase for phase in phases},
        phases_by_name={phase.name.strip().lower(): phase for phase in phases},
        phase_names=", ".join(phase.name for phase in phases) or "none yet",
        roles={role.name.strip().lower(): role for role in roles},
        role_names="; ".join(role.name for role in roles) or "none yet",
        districts={d.name.strip().lower(): d for d in districts},
        organisations={o.name.strip().lower(): o for o in organisations},
        organisations_by_id={o.id: o for o in organisations},
        links={(organisation_id, district_id) for organisation_id, district_id in links},
        interviewers={email: user_id for email, user_id in interviewers},
    )
    people = db.session.execute(
        select(*(getattr(Participant, name) for name in ExistingParticipant._fields)).where(
            Participant.study_id == study.id
        )
    )
    for person in map(ExistingParticipant._make, people):
        lookups.by_reference[person.reference.strip().upper()] = person
        if person.email:
            lookups.by_email.setdefault(person.email.lower(), person)
        name_key = (person.name.strip().lower(), person.organisation_id)
        lookups.by_name.setdefault(name_key, []).append(person)
    return lookups
