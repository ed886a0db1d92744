"""JSON API of the sample frame, read-only: studies, and each study's phases, districts,
organisations, roles and participants (lists under /studies/{slug}/..., single items at
/<things>/{id})."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from fieldwork.api.blueprint import ApiBlueprint, found, page_of
from fieldwork.api.schemas import PageArguments, SearchPageArguments
from fieldwork.sampling import queries, schemas, services
from fieldwork.sampling.models import Study

blueprint = ApiBlueprint(
    "sampling_api", __name__, description="The sample frame: studies and who is in them."
)


def study_or_404(slug: str) -> Study:
    """The study a path's slug names, or 404 (for every domain's study-scoped endpoints)."""
    study = queries.get_study(slug)
    if study is None:
        abort(404, "There is no study with that slug.")
    return study


@blueprint.get("/studies")
@blueprint.arguments(SearchPageArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.StudyPage)
def list_studies(**arguments: Any) -> dict:
    """List studies

    Every study in the installation, by name; q searches name and slug.
    """
    return page_of(queries.study_query(arguments["q"]), arguments)


@blueprint.get("/studies/<slug>")
@blueprint.response(200, schemas.Study)
def get_study(slug: str) -> Study:
    """Get a study

    One study with its phases.
    """
    return study_or_404(slug)


@blueprint.get("/studies/<slug>/phases")
@blueprint.arguments(PageArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.PhasePage)
def list_phases(slug: str, **arguments: Any) -> dict:
    """List a study's phases

    In number order.
    """
    return page_of(queries.phase_query(study_or_404(slug)), arguments)


@blueprint.get("/studies/<slug>/districts")
@blueprint.arguments(schemas.DistrictArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.DistrictPage)
def list_districts(slug: str, **arguments: Any) -> dict:
    """List a study's districts

    In phase, then name order; q searches the name.
    """
    return page_of(queries.district_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/organisations")
@blueprint.arguments(schemas.OrganisationArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.OrganisationPage)
def list_organisations(slug: str, **arguments: Any) -> dict:
    """List a study's organisations

    By name; district keeps those covering that district; q searches the name.
    """
    return page_of(queries.organisation_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/roles")
@blueprint.arguments(schemas.RoleArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.RolePage)
def list_roles(slug: str, **arguments: Any) -> dict:
    """List a study's stakeholder roles

    By name; kind keeps roles for that kind of organisation; q searches the name.
    """
    return page_of(queries.role_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/participants")
@blueprint.arguments(schemas.ParticipantArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ParticipantPage)
def list_participants(slug: str, **arguments: Any) -> dict:
    """List a study's participants

    By reference. q searches name, reference, email and job title. Interviewers see only the
    participants assigned to them; coordinators see everyone.
    """
    statement = queries.participant_list_query(study_or_404(slug), arguments, current_user)
    return page_of(statement, arguments)


@blueprint.get("/participants/<id:participant_id>")
@blueprint.response(200, schemas.Participant)
def get_participant(participant_id: int):
    """Get a participant

    404 also when an interviewer asks for someone not assigned to them.
    """
    return found(services.get_participant(participant_id, current_user), "participant")


@blueprint.get("/districts/<id:district_id>")
@blueprint.response(200, schemas.District)
def get_district(district_id: int):
    """Get a district

    One district with its phase.
    """
    return found(queries.get_district(district_id), "district")


@blueprint.get("/organisations/<id:organisation_id>")
@blueprint.response(200, schemas.Organisation)
def get_organisation(organisation_id: int):
    """Get an organisation

    One organisation with its lead provider and districts.
    """
    return found(queries.get_organisation(organisation_id), "organisation")


@blueprint.get("/roles/<id:role_id>")
@blueprint.response(200, schemas.Role)
def get_role(role_id: int):
    """Get a role

    One stakeholder role.
    """
    return found(queries.get_role(role_id), "role")
