"""JSON API of the sample frame: studies, and each study's phases, districts, organisations,
roles and participants (lists under /studies/{slug}/..., single items at /<things>/{id});
participants are added and changed one at a time or imported in bulk, by the CSV import's
rules, by the study's coordinators."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Conflict

from fieldwork.api.blueprint import ApiBlueprint, found, page_of
from fieldwork.api.schemas import PageArguments, SearchPageArguments
from fieldwork.api.writes import (
    InvalidFields,
    InvalidRows,
    RowErrors,
    first_by_field,
    require_coordinator_of,
)
from fieldwork.sampling import participant_changes, queries, schemas, services
from fieldwork.sampling.imports import rows
from fieldwork.sampling.imports.plan import FrameImportError, ImportResult
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


# --- Writes ----------------------------------------------------------------------------------


def _participant_answer(participant_id: int):
    """The saved participant as the reads answer it, with where it lives."""
    participant = services.get_participant(participant_id, current_user)
    location = url_for(".get_participant", participant_id=participant_id, _external=True)
    return participant, {"Location": location}


def _refused(refused: participant_changes.ParticipantRefused) -> InvalidFields:
    return InvalidFields(first_by_field((e.field, e.message) for e in refused.errors))


@blueprint.post("/studies/<slug>/participants")
@blueprint.arguments(schemas.ParticipantValues)
@blueprint.response(201, schemas.Participant)
@blueprint.write_errors(invalid="Fields that break the rules.")
def create_participant(values: dict, slug: str):
    """Add a participant

    The study's coordinators only. Checked as a row of the CSV import is (see
    ParticipantValues); every bad field is named in `error.fields`. The new participant gets
    the next reference of their district's phase and the status identified. Audited.
    """
    study = study_or_404(slug)
    require_coordinator_of(study.id)
    try:
        participant = participant_changes.create_participant(study, values, current_user)
    except participant_changes.ParticipantRefused as refused:
        raise _refused(refused) from refused
    answer, headers = _participant_answer(participant.id)
    return answer, 201, headers


@blueprint.patch("/participants/<id:participant_id>")
@blueprint.arguments(schemas.ParticipantValues, required=False)  # no field: nothing changes
@blueprint.response(200, schemas.Participant)
@blueprint.write_errors(
    invalid="Fields that break the rules.", conflict="The participant was erased."
)
def update_participant(changes: dict, participant_id: int):
    """Change a participant

    The study's coordinators only. Send only the fields that change; the result is checked
    whole, by the import's rules. An erased participant's details are not filled in again
    (409). Audited.
    """
    participant = found(services.get_participant(participant_id, current_user), "participant")
    require_coordinator_of(participant.study_id)
    try:
        participant_changes.update_participant(participant, changes, current_user)
    except participant_changes.ParticipantRefused as refused:
        raise _refused(refused) from refused
    except participant_changes.ParticipantErased as erased:
        raise Conflict(str(erased)) from erased
    return _participant_answer(participant_id)[0]


_IMPORT_BODY = {
    "required": True,
    "description": "The rows of a sample-frame import, with the CSV format's columns "
    "(docs/import-format.md): a JSON array of objects keyed by column name, or the CSV file "
    "itself as text/csv.",
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "null"]},
                },
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


def _import_rows_of(study: Study) -> ImportResult:
    if request.mimetype == "text/csv":
        return rows.import_file(study, request.get_data(), current_user)
    data = request.get_json(silent=True)
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise InvalidFields(
            {
                "body": "Send a JSON array of row objects (application/json) or a CSV file "
                "(text/csv)."
            }
        )
    return rows.import_rows(study, data, current_user)


@blueprint.post("/studies/<slug>/imports")
@blueprint.doc(requestBody=_IMPORT_BODY)
@blueprint.response(201, schemas.ImportResult)
@blueprint.write_errors(
    invalid="A body that holds no rows.", conflict="The study changed meanwhile."
)
@blueprint.alt_response(422, schema=RowErrors, description="Rows that break the rules.")
def import_participants(slug: str):
    """Import participants in bulk

    The study's coordinators only. The same rows as the CSV import, checked by the same
    rules, written all together or (any problem) not at all: a refusal lists every problem by
    row (from 1 in a JSON array; the file's line, header 1, in a CSV) and column. Rows whose
    reference exists change that participant. Audited as one import.
    """
    study = study_or_404(slug)
    require_coordinator_of(study.id)
    try:
        result = _import_rows_of(study)
    except rows.RowsRefused as refused:
        errors = [{"row": e.row, "field": e.field, "message": e.message} for e in refused.errors]
        raise InvalidRows(errors, str(refused)) from refused
    except FrameImportError as error:
        raise Conflict(str(error)) from error
    return result, 201
