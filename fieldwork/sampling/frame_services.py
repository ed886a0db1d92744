"""Rules for the sample frame's scaffolding: studies, phases, districts, organisations, roles.

Every change goes through a `save_*` or `delete_*` function here. A change that breaks a rule
raises `FrameFieldError` (a `FrameError`) naming the form field the message belongs beside, so
the page can show it there. List functions load what a row shows, counts included, in one query
per page (plus one COUNT), whatever the size of the study.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from fieldwork.core.pagination import Page
from fieldwork.core.spreadsheet import refuse_formula_name
from fieldwork.core.time import is_valid_timezone
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    Role,
    Study,
    organisation_district,
)
from fieldwork.sampling.services import FrameError

if TYPE_CHECKING:
    from fieldwork.accounts.models import User

T = TypeVar("T")

#: Lower-case letters, digits and inner hyphens: safe in URLs and on the command line.
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
#: Slugs that would collide with the pages under /studies/.
RESERVED_SLUGS = frozenset({"new"})
INTERVIEW_MINUTES_RANGE = (15, 480)


class FrameFieldError(FrameError):
    """A FrameError about one field; `field` is the name of the form field it belongs beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _people(count: int) -> str:
    """'1 participant is' / '3 participants are', for messages."""
    return f"{count} participant is" if count == 1 else f"{count} participants are"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _commit_or_refuse(field: str, message: str) -> None:
    """Commit; if a unique constraint fires anyway (two people saving at once), say so."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise FrameFieldError(field, message)


def _name_taken(model: Any, study_id: int, name: str, except_id: int | None) -> bool:
    """True when another row of `model` in the study has this name, ignoring case."""
    statement = select(model.id).where(
        model.study_id == study_id, func.lower(model.name) == name.lower()
    )
    if except_id is not None:
        statement = statement.where(model.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None


def _require_name(name: str | None, what: str) -> str:
    cleaned = _clean(name)
    if not cleaned:
        raise FrameFieldError("name", f"Enter the {what}'s name.")
    refusal = refuse_formula_name(cleaned, what)
    if refusal:
        raise FrameFieldError("name", refusal)
    return cleaned


def _page_of_rows(
    count_statement: Select,
    rows_statement: Select,
    page: int,
    per_page: int,
    make_row: Callable[[Any], T],
) -> Page[T]:
    """Like core.pagination.paginate, for statements that select an entity and its counts."""
    total = (
        db.session.scalar(
            select(func.count()).select_from(count_statement.order_by(None).subquery())
        )
        or 0
    )
    page = min(page, max(1, math.ceil(total / per_page)))
    result = db.session.execute(rows_statement.limit(per_page).offset((page - 1) * per_page))
    return Page(
        items=[make_row(row) for row in result.unique().all()],
        page=page,
        per_page=per_page,
        total=total,
    )


def _participants_per(column: Any, study: Study):
    """A grouped subquery: (key, n) participants of the study per value of `column`."""
    return (
        select(column.label("key"), func.count().label("n"))
        .where(Participant.study_id == study.id)
        .group_by(column)
        .subquery()
    )


# --- Studies ---------------------------------------------------------------------------------


@dataclass
class StudyRow:
    study: Study
    districts: int
    participants: int


def study_rows() -> list[StudyRow]:
    """Every study with its number of districts and participants, in one query."""
    districts = (
        select(District.study_id.label("key"), func.count().label("n"))
        .group_by(District.study_id)
        .subquery()
    )
    people = (
        select(Participant.study_id.label("key"), func.count().label("n"))
        .group_by(Participant.study_id)
        .subquery()
    )
    statement = (
        select(Study, func.coalesce(districts.c.n, 0), func.coalesce(people.c.n, 0))
        .outerjoin(districts, districts.c.key == Study.id)
        .outerjoin(people, people.c.key == Study.id)
        .order_by(Study.name, Study.id)
    )
    return [StudyRow(*row) for row in db.session.execute(statement).all()]


@dataclass
class StudySummary:
    """What the study page shows beside the study's own fields."""

    phases: list[PhaseRow]
    districts: int
    placeholder_districts: int
    organisations: int
    roles: int
    participants: int


