"""Rules for the sample frame: the current study, participants and their references."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from flask import g, session
from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.core import revision_cache
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    SEARCH_INDEX_TABLE,
    SEARCH_SEPARATOR,
    SEARCHED_COLUMNS,
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    RecruitmentStatus,
    Role,
    Study,
    search_index,
    searched_text,
)


class FrameError(ValueError):
    """A change to the sample frame that cannot be made; the message is for the user."""


# --- Studies ---------------------------------------------------------------------------------


def list_studies() -> list[Study]:
    return list(db.session.scalars(select(Study).order_by(Study.name)))


def get_study_by_slug(slug: str) -> Study | None:
    return db.session.scalar(select(Study).where(Study.slug == slug))


class StudyChoiceError(ValueError):
    """A command could not tell which study it is for; the message says what to do."""


def study_for_command(slug: str | None, *, none_yet: str = "There is no study yet.") -> Study:
    """The study named by `slug`, else the only study (commands act on one study)."""
    studies = list_studies()
    slugs = ", ".join(study.slug for study in studies) or "none yet"
    if slug:
        study = get_study_by_slug(slug)
        if study is None:
            raise StudyChoiceError(f"There is no study {slug!r}. Studies: {slugs}.")
        return study
    if not studies:
        raise StudyChoiceError(none_yet)
    if len(studies) > 1:
        raise StudyChoiceError(
            f"There are several studies; choose one with --study. Studies: {slugs}."
        )
    return studies[0]


def find_study(*, study_id: int | None = None, slug: str | None = None) -> Study | None:
    """The study with this id or slug; with neither, the first study (core's current-study
    rule looks studies up through this)."""
    if study_id is not None:
        return db.session.get(Study, study_id)
    if slug is not None:
        return db.session.scalar(select(Study).where(Study.slug == slug))
    return db.session.scalar(select(Study).order_by(Study.id).limit(1))


def select_study(study_id: int) -> Study | None:
    study = db.session.get(Study, study_id)
    if study is not None:
        session["study_id"] = study.id
        g.current_study = study
    return study


# --- Participants ----------------------------------------------------------------------------


@dataclass
class ParticipantFilters:
    """What a participant list is narrowed to; every field optional."""

    search: str = ""
    phase_id: int | None = None
    district_id: int | None = None
    role_id: int | None = None
    organisation_kind: OrganisationKind | None = None
    organisation_id: int | None = None
    status: RecruitmentStatus | None = None
    interviewer_id: int | None = None
    #: A key of SORT_COLUMNS; the list's order, reference as the tie-break.
    sort: str = "reference"
    descending: bool = False


def _name_of(model, foreign_key):
    """The related row's name as a correlated subquery, to sort by without a join."""
    return select(model.name).where(model.id == foreign_key).scalar_subquery()


#: The participant list's sortable columns (URL value → what it orders by).
SORT_COLUMNS = {
    "reference": lambda: Participant.reference,
    "name": lambda: func.lower(Participant.name),
    "role": lambda: _name_of(Role, Participant.role_id),
    "organisation": lambda: _name_of(Organisation, Participant.organisation_id),
    "district": lambda: _name_of(District, Participant.district_id),
    "phase": lambda: (
        select(Phase.number)
        .join(District, District.phase_id == Phase.id)
        .where(District.id == Participant.district_id)
        .scalar_subquery()
    ),
    "interviewer": lambda: _name_of(User, Participant.interviewer_id),
    "status": lambda: Participant.status,
}


#: The sort columns that may be empty (nobody assigned); the others are never NULL.
_NULLABLE_SORTS = frozenset({"interviewer"})


def _list_order(filters: ParticipantFilters) -> list[ColumnElement]:
    """The list's ORDER BY: the chosen column, then the reference as the tie-break.

    NULLS LAST only where a NULL can occur: on a column that is never NULL it changes no order,
    but it keeps SQLite (whose indexes hold NULLs first) and PostgreSQL (descending) from
    reading the list in the order of the (study_id, reference) index, so the default order
    sorted every participant of the study for each page."""
    sort = filters.sort if filters.sort in SORT_COLUMNS else "reference"
    column = SORT_COLUMNS[sort]()
    ordered = column.desc() if filters.descending else column.asc()
    if sort in _NULLABLE_SORTS:
        ordered = ordered.nulls_last()
    if sort == "reference":
        return [ordered]
    tie_break = Participant.reference.desc() if filters.descending else Participant.reference
    return [ordered, tie_break]


