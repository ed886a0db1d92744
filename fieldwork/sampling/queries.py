"""The frame lists the API reads, each query with its eager loads and filters.

Filters arrive as the API's parsed arguments (a mapping; absent filters are None or ""), so
the rules can be called and tested without a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.core.studies import MAX_SLUG_LENGTH
from fieldwork.extensions import db
from fieldwork.sampling import services
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    Phase,
    Role,
    Study,
    organisation_district,
)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def all_study_ids() -> list[int]:
    """Every study of the installation (for commands, which act for the installation)."""
    return list(
        db.session.scalars(select(Study.id).order_by(Study.id).execution_options(all_studies=True))
    )


def get_study(slug: str) -> Study | None:
    """A study by slug, with its phases; None for anything that cannot be a slug."""
    if len(slug) > MAX_SLUG_LENGTH or "\x00" in slug:
        return None
    return db.session.scalar(
        select(Study).where(Study.slug == slug).options(selectinload(Study.phases))
    )


def study_query(search: str = "") -> Select:
    statement = select(Study).options(selectinload(Study.phases)).order_by(Study.name, Study.id)
    if search:
        pattern = _like(search)
        statement = statement.where(
            or_(
                func.lower(Study.name).like(pattern, escape="\\"),
                func.lower(Study.slug).like(pattern, escape="\\"),
            )
        )
    return statement


def phase_query(study: Study) -> Select:
    return select(Phase).where(Phase.study_id == study.id).order_by(Phase.number)


def district_query(study: Study, filters: Mapping[str, Any]) -> Select:
    """Districts in phase then name order; the phase comes joined (District.phase is eager).
    Filters: `phase` (its number), `q`."""
    statement = (
        select(District)
        .where(District.study_id == study.id)
        .join(Phase, District.phase_id == Phase.id)
        .options(contains_eager(District.phase))
        .order_by(Phase.number, District.name)
    )
    if filters.get("phase") is not None:
        statement = statement.where(Phase.number == filters["phase"])
    if filters.get("q"):
        statement = statement.where(
            func.lower(District.name).like(_like(filters["q"]), escape="\\")
        )
    return statement


def get_district(district_id: int) -> District | None:
    return db.session.get(District, district_id)


def _organisation_loads():
    return (joinedload(Organisation.lead_provider), selectinload(Organisation.districts))


def organisation_query(study: Study, filters: Mapping[str, Any]) -> Select:
    """By name. Filters: `kind`, `district` (those covering it, by id), `q`."""
    statement = (
        select(Organisation)
        .where(Organisation.study_id == study.id)
        .options(*_organisation_loads())
        .order_by(Organisation.name)
    )
    if filters.get("kind") is not None:
        statement = statement.where(Organisation.kind == filters["kind"])
    if filters.get("district") is not None:
        statement = statement.where(
            Organisation.id.in_(
                select(organisation_district.c.organisation_id).where(
                    organisation_district.c.district_id == filters["district"]
                )
            )
        )
    if filters.get("q"):
        statement = statement.where(
            func.lower(Organisation.name).like(_like(filters["q"]), escape="\\")
        )
    return statement


def get_organisation(organisation_id: int) -> Organisation | None:
    return db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .options(*_organisation_loads())
    )


def role_query(study: Study, filters: Mapping[str, Any]) -> Select:
    """By name. Filters: `kind` (of organisation), `q`."""
    statement = select(Role).where(Role.study_id == study.id).order_by(Role.name)
    if filters.get("kind") is not None:
        statement = statement.where(Role.organisation_kind == filters["kind"])
    if filters.get("q"):
        statement = statement.where(func.lower(Role.name).like(_like(filters["q"]), escape="\\"))
    return statement


def get_role(role_id: int) -> Role | None:
    return db.session.get(Role, role_id)


def participant_list_query(study: Study, filters: Mapping[str, Any], viewer: User) -> Select:
    """The sampling list query (which limits interviewers to their own people), plus the study
    each row names, and the phase by its number (phase 1 of this study, not of another)."""
    statement = services.participant_query(
        study,
        services.ParticipantFilters(
            search=filters.get("q", ""),
            district_id=filters.get("district"),
            role_id=filters.get("role"),
            organisation_kind=filters.get("kind"),
            status=filters.get("status"),
            interviewer_id=filters.get("interviewer"),
        ),
        viewer,
    ).options(selectinload(Participant.study))
    if filters.get("phase") is not None:
        phase_ids = select(Phase.id).where(
            Phase.study_id == study.id, Phase.number == filters["phase"]
        )
        statement = statement.where(
            Participant.district_id.in_(select(District.id).where(District.phase_id.in_(phase_ids)))
        )
    return statement
