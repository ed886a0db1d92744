"""The import's rules for one participant written on its own (the API's create and update).

A participant created or changed one at a time must pass what a row of an import passes: the
same lengths and formats, a role that fits the organisation, an enabled interviewer, and no second
person with the same email, or (without an email) the same name at the same organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from fieldwork.accounts.models import User, UserRole
from fieldwork.extensions import db
from fieldwork.sampling.imports.checks import check_values, value_rules
from fieldwork.sampling.imports.columns import COLUMNS_BY_NAME
from fieldwork.sampling.imports.people import role_misfit
from fieldwork.sampling.models import District, Organisation, Participant, Role, Study

#: The columns a participant's own fields are checked by (the rest name frame things by id).
_PERSON_RULES = value_rules(
    COLUMNS_BY_NAME[name] for name in ("name", "job_title", "email", "phone", "notes")
)


@dataclass(frozen=True)
class ParticipantFields:
    """A participant as it would be saved: its own fields and the ids of what it belongs to."""

    name: str
    role_id: int | None
    organisation_id: int | None
    district_id: int | None
    email: str = ""
    phone: str = ""
    job_title: str = ""
    notes: str = ""
    interviewer_id: int | None = None


@dataclass(frozen=True)
class FieldError:
    """One field's problem: the field's name as `ParticipantFields` spells it, and why."""

    field: str
    message: str


def check_participant(
    study: Study, fields: ParticipantFields, participant: Participant | None = None
) -> list[FieldError]:
    """Every problem with saving `fields` in `study`, as a new participant (None) or as
    `participant`'s new values; an empty list when they may be saved."""
    errors: list[FieldError] = []

    def problem(field: str, message: str) -> None:
        errors.append(FieldError(field, message))

    record = {
        "name": fields.name.strip(),
        "job_title": fields.job_title.strip(),
        "email": fields.email.strip(),
        "phone": fields.phone.strip(),
        "notes": fields.notes.strip(),
    }
    check_values(record, problem, _PERSON_RULES)
    role = _in_study(study, Role, fields.role_id, "role_id", problem)
    organisation = _in_study(
        study, Organisation, fields.organisation_id, "organisation_id", problem
    )
    _in_study(study, District, fields.district_id, "district_id", problem)
    if role is not None and organisation is not None:
        misfit = role_misfit(role, organisation.name, organisation.kind)
        if misfit:
            problem("role_id", misfit)
    if fields.interviewer_id is not None and not _is_interviewer(fields.interviewer_id):
        problem("interviewer_id", "No enabled interviewer has this id.")
    if not errors:
        _check_duplicate(study, record, organisation, participant, problem)
    return errors


def _in_study(study: Study, model, thing_id: int | None, field: str, problem):
    """The study's role, organisation or district with this id; a problem when there is none."""
    what = field.removesuffix("_id")
    if thing_id is None:
        problem(field, f"The {what} is missing; it is required.")
        return None
    thing = db.session.get(model, thing_id)
    if thing is None or thing.study_id != study.id:
        problem(field, f"The study has no {what} with the id {thing_id}.")
        return None
    return thing


def _is_interviewer(user_id: int) -> bool:
    user = db.session.get(User, user_id)
    return user is not None and user.role == UserRole.INTERVIEWER and user.is_enabled


def _check_duplicate(
    study: Study,
    record: dict[str, str],
    organisation: Organisation | None,
    participant: Participant | None,
    problem,
) -> None:
    """The import's matching rules, as refusals: an email, or without one a name at an
    organisation, that names another participant of the study."""
    others = select(Participant.reference).where(Participant.study_id == study.id)
    if participant is not None:
        others = others.where(Participant.id != participant.id)
    email = record["email"].lower()
    if email:
        taken = db.session.scalar(others.where(Participant.email == email).limit(1))
        if taken is not None:
            problem("email", f"{email} is already the email of {taken}.")
        return
    if organisation is None:
        return
    namesake = db.session.scalar(
        others.where(
            Participant.organisation_id == organisation.id,
            func.lower(Participant.name) == record["name"].lower(),
        ).limit(1)
    )
    if namesake is not None:
        problem(
            "name",
            f"{namesake} at {organisation.name} is also called {record['name']}; give this "
            f"person an email address, or update {namesake}.",
        )