def participant_query(
    study: Study, filters: ParticipantFilters, viewer: User | None = None, *, with_frame=True
) -> Select:
    """The participants of `study` that match `filters`, with what a list row shows loaded.

    An interviewer sees only the participants assigned to them.

    The organisation, role, district (with its phase) and interviewer come in one query each
    for the rows read (selectinload), not joined: with four joins SQLite's planner read and
    sorted every participant of the study for a page of the default order, where the page
    alone reads 50 entries of the (study_id, reference) index. `with_frame=False` leaves out
    the organisation, role and district, for a caller that names them by `frame_names`.
    """
    relations = [Participant.interviewer]
    if with_frame:
        relations += [Participant.organisation, Participant.role, Participant.district]
    statement = (
        select(Participant)
        .where(Participant.study_id == study.id)
        .options(*(selectinload(relation) for relation in relations))
    )
    statement = statement.order_by(*_list_order(filters))
    if viewer is not None and not viewer.is_coordinator_of(study.id):
        statement = statement.where(Participant.interviewer_id == viewer.id)
    if filters.search:
        statement = statement.where(_search_condition(study, filters.search))
    if filters.district_id:
        statement = statement.where(Participant.district_id == filters.district_id)
    if filters.phase_id:
        statement = statement.where(
            Participant.district_id.in_(
                select(District.id).where(District.phase_id == filters.phase_id)
            )
        )
    if filters.role_id:
        statement = statement.where(Participant.role_id == filters.role_id)
    if filters.organisation_kind:
        statement = statement.where(
            Participant.organisation_id.in_(
                select(Organisation.id).where(Organisation.kind == filters.organisation_kind)
            )
        )
    if filters.organisation_id:
        statement = statement.where(Participant.organisation_id == filters.organisation_id)
    if filters.status:
        statement = statement.where(Participant.status == filters.status)
    if filters.interviewer_id:
        statement = statement.where(Participant.interviewer_id == filters.interviewer_id)
    return statement


def _phone_digits() -> ColumnElement[str]:
    """The stored phone without the separators people type (space - . ( ))."""
    expression: ColumnElement[str] = Participant.phone.expression
    for separator in (" ", "-", ".", "(", ")"):
        expression = func.replace(expression, separator, "")
    return expression


def _search_condition(study: Study, search: str):
    """Name, reference, email, job title, phone (spaces ignored) or organisation name, in any
    letter case (accented letters too), alike on PostgreSQL and SQLite.

    One OR of conditions on the participant row, each of which an index answers on PostgreSQL,
    so the planner combines index scans (BitmapOr) instead of reading every participant: the
    text columns through the trigram index over `searched_text` (ix_participant_search_text),
    the organisation as the ids of the study's matching organisations, looked up first (a
    small table; a subquery there was costed as every participant of the organisation). On
    SQLite the text columns are SQLite's trigram index (`participant_search`, an FTS5 table)
    from 3 characters on, with the same results; a shorter search tests each column. A phone
    search (three digits or more) still reads every participant's phone.
    """
    text = search.strip()
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql" and SEARCH_SEPARATOR not in text:
        conditions = [searched_text(Participant).ilike(f"%{_escape_like(text)}%", escape="\\")]
    elif dialect == "sqlite" and len(text) >= TRIGRAM and "\x00" not in text:
        conditions = [Participant.id.in_(_indexed_matches(text))]
    else:
        conditions = [
            _contains_folded(getattr(Participant, name), text) for name in SEARCHED_COLUMNS
        ]
    organisation_ids = list(
        db.session.scalars(
            select(Organisation.id).where(
                Organisation.study_id == study.id, _contains_folded(Organisation.name, text)
            )
        )
    )
    if organisation_ids:
        conditions.append(Participant.organisation_id.in_(organisation_ids))
    digits = "".join(character for character in text if character.isdigit() or character == "+")
    if len(digits) >= 3:
        conditions.append(_phone_digits().like(f"%{_escape_like(digits)}%", escape="\\"))
    return or_(*conditions)