def study_summary(study: Study) -> StudySummary:
    """The study's phases and the size of its frame, in two queries."""
    totals = db.session.execute(
        select(
            select(func.count()).where(District.study_id == study.id).scalar_subquery(),
            select(func.count())
            .where(District.study_id == study.id, District.is_placeholder.is_(True))
            .scalar_subquery(),
            select(func.count()).where(Organisation.study_id == study.id).scalar_subquery(),
            select(func.count()).where(Role.study_id == study.id).scalar_subquery(),
            select(func.count()).where(Participant.study_id == study.id).scalar_subquery(),
        )
    ).one()
    return StudySummary(phase_rows(study), *totals)


def save_study(
    study: Study | None,
    *,
    name: str,
    slug: str,
    description: str = "",
    timezone: str = "Europe/London",
    fieldwork_starts_on: dt.date | None = None,
    fieldwork_ends_on: dt.date | None = None,
    organiser_name: str = "",
    organiser_email: str = "",
    interview_minutes: int | None = 60,
) -> Study:
    """Create (study=None) or update a study after checking its rules. Commits."""
    name = _require_name(name, "study")
    slug = _clean(slug)
    if not SLUG_PATTERN.match(slug) or len(slug) > 60:
        raise FrameFieldError(
            "slug",
            "Use lower-case letters, digits and hyphens only (not at the start or end), "
            "up to 60 characters, such as pl-pathways.",
        )
    if slug in RESERVED_SLUGS:
        raise FrameFieldError("slug", f"“{slug}” is reserved: choose another short name.")
    same_slug = select(Study.id).where(Study.slug == slug)
    if study is not None:
        same_slug = same_slug.where(Study.id != study.id)
    if db.session.scalar(same_slug.limit(1)) is not None:
        raise FrameFieldError("slug", f"Another study already uses the short name {slug}.")
    timezone = _clean(timezone)
    if not is_valid_timezone(timezone):
        raise FrameFieldError(
            "timezone", "Choose a time zone from the list, such as Europe/London."
        )
    if fieldwork_starts_on and fieldwork_ends_on and fieldwork_ends_on < fieldwork_starts_on:
        raise FrameFieldError(
            "fieldwork_ends_on", "The end of fieldwork must be on or after its start."
        )
    low, high = INTERVIEW_MINUTES_RANGE
    if interview_minutes is None or not low <= interview_minutes <= high:
        raise FrameFieldError(
            "interview_minutes", f"An interview lasts between {low} and {high} minutes."
        )
    organiser_email = _clean(organiser_email)
    if not organiser_email:
        raise FrameFieldError(
            "organiser_email", "Enter the email address invitations are sent from."
        )
    try:
        validate_email(organiser_email, check_deliverability=False)
    except EmailNotValidError:
        raise FrameFieldError(
            "organiser_email", "Enter an email address like research@example.org."
        )
    if study is None:
        study = Study()
        db.session.add(study)
    study.name = name
    study.slug = slug
    study.description = _clean(description)
    study.timezone = timezone
    study.fieldwork_starts_on = fieldwork_starts_on
    study.fieldwork_ends_on = fieldwork_ends_on
    study.organiser_name = _clean(organiser_name)
    study.organiser_email = organiser_email
    study.interview_minutes = interview_minutes
    _commit_or_refuse("slug", f"Another study already uses the short name {slug}.")
    return study


