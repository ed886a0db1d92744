"""Districts: the paged list, saving and deleting one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import contains_eager, selectinload

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
    people_still_using,
    refuse_if,
    refuse_taken_name,
    require_name,
)
from fieldwork.sampling.models import (
    District,
    Participant,
    Phase,
    Study,
    organisation_district,
)


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
    covering = links_per(organisation_district.c.district_id, study)
    people = participants_per(Participant.district_id, study)
    rows = (
        select(District, func.coalesce(covering.c.n, 0), func.coalesce(people.c.n, 0))
        .join(District.phase)
        .options(contains_eager(District.phase))
        .outerjoin(covering, covering.c.key == District.id)
        .outerjoin(people, people.c.key == District.id)
        .where(District.id.in_(matching))
        .order_by(Phase.number, District.name, District.id)
    )
    return page_of_rows(matching, rows, page, per_page, lambda row: DistrictRow(*row))


def get_district(study: Study, district_id: int) -> District | None:
    """A district of `study` with the organisations covering it; None for another study's."""
    return db.session.scalar(
        select(District)
        .where(District.id == district_id, District.study_id == study.id)
        .options(selectinload(District.organisations))
    )


@transaction()
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
    name = require_name(name, "district")
    refuse_taken_name(District, study.id, district, name, "district")
    phase = db.session.get(Phase, phase_id) if phase_id else None
    if phase is None or phase.study_id != study.id:
        raise FrameFieldError("phase_id", "Choose a phase of this study.")
    if district is None:
        district = District(study_id=study.id)
        db.session.add(district)
    district.name = name
    district.phase_id = phase.id
    district.is_placeholder = bool(is_placeholder)
    district.source = clean_text(source)
    flush_or_refuse("name", name_taken_message("district", name))
    return district


def why_not_delete_district(district: District) -> str | None:
    return people_still_using(
        district.study_id,
        f"still in {district.name}",
        "move them to another district",
        district_id=district.id,
    )


@transaction()
def delete_district(district: District) -> None:
    """Delete a district nobody is sampled in; organisations simply stop covering it."""
    refuse_if(why_not_delete_district(district))
    db.session.execute(
        delete(organisation_district).where(organisation_district.c.district_id == district.id)
    )
    db.session.execute(delete(District).where(District.id == district.id))
