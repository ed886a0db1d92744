"""Small `make_*` helpers that build test data through the models, committed."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import inspect as sa_inspect

from fieldwork.accounts import services as accounts
from fieldwork.accounts.models import Membership, User
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    Role,
    Study,
)
from fieldwork.sampling.queries import all_study_ids

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)
#: Users made with explicit studies: later studies do not take them in.
_pinned_emails: set[str] = set()


def make_user(
    role: str = "coordinator",
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    timezone: str = "Europe/London",
    *,
    studies: list[Study] | None = None,
    is_administrator: bool | None = None,
) -> User:
    """A user with `role` in `studies`; by default in every study, those that exist and those
    made later (as `flask create-user` without --study, and as coordinators were before
    studies became the unit of access). A coordinator is an administrator unless told."""
    number = next(_sequence)
    email = email or f"{role}{number}@example.org"
    if studies is not None:
        _pinned_emails.add(email.lower())
        study_ids = [study.id for study in studies]
    else:
        study_ids = all_study_ids()
    return accounts.create_user(
        email,
        name or f"{role.capitalize()} {number}",
        role,
        password,
        timezone,
        study_ids=study_ids,
        is_administrator=(role == "coordinator") if is_administrator is None else is_administrator,
    )


def make_membership(user: User, study: Study, role: str | None = None) -> Membership:
    """Put a user in a study (with their default role unless told). Commits."""
    accounts.set_membership(user, study.id, role or user.role)
    return db.session.scalars(
        db.select(Membership).where(Membership.user_id == user.id, Membership.study_id == study.id)
    ).one()


def make_study(
    name: str = "Test study",
    slug: str | None = None,
    phases: int = 2,
    members: list[User] | None = None,
    **fields,
) -> Study:
    """A study with its phases; `members` (by default every user not made for other studies)
    join it with their default role."""
    study = Study(
        slug=slug or f"study-{next(_sequence)}",
        name=name,
        organiser_name="Research team",
        organiser_email="team@example.org",
        **fields,
    )
    db.session.add(study)
    db.session.flush()
    for number in range(1, phases + 1):
        db.session.add(
            Phase(
                study_id=study.id,
                number=number,
                name=f"Phase {number}",
                go_live_on=dt.date(2007, 12, 3) if number == 1 else dt.date(2008, 4, 28),
            )
        )
    if members is None:
        members = [
            user for user in db.session.scalars(db.select(User)) if user.email not in _pinned_emails
        ]
    for user in members:
        db.session.add(Membership(user_id=user.id, study_id=study.id, role=user.role))
        user.forget_study_roles()
    db.session.commit()
    return study


def phase_of(study: Study, number: int) -> Phase:
    return db.session.scalars(
        db.select(Phase).where(Phase.study_id == study.id, Phase.number == number)
    ).one()


def make_district(study: Study, name: str | None = None, phase: int = 1, **fields) -> District:
    district = District(
        study_id=study.id,
        phase_id=phase_of(study, phase).id,
        name=name or f"District {next(_sequence)}",
        **fields,
    )
    db.session.add(district)
    db.session.commit()
    return district


def make_organisation(
    study: Study,
    name: str | None = None,
    kind: OrganisationKind = OrganisationKind.JCP,
    districts: list[District] | None = None,
    **fields,
) -> Organisation:
    organisation = Organisation(
        study_id=study.id,
        name=name or f"Organisation {next(_sequence)}",
        kind=kind,
        districts=list(districts or []),
        **fields,
    )
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_role(
    study: Study,
    name: str | None = None,
    organisation_kind: OrganisationKind = OrganisationKind.JCP,
) -> Role:
    role = Role(
        study_id=study.id,
        name=name or f"Role {next(_sequence)}",
        organisation_kind=organisation_kind,
    )
    db.session.add(role)
    db.session.commit()
    return role


def make_participant(
    study: Study,
    *,
    district: District | None = None,
    organisation: Organisation | None = None,
    role: Role | None = None,
    commit: bool = True,
    **fields,
) -> Participant:
    district = district or make_district(study)
    organisation = organisation or make_organisation(study, districts=[district])
    role = role or make_role(study, organisation_kind=organisation.kind)
    number = next(_sequence)
    fields.setdefault("name", f"Person {number}")
    fields.setdefault("email", f"person{number}@example.org")
    participant = Participant(
        study_id=study.id,
        reference=fields.pop("reference", f"P{district.phase.number}-{number:03d}"),
        district_id=district.id,
        organisation_id=organisation.id,
        role_id=role.id,
        **fields,
    )
    db.session.add(participant)
    if commit:
        db.session.commit()
    return participant


def make_frame(study: Study | None = None) -> dict:
    """A small, complete sample frame: two districts, a JCP office, a provider, roles."""
    study = study or make_study()
    north = make_district(study, "North", phase=1)
    south = make_district(study, "South", phase=2)
    jcp = make_organisation(study, "Jobcentre Plus North", OrganisationKind.JCP, [north])
    provider = make_organisation(
        study, "Acme Employment", OrganisationKind.LEAD_PROVIDER, [north, south]
    )
    tppm = make_role(study, "JCP Third Party Provision Manager", OrganisationKind.JCP)
    manager = make_role(study, "Lead provider manager", OrganisationKind.LEAD_PROVIDER)
    return {
        "study": study,
        "north": north,
        "south": south,
        "jcp": jcp,
        "provider": provider,
        "tppm": tppm,
        "manager": manager,
    }


def id_of(instance) -> int:
    """The primary key of a loaded instance without loading it again (it may be deleted)."""
    return sa_inspect(instance).identity[0]