def delete_study(study: Study, typed_name: str | None, actor: User | None = None) -> None:
    """Delete a study and its whole sample frame, once the user has typed its name exactly.

    The deletion is audited by an event that belongs to no study: the study's own events go
    with it (their study_id cascades), this one stays, naming the study in its `before`."""
    from fieldwork.audit.services import record_event

    if _clean(typed_name) != study.name.strip():
        raise FrameFieldError("confirm_name", "Type the study's name exactly as shown to confirm.")
    study_id = study.id
    record_event(
        "study.deleted",
        actor=actor,
        study_id=None,
        subject_type="study",
        subject_id=study_id,
        before={"name": study.name, "slug": study.slug},
    )
    db.session.flush()
    # Children first, in an order that respects the foreign keys whether or not the database
    # enforces them (SQLite does not by default), without loading any rows.
    organisations = select(Organisation.id).where(Organisation.study_id == study_id)
    db.session.execute(delete(Participant).where(Participant.study_id == study_id))
    db.session.execute(
        delete(organisation_district).where(
            organisation_district.c.organisation_id.in_(organisations)
        )
    )
    db.session.execute(
        update(Organisation).where(Organisation.study_id == study_id).values(lead_provider_id=None)
    )
    db.session.execute(delete(Organisation).where(Organisation.study_id == study_id))
    db.session.execute(delete(Role).where(Role.study_id == study_id))
    db.session.execute(delete(District).where(District.study_id == study_id))
    db.session.execute(delete(Phase).where(Phase.study_id == study_id))
    db.session.execute(delete(Study).where(Study.id == study_id))
    db.session.commit()


# --- Phases ----------------------------------------------------------------------------------


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
    name = _require_name(name, "phase")
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
    _commit_or_refuse("number", f"This study already has a phase {number}.")
    return phase


def why_not_delete_phase(phase: Phase) -> str | None:
    """Why the phase cannot be deleted yet, or None if it can."""
    people = participant_count(phase.study_id, phase_id=phase.id)
    if people:
        return (
            f"{_people(people)} in the districts of {phase.name}: move them to another "
            f"district or delete them first."
        )
    districts = db.session.scalar(select(func.count()).where(District.phase_id == phase.id))
    if districts:
        return (
            f"{phase.name} still has {_plural(districts, 'district')}: move "
            f"{'it' if districts == 1 else 'them'} to another phase or delete "
            f"{'it' if districts == 1 else 'them'} first."
        )
    return None


def delete_phase(phase: Phase) -> None:
    reason = why_not_delete_phase(phase)
    if reason:
        raise FrameError(reason)
    db.session.execute(delete(Phase).where(Phase.id == phase.id))
    db.session.commit()


# --- Districts -------------------------------------------------------------------------------


@dataclass
class DistrictRow:
    district: District
    organisations: int
    participants: int


def district_page(
    study: Study, page: int, per_page: int, *, search: str = "", phase_id: int | None = None
) -> Page[DistrictRow]:
    """One page of the study's districts, by phase then name, with their counts."""
    matching = select(District.id).where(District.study_id == study.id)
    if search.strip():
        matching = matching.where(District.name.icontains(search.strip(), autoescape=True))
    if phase_id:
        matching = matching.where(District.phase_id == phase_id)
    covering = (
        select(organisation_district.c.district_id.label("key"), func.count().label("n"))
        .join(District, District.id == organisation_district.c.district_id)
        .where(District.study_id == study.id)
        .group_by(organisation_district.c.district_id)
        .subquery()
    )
    people = _participants_per(Participant.district_id, study)
    rows = (
        select(District, func.coalesce(covering.c.n, 0), func.coalesce(people.c.n, 0))
        .join(District.phase)
        .options(contains_eager(District.phase))
        .outerjoin(covering, covering.c.key == District.id)
        .outerjoin(people, people.c.key == District.id)
        .where(District.id.in_(matching))
        .order_by(Phase.number, District.name, District.id)
    )
    return _page_of_rows(matching, rows, page, per_page, lambda row: DistrictRow(*row))


def get_district(study: Study, district_id: int) -> District | None:
    """A district of `study` with the organisations covering it; None for another study's."""
    return db.session.scalar(
        select(District)
        .where(District.id == district_id, District.study_id == study.id)
        .options(selectinload(District.organisations))
    )


