"""What the API reads: query-string parsing and the list queries, each with its eager loads.

Nothing here touches `request`: the views hand over the query arguments as a mapping, so the
rules (what a bad value is, what a filter means) can be called and tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    RecruitmentStatus,
    Role,
    Study,
    organisation_district,
)

#: Page size when the request does not name one, and the most one may ask for.
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
#: Highest page number accepted (far beyond any real list; keeps OFFSET sane).
MAX_PAGE = 1_000_000
#: Identifiers are 32-bit on PostgreSQL; larger numbers cannot name a row (and overflow SQLite).
MAX_ID = 2**31 - 1
#: Longest search text accepted, as on the pages.
MAX_SEARCH_LENGTH = 200


class ParameterError(ValueError):
    """A query argument the API cannot use; answered as 400 naming the parameter.

    An empty value is an error too (`kind=` is not "any kind"): leave the parameter out.
    """

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


# --- Parsing query arguments -----------------------------------------------------------------


def _integer(
    args: Mapping[str, str],
    name: str,
    *,
    minimum: int = 1,
    maximum: int = MAX_ID,
    default: int | None = None,
) -> int | None:
    raw = args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        raise ParameterError(name, f"must be a whole number from {minimum} to {maximum}.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ParameterError(name, f"must be a whole number from {minimum} to {maximum}.")
    return value


def _choice(args: Mapping[str, str], name: str, enum_type):
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ParameterError(name, f"must be one of {allowed}.")


def _search(args: Mapping[str, str], name: str = "q") -> str:
    raw = (args.get(name) or "").strip()
    if len(raw) > MAX_SEARCH_LENGTH:
        raise ParameterError(name, f"must be at most {MAX_SEARCH_LENGTH} characters.")
    if "\x00" in raw:
        # PostgreSQL refuses NUL in text; no name contains one, so say so rather than fail.
        raise ParameterError(name, "must not contain NUL characters.")
    return raw


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int


def parse_page_request(args: Mapping[str, str]) -> PageRequest:
    """`page` (from 1) and `per_page` (1..200, default 50)."""
    return PageRequest(
        page=_integer(args, "page", maximum=MAX_PAGE, default=1),
        per_page=_integer(args, "per_page", maximum=MAX_PER_PAGE, default=DEFAULT_PER_PAGE),
    )


@dataclass(frozen=True)
class FrameFilters:
    """Filters of the frame lists (studies, districts, organisations, roles)."""

    search: str = ""
    phase_number: int | None = None
    district_id: int | None = None
    kind: OrganisationKind | None = None


def parse_study_filters(args: Mapping[str, str]) -> FrameFilters:
    return FrameFilters(search=_search(args))


def parse_district_filters(args: Mapping[str, str]) -> FrameFilters:
    return FrameFilters(search=_search(args), phase_number=_integer(args, "phase"))


def parse_organisation_filters(args: Mapping[str, str]) -> FrameFilters:
    return FrameFilters(
        search=_search(args),
        kind=_choice(args, "kind", OrganisationKind),
        district_id=_integer(args, "district"),
    )


def parse_role_filters(args: Mapping[str, str]) -> FrameFilters:
    return FrameFilters(search=_search(args), kind=_choice(args, "kind", OrganisationKind))


@dataclass(frozen=True)
class ParticipantListFilters:
    """The participant list's filters as the API names them: the phase by its number."""

    filters: sampling.ParticipantFilters
    phase_number: int | None = None


def parse_participant_filters(args: Mapping[str, str]) -> ParticipantListFilters:
    return ParticipantListFilters(
        filters=sampling.ParticipantFilters(
            search=_search(args),
            district_id=_integer(args, "district"),
            role_id=_integer(args, "role"),
            organisation_kind=_choice(args, "kind", OrganisationKind),
            status=_choice(args, "status", RecruitmentStatus),
            interviewer_id=_integer(args, "interviewer"),
        ),
        phase_number=_integer(args, "phase"),
    )


# --- Queries ---------------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def get_study(slug: str) -> Study | None:
    """A study by slug, with its phases; None for anything that cannot be a slug."""
    if len(slug) > 60 or "\x00" in slug:
        return None
    return db.session.scalar(
        select(Study).where(Study.slug == slug).options(selectinload(Study.phases))
    )


def study_query(filters: FrameFilters) -> Select:
    statement = select(Study).options(selectinload(Study.phases)).order_by(Study.name, Study.id)
    if filters.search:
        pattern = _like(filters.search)
        statement = statement.where(
            or_(
                func.lower(Study.name).like(pattern, escape="\\"),
                func.lower(Study.slug).like(pattern, escape="\\"),
            )
        )
    return statement


def phase_query(study: Study) -> Select:
    return select(Phase).where(Phase.study_id == study.id).order_by(Phase.number)


def _phase_ids(study_id: int, number: int) -> Select:
    return select(Phase.id).where(Phase.study_id == study_id, Phase.number == number)


def district_query(study: Study, filters: FrameFilters) -> Select:
    """Districts in phase then name order; the phase comes joined (District.phase is eager)."""
    statement = (
        select(District)
        .where(District.study_id == study.id)
        .join(Phase, District.phase_id == Phase.id)
        .options(contains_eager(District.phase))
        .order_by(Phase.number, District.name)
    )
    if filters.phase_number is not None:
        statement = statement.where(Phase.number == filters.phase_number)
    if filters.search:
        statement = statement.where(
            func.lower(District.name).like(_like(filters.search), escape="\\")
        )
    return statement


def get_district(district_id: int) -> District | None:
    return db.session.get(District, district_id)


def _organisation_loads():
    return (joinedload(Organisation.lead_provider), selectinload(Organisation.districts))


def organisation_query(study: Study, filters: FrameFilters) -> Select:
    statement = (
        select(Organisation)
        .where(Organisation.study_id == study.id)
        .options(*_organisation_loads())
        .order_by(Organisation.name)
    )
    if filters.kind is not None:
        statement = statement.where(Organisation.kind == filters.kind)
    if filters.district_id is not None:
        statement = statement.where(
            Organisation.id.in_(
                select(organisation_district.c.organisation_id).where(
                    organisation_district.c.district_id == filters.district_id
                )
            )
        )
    if filters.search:
        statement = statement.where(
            func.lower(Organisation.name).like(_like(filters.search), escape="\\")
        )
    return statement


def get_organisation(organisation_id: int) -> Organisation | None:
    return db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .options(*_organisation_loads())
    )


def role_query(study: Study, filters: FrameFilters) -> Select:
    statement = select(Role).where(Role.study_id == study.id).order_by(Role.name)
    if filters.kind is not None:
        statement = statement.where(Role.organisation_kind == filters.kind)
    if filters.search:
        statement = statement.where(func.lower(Role.name).like(_like(filters.search), escape="\\"))
    return statement


def get_role(role_id: int) -> Role | None:
    return db.session.get(Role, role_id)


def participant_list_query(study: Study, parsed: ParticipantListFilters, viewer: User) -> Select:
    """The sampling list query (which limits interviewers to their own people), plus the study
    each row names and the phase filter by number."""
    statement = sampling.participant_query(study, parsed.filters, viewer).options(
        joinedload(Participant.study)
    )
    if parsed.phase_number is not None:
        statement = statement.where(
            Participant.district_id.in_(
                select(District.id).where(
                    District.phase_id.in_(_phase_ids(study.id, parsed.phase_number))
                )
            )
        )
    return statement


def get_participant(participant_id: int, viewer: User) -> Participant | None:
    """One participant, or None when absent or assigned to another interviewer."""
    return sampling.get_participant(participant_id, viewer)
