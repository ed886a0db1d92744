"""Writing a checked plan: bulk statements in one transaction, all of it or (on error) none."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.imports.columns import OPTIONAL_FIELDS
from fieldwork.sampling.imports.plan import (
    FrameImportError,
    ImportPlan,
    ImportResult,
    NewDistrict,
    NewOrganisation,
    PlannedRow,
)
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    RecruitmentStatus,
    Study,
    organisation_district,
)


def apply_plan(study: Study, plan: ImportPlan, actor: User | None = None) -> ImportResult:
    """Write a plan without problems, in one transaction: all of it, or (on error) none;
    the import is an audit event in that transaction (by `actor`, None from the CLI)."""
    if plan.problems:
        raise ValueError("A plan with problems cannot be applied.")
    if plan.study_id != study.id:
        raise ValueError("The plan was made for another study.")
    try:
        result = _write(study, plan)
        audit.record_event(
            "import.completed",
            actor=actor,
            study_id=study.id,
            subject_type="study",
            subject_id=study.id,
            after={
                "created": result.created,
                "updated": result.updated,
                "organisations_created": result.organisations_created,
                "districts_created": result.districts_created,
            },
        )
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        raise FrameImportError(
            "The sample frame changed while the file was being imported, so nothing was "
            "imported. Upload the file again."
        ) from error
    except BaseException:
        db.session.rollback()
        raise
    return result


def _write(study: Study, plan: ImportPlan) -> ImportResult:
    """Bulk statements (executemany), not one ORM flush per object."""
    organisation_ids, district_ids = _write_frame_things(study, plan)
    now = now_utc()
    new_people: list[dict[str, Any]] = []
    changed_people: list[dict[str, Any]] = []
    for row in plan.rows:
        values = _participant_values(row, plan.columns, organisation_ids, district_ids)
        if row.participant is None:
            new_people.append(_new_participant(study, row, values, now))
        elif row.is_changed:
            changed_people.append({"id": row.participant.id, "updated_at": now, **values})
    if new_people:
        db.session.execute(insert(Participant), new_people)
    if changed_people:
        db.session.execute(update(Participant), changed_people)
    return ImportResult(
        created=len(new_people),
        updated=plan.participants_updated,
        organisations_created=plan.organisations_created,
        districts_created=plan.districts_created,
    )


def _write_frame_things(study: Study, plan: ImportPlan) -> tuple[dict[str, int], dict[str, int]]:
    """Create the new organisations and districts, record lead providers and "covers" links.
    Returns the ids of every organisation and district the rows name, by lower-case name."""
    if plan.new_organisations:
        db.session.execute(
            insert(Organisation),
            [
                {"study_id": study.id, "name": new.name, "kind": new.kind, "notes": ""}
                for new in plan.new_organisations.values()
            ],
        )
    if plan.new_districts:
        db.session.execute(
            insert(District),
            [
                {
                    "study_id": study.id,
                    "name": new.name,
                    "phase_id": new.phase.id,
                    "is_placeholder": False,
                    "source": "",
                }
                for new in plan.new_districts.values()
            ],
        )
    organisation_ids = {key: organisation.id for key, organisation in plan.organisations.items()}
    organisation_ids.update(_ids_of_new(Organisation, study, plan.new_organisations))
    district_ids = {key: district.id for key, district in plan.districts.items()}
    district_ids.update(_ids_of_new(District, study, plan.new_districts))
    lead_providers = [
        (key, new.lead_provider_key)
        for key, new in plan.new_organisations.items()
        if new.lead_provider_key
    ] + list(plan.lead_provider_updates.items())
    if lead_providers:
        db.session.execute(
            update(Organisation),
            [
                {"id": organisation_ids[key], "lead_provider_id": organisation_ids[lead_key]}
                for key, lead_key in lead_providers
            ],
        )
    if plan.new_links:
        db.session.execute(
            insert(organisation_district),
            [
                {"organisation_id": organisation_ids[org_key], "district_id": district_ids[key]}
                for org_key, key in sorted(plan.new_links)
            ],
        )
    return organisation_ids, district_ids


def _participant_values(
    row: PlannedRow,
    columns: frozenset[str],
    organisation_ids: dict[str, int],
    district_ids: dict[str, int],
) -> dict[str, Any]:
    """The fields a row sets: the required ones, and the optional ones the file has."""
    assert row.role is not None  # checked: a row without a role is a problem
    values: dict[str, Any] = {
        "name": row.name,
        "role_id": row.role.id,
        "organisation_id": organisation_ids[row.organisation_key],
        "district_id": district_ids[row.district_key],
    }
    values.update({name: getattr(row, name) for name in OPTIONAL_FIELDS if name in columns})
    if "interviewer" in columns:
        values["interviewer_id"] = row.interviewer_id
    return values


def _new_participant(
    study: Study, row: PlannedRow, values: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    return {
        "study_id": study.id,
        "reference": row.reference,
        "status": RecruitmentStatus.IDENTIFIED,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def _ids_of_new(
    model: type[Organisation] | type[District],
    study: Study,
    created: dict[str, NewOrganisation] | dict[str, NewDistrict],
) -> dict[str, int]:
    """The ids of the organisations or districts just inserted, by key (one query)."""
    if not created:
        return {}
    names = {new.name: key for key, new in created.items()}
    rows = db.session.execute(select(model.name, model.id).where(model.study_id == study.id))
    return {names[name]: row_id for name, row_id in rows if name in names}