def save_district(
    study: Study,
    district: District | None,
    *,
    name: str,
    phase_id: int | None,
    is_placeholder: bool = False,
    source: str = "",
) -> District:
    """Create (district=None) or update a district: a unique name, a phase of the study.

    Renaming a placeholder and unticking `is_placeholder` is how a coordinator records a
    district that has since been identified.
    """
    name = _require_name(name, "district")
    if _name_taken(District, study.id, name, district.id if district else None):
        raise FrameFieldError("name", f"This study already has a district called {name}.")
    phase = db.session.get(Phase, phase_id) if phase_id else None
    if phase is None or phase.study_id != study.id:
        raise FrameFieldError("phase_id", "Choose a phase of this study.")
    if district is None:
        district = District(study_id=study.id)
        db.session.add(district)
    district.name = name
    district.phase_id = phase.id
    district.is_placeholder = bool(is_placeholder)
    district.source = _clean(source)
    _commit_or_refuse("name", f"This study already has a district called {name}.")
    return district


def why_not_delete_district(district: District) -> str | None:
    people = participant_count(district.study_id, district_id=district.id)
    if people:
        return (
            f"{_people(people)} still in {district.name}: move them to another district "
            f"or delete them first."
        )
    return None


def delete_district(district: District) -> None:
    """Delete a district nobody is sampled in; organisations simply stop covering it."""
    reason = why_not_delete_district(district)
    if reason:
        raise FrameError(reason)
    db.session.execute(
        delete(organisation_district).where(organisation_district.c.district_id == district.id)
    )
    db.session.execute(delete(District).where(District.id == district.id))
    db.session.commit()


# --- Organisations ---------------------------------------------------------------------------


@dataclass
class OrganisationRow:
    organisation: Organisation
    districts: int
    participants: int


def organisation_page(
    study: Study,
    page: int,
    per_page: int,
    *,
    search: str = "",
    kind: OrganisationKind | None = None,
    district_id: int | None = None,
) -> Page[OrganisationRow]:
    """One page of the study's organisations by name, with lead provider and counts."""
    matching = select(Organisation.id).where(Organisation.study_id == study.id)
    if search.strip():
        matching = matching.where(Organisation.name.icontains(search.strip(), autoescape=True))
    if kind is not None:
        matching = matching.where(Organisation.kind == kind)
    if district_id:
        matching = matching.where(
            Organisation.id.in_(
                select(organisation_district.c.organisation_id).where(
                    organisation_district.c.district_id == district_id
                )
            )
        )
    covered = (
        select(organisation_district.c.organisation_id.label("key"), func.count().label("n"))
        .join(District, District.id == organisation_district.c.district_id)
        .where(District.study_id == study.id)
        .group_by(organisation_district.c.organisation_id)
        .subquery()
    )
    people = _participants_per(Participant.organisation_id, study)
    rows = (
        select(Organisation, func.coalesce(covered.c.n, 0), func.coalesce(people.c.n, 0))
        .options(joinedload(Organisation.lead_provider))
        .outerjoin(covered, covered.c.key == Organisation.id)
        .outerjoin(people, people.c.key == Organisation.id)
        .where(Organisation.id.in_(matching))
        .order_by(Organisation.name, Organisation.id)
    )
    return _page_of_rows(matching, rows, page, per_page, lambda row: OrganisationRow(*row))


def get_organisation(study: Study, organisation_id: int) -> Organisation | None:
    """An organisation of `study` with its lead provider and districts; None for another's."""
    return db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id, Organisation.study_id == study.id)
        .options(joinedload(Organisation.lead_provider), selectinload(Organisation.districts))
    )


def subcontractors_of(organisation: Organisation) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.lead_provider_id == organisation.id)
            .order_by(Organisation.name)
        )
    )


def lead_providers_of(study: Study) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(
                Organisation.study_id == study.id,
                Organisation.kind == OrganisationKind.LEAD_PROVIDER,
            )
            .order_by(Organisation.name)
        )
    )


