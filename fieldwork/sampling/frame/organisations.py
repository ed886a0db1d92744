"""Organisations: the paged list, kinds and lead providers, saving and deleting one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload, selectinload

from fieldwork.core.pagination import Page
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.frame.common import (
    FrameFieldError,
    clean_text,
    flush_or_refuse,
    links_per,
    name_taken_message,
    page_of_rows,
    participants_per,
    people_are,
    people_still_using,
    plural,
    refuse_if,
    refuse_taken_name,
    require_name,
)
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Role,
    Study,
    organisation_district,
)


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
    covered = links_per(organisation_district.c.organisation_id, study)
    people = participants_per(Participant.organisation_id, study)
    rows = (
        select(Organisation, func.coalesce(covered.c.n, 0), func.coalesce(people.c.n, 0))
        .options(joinedload(Organisation.lead_provider))
        .outerjoin(covered, covered.c.key == Organisation.id)
        .outerjoin(people, people.c.key == Organisation.id)
        .where(Organisation.id.in_(matching))
        .order_by(Organisation.name, Organisation.id)
    )
    return page_of_rows(matching, rows, page, per_page, lambda row: OrganisationRow(*row))


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


@transaction()
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
    name = require_name(name, "organisation")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise FrameFieldError("kind", "Choose the kind of organisation.")
    own_id = organisation.id if organisation else None
    refuse_taken_name(Organisation, study.id, organisation, name, "organisation")
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
    organisation.notes = clean_text(notes)
    flush_or_refuse("name", name_taken_message("organisation", name))
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
            f"{people_are(mismatched)} at {organisation.name} in roles for "
            f"{organisation.kind.label} staff: change their roles first.",
        )
    if organisation.kind == OrganisationKind.LEAD_PROVIDER:
        followers = db.session.scalar(
            select(func.count()).where(Organisation.lead_provider_id == organisation.id)
        )
        if followers:
            raise FrameFieldError(
                "kind",
                f"{plural(followers, 'sub-contractor')} "
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
    reason = people_still_using(
        organisation.study_id,
        f"still at {organisation.name}",
        "move them to another organisation",
        organisation_id=organisation.id,
    )
    if reason:
        return reason
    followers = db.session.scalar(
        select(func.count()).where(Organisation.lead_provider_id == organisation.id)
    )
    if followers:
        return (
            f"{plural(followers, 'sub-contractor')} {'names' if followers == 1 else 'name'}"
            f" {organisation.name} as lead provider: give them another lead provider or "
            f"delete them first."
        )
    return None


@transaction()
def delete_organisation(organisation: Organisation) -> None:
    refuse_if(why_not_delete_organisation(organisation))
    db.session.execute(
        delete(organisation_district).where(
            organisation_district.c.organisation_id == organisation.id
        )
    )
    db.session.execute(delete(Organisation).where(Organisation.id == organisation.id))