#: The shortest text a trigram index can look up.
TRIGRAM = 3


def _indexed_matches(text: str) -> Select:
    """The ids of the participants (of any study) one of whose searched columns contains
    `text`, letter case ignored, from SQLite's trigram index: a phrase query, the text quoted
    whole (a double quote doubled), so nothing in it is read as query syntax."""
    phrase = '"' + text.replace('"', '""') + '"'
    return select(search_index.c.rowid).where(
        search_index.c[SEARCH_INDEX_TABLE].op("MATCH")(phrase)
    )


def _contains_folded(column, text: str):
    """`column` contains `text`, letter case ignored. PostgreSQL's ILIKE folds every letter
    (and uses the trigram index); SQLite's LIKE folds only ASCII, so there both sides go
    through `unicode_lower` (Python's str.lower, registered on each SQLite connection)."""
    if db.session.get_bind().dialect.name == "sqlite":
        pattern = f"%{_escape_like(text.lower())}%"
        return func.unicode_lower(column).like(pattern, escape="\\")
    return column.ilike(f"%{_escape_like(text)}%", escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


PARTICIPANT_CSV_HEADER = [
    "reference",
    "name",
    "job_title",
    "email",
    "phone",
    "organisation",
    "role",
    "district",
    "phase",
    "interviewer",
    "status",
]


def participant_rows(
    study: Study, filters: ParticipantFilters, viewer: User | None = None
) -> Iterator[list[str]]:
    """The filtered list as CSV rows (PARTICIPANT_CSV_HEADER), read in batches."""
    statement = participant_query(study, filters, viewer).execution_options(yield_per=500)
    for person in db.session.scalars(statement):
        yield [
            person.reference,
            person.name,
            person.job_title,
            person.email,
            person.phone,
            person.organisation.name,
            person.role.name,
            person.district.name,
            person.district.phase.name,
            person.interviewer.name if person.interviewer else "",
            person.status.label,
        ]


def participants_by_ids(study: Study, ids: Sequence[int]) -> list[Participant]:
    """The participants of `study` among `ids` (others ignored), in reference order."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Participant)
            .where(Participant.study_id == study.id, Participant.id.in_(list(ids)))
            .order_by(Participant.reference)
        )
    )


def get_participant(participant_id: int, viewer: User | None = None) -> Participant | None:
    """One participant with everything their page shows; None if absent or not the viewer's."""
    participant = db.session.scalar(
        select(Participant)
        .where(Participant.id == participant_id)
        .options(
            joinedload(Participant.study),
            joinedload(Participant.organisation).joinedload(Organisation.lead_provider),
            joinedload(Participant.role),
            joinedload(Participant.district).joinedload(District.phase),
            joinedload(Participant.interviewer),
        )
    )
    if participant is None:
        return None
    if (
        viewer is not None
        and not viewer.is_coordinator_of(participant.study_id)
        and participant.interviewer_id != viewer.id
    ):
        return None
    return participant


_REFERENCE_PATTERN = re.compile(r"^P(\d+)-(\d+)$")


def lock_study(study_id: int) -> None:
    """Hold the study's row until the transaction ends (first in docs/concurrency.md's order).
    PostgreSQL: FOR UPDATE; SQLite: a no-op UPDATE, which takes the database's write lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Study.id).where(Study.id == study_id).with_for_update())
    else:
        db.session.execute(
            update(Study).where(Study.id == study_id).values(id=Study.id),
            execution_options={"synchronize_session": False},
        )


def next_reference(study: Study, phase: Phase, taken: set[str] | None = None) -> str:
    """The next free pseudonymous reference in a phase: P<phase>-<running number, 3 digits>."""
    prefix = f"P{phase.number}-"
    existing = db.session.scalars(
        select(Participant.reference).where(
            Participant.study_id == study.id, Participant.reference.like(prefix + "%")
        )
    ).all()
    numbers = [
        int(m.group(2))
        for ref in [*existing, *(taken or ())]
        if (m := _REFERENCE_PATTERN.match(ref)) and m.group(1) == str(phase.number)
    ]
    return f"{prefix}{(max(numbers) if numbers else 0) + 1:03d}"


def email_in_use(study: Study, email: str, except_id: int | None = None) -> Participant | None:
    if not email:
        return None
    statement = select(Participant).where(
        Participant.study_id == study.id, Participant.email == email.strip().lower()
    )
    if except_id is not None:
        statement = statement.where(Participant.id != except_id)
    return db.session.scalar(statement.limit(1))


def check_participant_fits(
    study: Study, organisation: Organisation, role: Role, district: District
) -> None:
    """Raise FrameError when the organisation, role and district do not belong together."""
    for thing in (organisation, role, district):
        if thing.study_id != study.id:
            raise FrameError(f"{thing} belongs to another study.")
    if role.organisation_kind != organisation.kind:
        raise FrameError(
            f"The role {role.name} is for {role.organisation_kind.label} staff, "
            f"but {organisation.name} is a {organisation.kind.label.lower()}."
        )


def save_participant(study: Study, participant: Participant | None, **fields) -> Participant:
    """Create (participant=None) or update a participant from validated form data. Commits
    (or joins the caller's transaction).

    `fields`: organisation, role, district, interviewer (User or None), name, job_title,
    email, phone, notes, optionally timezone, and for a new participant optionally reference
    and status.
    """
    with transaction():
        return _save_participant(study, participant, **fields)


def _save_participant(study: Study, participant: Participant | None, **fields) -> Participant:
    organisation, role, district = fields["organisation"], fields["role"], fields["district"]
    check_participant_fits(study, organisation, role, district)
    # One participant saved at a time per study, so two new ones never compute the same
    # reference nor both take one email address (docs/concurrency.md).
    lock_study(study.id)
    email = (fields.get("email") or "").strip().lower()
    duplicate = email_in_use(study, email, except_id=participant.id if participant else None)
    if duplicate is not None:
        raise FrameError(f"{duplicate.reference} already has the email address {email}.")
    if participant is None:
        reference = (fields.get("reference") or "").strip() or next_reference(study, district.phase)
        if db.session.scalar(
            select(Participant.id).where(
                Participant.study_id == study.id, Participant.reference == reference
            )
        ):
            raise FrameError(f"The reference {reference} is already taken.")
        participant = Participant(
            study_id=study.id,
            reference=reference,
            status=fields.get("status") or RecruitmentStatus.IDENTIFIED,
        )
        db.session.add(participant)
    participant.organisation_id = organisation.id
    participant.role_id = role.id
    participant.district_id = district.id
    interviewer = fields.get("interviewer")
    participant.interviewer_id = interviewer.id if interviewer else None
    participant.name = fields["name"].strip()
    participant.job_title = (fields.get("job_title") or "").strip()
    participant.email = email
    participant.phone = (fields.get("phone") or "").strip()
    participant.notes = (fields.get("notes") or "").strip()
    if "timezone" in fields:
        participant.timezone = fields["timezone"] or ""
    return participant


@transaction()
def delete_participant(participant: Participant) -> None:
    db.session.delete(participant)


# --- Look-ups for forms and filters -------------------------------------------------------------


@dataclass(frozen=True)
class FrameNames:
    """The study's phases, districts, roles and organisations by id and name, in the order of
    the filters' choices: what every view of the participant list shows, kept between requests
    until the study changes (`frame_names`)."""

    phases: tuple[tuple[int, str], ...]
    #: (id, name, its phase's name), by phase then name.
    districts: tuple[tuple[int, str, str], ...]
    roles: tuple[tuple[int, str], ...]
    organisations: tuple[tuple[int, str], ...]
    _roles: dict[int, str] = field(init=False, repr=False, compare=False)
    _organisations: dict[int, str] = field(init=False, repr=False, compare=False)
    _districts: dict[int, tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # frozen: the look-ups are set as the dataclass would
        object.__setattr__(self, "_roles", dict(self.roles))
        object.__setattr__(self, "_organisations", dict(self.organisations))
        districts = {id_: (name, phase) for id_, name, phase in self.districts}
        object.__setattr__(self, "_districts", districts)

    # Each reads the row by its id only when the names do not hold it yet (one added, with its
    # participant, between reading the names and reading the page).
    def role(self, participant: Participant) -> str:
        known = self._roles.get(participant.role_id)
        return known if known is not None else _name_by_id(Role, participant.role_id)

    def organisation(self, participant: Participant) -> str:
        known = self._organisations.get(participant.organisation_id)
        return (
            known if known is not None else _name_by_id(Organisation, participant.organisation_id)
        )

    def district(self, participant: Participant) -> str:
        known = self._districts.get(participant.district_id)
        return known[0] if known else _name_by_id(District, participant.district_id)

    def phase(self, participant: Participant) -> str:
        known = self._districts.get(participant.district_id)
        if known:
            return known[1]
        district = db.session.get(District, participant.district_id)
        return district.phase.name if district is not None else "—"


def _name_by_id(model: type[Role] | type[Organisation] | type[District], id_: int) -> str:
    name = db.session.scalar(select(model.name).where(model.id == id_))
    return name if name is not None else "—"  # deleted since the page was read


def frame_names(study: Study) -> FrameNames:
    """The study's frame by id and name: four queries once per change of the study, then none
    (the revision cache; only names and ids are kept)."""

    def compute() -> tuple[FrameNames, dt.datetime]:
        names = FrameNames(
            phases=tuple((p.id, p.name) for p in phases_of(study)),
            districts=tuple((d.id, d.name, d.phase.name) for d in districts_of(study)),
            roles=tuple((r.id, r.name) for r in roles_of(study)),
            organisations=tuple((o.id, o.name) for o in organisations_of(study)),
        )
        return names, revision_cache.FOREVER

    return revision_cache.cached(study.id, "frame names", compute, now=now_utc())


def phases_of(study: Study) -> list[Phase]:
    return list(
        db.session.scalars(select(Phase).where(Phase.study_id == study.id).order_by(Phase.number))
    )


def districts_of(study: Study) -> list[District]:
    return list(
        db.session.scalars(
            select(District)
            .where(District.study_id == study.id)
            .join(District.phase)
            .order_by(Phase.number, District.name)
        )
    )


def roles_of(study: Study) -> list[Role]:
    return list(
        db.session.scalars(select(Role).where(Role.study_id == study.id).order_by(Role.name))
    )


def organisations_of(study: Study, kind: OrganisationKind | None = None) -> list[Organisation]:
    statement = select(Organisation).where(Organisation.study_id == study.id)
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    return list(db.session.scalars(statement.order_by(Organisation.name)))


def study_overview(study: Study) -> dict:
    """Counts for the home page, in one query each (never a loop over rows)."""
    status_counts = dict(
        db.session.execute(
            select(Participant.status, func.count())
            .where(Participant.study_id == study.id)
            .group_by(Participant.status)
        ).all()
    )
    per_phase = db.session.execute(
        select(Phase, func.count(func.distinct(District.id)), func.count(Participant.id))
        .outerjoin(District, District.phase_id == Phase.id)
        .outerjoin(Participant, Participant.district_id == District.id)
        .where(Phase.study_id == study.id)
        .group_by(Phase.id)
        .order_by(Phase.number)
    ).all()
    totals = db.session.execute(
        select(
            select(func.count()).where(District.study_id == study.id).scalar_subquery(),
            select(func.count()).where(Organisation.study_id == study.id).scalar_subquery(),
            select(func.count()).where(Role.study_id == study.id).scalar_subquery(),
            select(func.count())
            .where(District.study_id == study.id, District.is_placeholder.is_(True))
            .scalar_subquery(),
        )
    ).one()
    participants_total = sum(status_counts.values())
    return {
        "status_counts": [(status, status_counts.get(status, 0)) for status in RecruitmentStatus],
        "participants": participants_total,
        "phases": [
            {"phase": phase, "districts": districts, "participants": people}
            for phase, districts, people in per_phase
        ],
        "districts": totals[0],
        "organisations": totals[1],
        "roles": totals[2],
        "placeholder_districts": totals[3],
    }