def save_organisation(
    study: Study,
    organisation: Organisation | None,
    *,
    name: str,
    kind: OrganisationKind | str,
    lead_provider_id: int | None = None,
    district_ids: Iterable[int] = (),
    notes: str = "",
) -> Organisation:
    """Create (organisation=None) or update an organisation after checking its rules. Commits.

    A sub-contractor names a lead provider of the same study (not itself); nothing else names
    one. A kind cannot change while the organisation's participants hold roles for the old
    kind, nor can a lead provider stop being one while sub-contractors name it.
    When updating, `organisation` must have been loaded with its districts (get_organisation).
    """
    name = _require_name(name, "organisation")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise FrameFieldError("kind", "Choose the kind of organisation.")
    own_id = organisation.id if organisation else None
    if _name_taken(Organisation, study.id, name, own_id):
        raise FrameFieldError("name", f"This study already has an organisation called {name}.")
    if organisation is not None and kind != organisation.kind:
        _check_kind_change(organisation, kind)
    lead_provider = _checked_lead_provider(study, own_id, kind, lead_provider_id)
    wanted = sorted(set(district_ids))
    districts = list(
        db.session.scalars(
            select(District).where(District.study_id == study.id, District.id.in_(wanted))
        )
    )
    if len(districts) != len(wanted):
        raise FrameFieldError("district_ids", "Choose districts of this study only.")
    if organisation is None:
        organisation = Organisation(study_id=study.id, districts=[])
        db.session.add(organisation)
    organisation.name = name
    organisation.kind = kind
    organisation.lead_provider_id = lead_provider.id if lead_provider else None
    organisation.districts = districts
    organisation.notes = _clean(notes)
    _commit_or_refuse("name", f"This study already has an organisation called {name}.")
    return organisation


def _check_kind_change(organisation: Organisation, kind: OrganisationKind) -> None:
    mismatched = db.session.scalar(
        select(func.count())
        .select_from(Participant)
        .join(Role, Role.id == Participant.role_id)
        .where(Participant.organisation_id == organisation.id, Role.organisation_kind != kind)
    )
    if mismatched:
        raise FrameFieldError(
            "kind",
            f"{_people(mismatched)} at {organisation.name} in roles for "
            f"{organisation.kind.label} staff: change their roles first.",
        )
    if organisation.kind == OrganisationKind.LEAD_PROVIDER:
        followers = db.session.scalar(
            select(func.count()).where(Organisation.lead_provider_id == organisation.id)
        )
        if followers:
            raise FrameFieldError(
                "kind",
                f"{_plural(followers, 'sub-contractor')} "
                f"{'names' if followers == 1 else 'name'} {organisation.name} as "
                f"lead provider: give them another lead provider first.",
            )


def _checked_lead_provider(
    study: Study, own_id: int | None, kind: OrganisationKind, lead_provider_id: int | None
) -> Organisation | None:
    if kind != OrganisationKind.SUBCONTRACTOR:
        if lead_provider_id:
            raise FrameFieldError(
                "lead_provider_id",
                "Only a sub-contractor has a lead provider: choose "
                "“None”, or make this organisation a sub-contractor.",
            )
        return None
    if not lead_provider_id:
        raise FrameFieldError(
            "lead_provider_id", "Choose the lead provider this sub-contractor works for."
        )
    lead = db.session.get(Organisation, lead_provider_id)
    if lead is None or lead.study_id != study.id:
        raise FrameFieldError("lead_provider_id", "Choose a lead provider of this study.")
    if lead.id == own_id:
        raise FrameFieldError(
            "lead_provider_id", "An organisation cannot be its own lead provider."
        )
    if lead.kind != OrganisationKind.LEAD_PROVIDER:
        raise FrameFieldError(
            "lead_provider_id",
            f"{lead.name} is not a lead provider (its kind is {lead.kind.label}).",
        )
    return lead


def why_not_delete_organisation(organisation: Organisation) -> str | None:
    people = participant_count(organisation.study_id, organisation_id=organisation.id)
    if people:
        return (
            f"{_people(people)} still at {organisation.name}: move them to another "
            f"organisation or delete them first."
        )
    followers = db.session.scalar(
        select(func.count()).where(Organisation.lead_provider_id == organisation.id)
    )
    if followers:
        return (
            f"{_plural(followers, 'sub-contractor')} {'names' if followers == 1 else 'name'}"
            f" {organisation.name} as lead provider: give them another lead provider or "
            f"delete them first."
        )
    return None


