"""Studies: the list, a study's summary, creating, editing and deleting one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update

from fieldwork.core.time import is_valid_timezone
from fieldwork.core.transactions import transaction
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

if TYPE_CHECKING:
    from fieldwork.accounts.models import User


from fieldwork.sampling.frame.common import (
    FrameFieldError,
    clean_text,
    flush_or_refuse,
    require_name,
)
from fieldwork.sampling.frame.phases import PhaseRow, phase_rows

#: Lower-case letters, digits and inner hyphens: safe in URLs and on the command line.
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
#: Slugs that would collide with the pages under /studies/.
RESERVED_SLUGS = frozenset({"new"})
INTERVIEW_MINUTES_RANGE = (15, 480)


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


@transaction()
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
    name = require_name(name, "study")
    slug = _checked_slug(slug, study)
    timezone = clean_text(timezone)
    _check_schedule(timezone, fieldwork_starts_on, fieldwork_ends_on)
    interview_minutes = _checked_interview_minutes(interview_minutes)
    organiser_email = _checked_organiser_email(organiser_email)
    if study is None:
        study = Study()
        db.session.add(study)
    study.name = name
    study.slug = slug
    study.description = clean_text(description)
    study.timezone = timezone
    study.fieldwork_starts_on = fieldwork_starts_on
    study.fieldwork_ends_on = fieldwork_ends_on
    study.organiser_name = clean_text(organiser_name)
    study.organiser_email = organiser_email
    study.interview_minutes = interview_minutes
    flush_or_refuse("slug", f"Another study already uses the short name {slug}.")
    return study


def _checked_slug(slug: str, study: Study | None) -> str:
    """The study's short name for URLs and the command line: well formed and its own."""
    slug = clean_text(slug)
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
    return slug


def _check_schedule(
    timezone: str,
    fieldwork_starts_on: dt.date | None,
    fieldwork_ends_on: dt.date | None,
) -> None:
    """A real time zone and a fieldwork window that ends after it starts."""
    if not is_valid_timezone(timezone):
        raise FrameFieldError(
            "timezone", "Choose a time zone from the list, such as Europe/London."
        )
    if fieldwork_starts_on and fieldwork_ends_on and fieldwork_ends_on < fieldwork_starts_on:
        raise FrameFieldError(
            "fieldwork_ends_on", "The end of fieldwork must be on or after its start."
        )


def _checked_interview_minutes(interview_minutes: int | None) -> int:
    """A sane interview length: given, and within INTERVIEW_MINUTES_RANGE."""
    low, high = INTERVIEW_MINUTES_RANGE
    if interview_minutes is None or not low <= interview_minutes <= high:
        raise FrameFieldError(
            "interview_minutes", f"An interview lasts between {low} and {high} minutes."
        )
    return interview_minutes


def _checked_organiser_email(organiser_email: str) -> str:
    """The address invitations are sent from: present and well formed."""
    organiser_email = clean_text(organiser_email)
    if not organiser_email:
        raise FrameFieldError(
            "organiser_email", "Enter the email address invitations are sent from."
        )
    try:
        validate_email(organiser_email, check_deliverability=False)
    except EmailNotValidError:
        raise FrameFieldError(
            "organiser_email", "Enter an email address like research@example.org."
        ) from None
    return organiser_email


@transaction()
def delete_study(study: Study, typed_name: str | None, actor: User | None = None) -> None:
    """Delete a study and its whole sample frame, once the user has typed its name exactly.

    The deletion is audited by an event that belongs to no study: the study's own events go
    with it (their study_id cascades), this one stays, naming the study in its `before`."""
    from fieldwork.audit.services import record_event

    if clean_text(typed_name) != study.name.strip():
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