def delete_organisation(organisation: Organisation) -> None:
    reason = why_not_delete_organisation(organisation)
    if reason:
        raise FrameError(reason)
    db.session.execute(
        delete(organisation_district).where(
            organisation_district.c.organisation_id == organisation.id
        )
    )
    db.session.execute(delete(Organisation).where(Organisation.id == organisation.id))
    db.session.commit()


# --- Roles -----------------------------------------------------------------------------------


@dataclass
class RoleRow:
    role: Role
    participants: int


def role_rows(study: Study, search: str = "") -> list[RoleRow]:
    """The study's roles (a short list) with their numbers of participants, in one query."""
    people = _participants_per(Participant.role_id, study)
    statement = (
        select(Role, func.coalesce(people.c.n, 0))
        .outerjoin(people, people.c.key == Role.id)
        .where(Role.study_id == study.id)
        .order_by(Role.name, Role.id)
    )
    if search.strip():
        statement = statement.where(Role.name.icontains(search.strip(), autoescape=True))
    return [RoleRow(*row) for row in db.session.execute(statement).all()]


def get_role(study: Study, role_id: int) -> Role | None:
    """A role of `study`; None for another study's, so the page answers 404."""
    return db.session.scalar(select(Role).where(Role.id == role_id, Role.study_id == study.id))


def save_role(
    study: Study,
    role: Role | None,
    *,
    name: str,
    organisation_kind: OrganisationKind | str,
    description: str = "",
) -> Role:
    """Create (role=None) or update a role. Its kind of organisation cannot change while
    participants hold it at organisations of the old kind. Commits."""
    name = _require_name(name, "role")
    try:
        kind = OrganisationKind(organisation_kind)
    except ValueError:
        raise FrameFieldError("organisation_kind", "Choose the kind of organisation.")
    if _name_taken(Role, study.id, name, role.id if role else None):
        raise FrameFieldError("name", f"This study already has a role called {name}.")
    if role is not None and kind != role.organisation_kind:
        mismatched = db.session.scalar(
            select(func.count())
            .select_from(Participant)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .where(Participant.role_id == role.id, Organisation.kind != kind)
        )
        if mismatched:
            raise FrameFieldError(
                "organisation_kind",
                f"{_people(mismatched)} in this role at organisations whose kind is not "
                f"{kind.label}: give them another role first.",
            )
    if role is None:
        role = Role(study_id=study.id)
        db.session.add(role)
    role.name = name
    role.organisation_kind = kind
    role.description = _clean(description)
    _commit_or_refuse("name", f"This study already has a role called {name}.")
    return role


def why_not_delete_role(role: Role) -> str | None:
    people = participant_count(role.study_id, role_id=role.id)
    if people:
        return (
            f"{_people(people)} still in the role {role.name}: give them another role or "
            f"delete them first."
        )
    return None


def delete_role(role: Role) -> None:
    reason = why_not_delete_role(role)
    if reason:
        raise FrameError(reason)
    db.session.execute(delete(Role).where(Role.id == role.id))
    db.session.commit()


# --- Counts ----------------------------------------------------------------------------------


def participant_count(
    study_id: int,
    *,
    district_id: int | None = None,
    organisation_id: int | None = None,
    role_id: int | None = None,
    phase_id: int | None = None,
) -> int:
    """How many participants of the study use a district, organisation, role or phase."""
    statement = (
        select(func.count()).select_from(Participant).where(Participant.study_id == study_id)
    )
    if district_id is not None:
        statement = statement.where(Participant.district_id == district_id)
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    if role_id is not None:
        statement = statement.where(Participant.role_id == role_id)
    if phase_id is not None:
        statement = statement.where(
            Participant.district_id.in_(select(District.id).where(District.phase_id == phase_id))
        )
    return db.session.scalar(statement) or 0
