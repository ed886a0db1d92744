"""The sample frame as the API answers it, and the filters its lists take."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from fieldwork.api.schemas import (
    Choice,
    Id,
    Resource,
    RowId,
    SearchPageArguments,
    Text,
    WholeNumber,
    page_of,
)
from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus

# --- Answers ---------------------------------------------------------------------------------


class PhaseSummary(Resource):
    """A phase as other resources name it."""

    number = fields.Integer()
    name = fields.String()
    go_live_on = fields.Date(allow_none=True)


class Reference(Resource):
    """Another resource, by id and name."""

    id = Id()
    name = fields.String()


class ParticipantReference(Resource):
    """A participant by id and pseudonymous reference."""

    id = Id()
    reference = fields.String(metadata={"description": "e.g. P1-017"})


class Study(Resource):
    """A study; phases in number order."""

    id = Id()
    slug = fields.String()
    name = fields.String()
    description = Text()
    timezone = fields.String(metadata={"description": "IANA zone the study books in."})
    fieldwork_starts_on = fields.Date(allow_none=True)
    fieldwork_ends_on = fields.Date(allow_none=True)
    organiser_name = Text()
    organiser_email = Text()
    interview_minutes = fields.Integer()
    created_at = fields.AwareDateTime(metadata={"description": "ISO 8601 with a UTC offset."})
    phases = fields.List(fields.Nested(PhaseSummary))


class Phase(Resource):
    """A wave of districts that went live together."""

    id = Id()
    study_id = Id()
    number = fields.Integer()
    name = fields.String()
    go_live_on = fields.Date(allow_none=True)


class District(Resource):
    """A sampled area, in one phase."""

    id = Id()
    study_id = Id()
    name = fields.String()
    phase = fields.Nested(PhaseSummary)
    is_placeholder = fields.Boolean(
        metadata={"description": "True when public sources could not identify the district."}
    )
    source = Text(metadata={"description": "Where the facts come from."})


class Organisation(Resource):
    """A public body or provider whose staff are sampled."""

    id = Id()
    study_id = Id()
    name = fields.String()
    kind = Choice(OrganisationKind)
    kind_label = fields.String(
        attribute="kind.label", metadata={"description": "The kind, for people."}
    )
    lead_provider = fields.Nested(
        Reference, allow_none=True, metadata={"description": "A sub-contractor's lead provider."}
    )
    district_ids = fields.Method(
        "sorted_district_ids",
        metadata={
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "description": "The districts it covers, by id, ascending.",
        },
    )
    notes = Text()

    def sorted_district_ids(self, organisation) -> list[int]:
        return sorted(district.id for district in organisation.districts)


class Role(Resource):
    """A stakeholder role to interview, tied to a kind of organisation."""

    id = Id()
    study_id = Id()
    name = fields.String()
    organisation_kind = Choice(OrganisationKind)
    description = Text()


class OrganisationSummary(Resource):
    """An organisation as a participant names it."""

    id = Id()
    name = fields.String()
    kind = Choice(OrganisationKind)


class PhaseName(Resource):
    """A phase by number and name."""

    number = fields.Integer()
    name = fields.String()


class Participant(Resource):
    """A person in the sample frame."""

    id = Id()
    reference = fields.String(metadata={"description": "Stable pseudonym, e.g. P1-017."})
    name = fields.String()
    job_title = Text()
    email = Text(metadata={"description": "Lower-case; empty when unknown."})
    phone = Text()
    notes = Text()
    timezone = Text(
        metadata={"description": "The IANA zone they read times in; empty until known."}
    )
    status = Choice(RecruitmentStatus)
    study = fields.String(attribute="study.slug", metadata={"description": "The study's slug."})
    role = fields.Nested(Reference)
    organisation = fields.Nested(OrganisationSummary)
    district = fields.Nested(Reference)
    phase = fields.Nested(PhaseName, attribute="district.phase")
    interviewer = fields.Nested(
        Reference, allow_none=True, metadata={"description": "The interviewer assigned, if any."}
    )
    created_at = fields.AwareDateTime(metadata={"description": "ISO 8601 with a UTC offset."})
    updated_at = fields.AwareDateTime(metadata={"description": "ISO 8601 with a UTC offset."})


StudyPage = page_of(Study)
PhasePage = page_of(Phase)
DistrictPage = page_of(District)
OrganisationPage = page_of(Organisation)
RolePage = page_of(Role)
ParticipantPage = page_of(Participant)


# --- Arguments -------------------------------------------------------------------------------


def _by_id(what: str) -> WholeNumber:
    return WholeNumber(metadata={"description": f"Only this {what}, by id."})


class DistrictArguments(SearchPageArguments):
    phase = WholeNumber(metadata={"description": "Only this phase, by its number (1, 2, ...)."})


class OrganisationArguments(SearchPageArguments):
    kind = Choice(OrganisationKind, metadata={"description": "Only this kind of organisation."})
    district = _by_id("district")


class RoleArguments(SearchPageArguments):
    kind = Choice(OrganisationKind, metadata={"description": "Only roles for this kind."})


class ParticipantArguments(DistrictArguments):
    district = _by_id("district")
    role = _by_id("role")
    kind = Choice(OrganisationKind, metadata={"description": "Only this kind of organisation."})
    status = Choice(RecruitmentStatus, metadata={"description": "Only this recruitment status."})
    interviewer = WholeNumber(
        metadata={"description": "Only people assigned to this interviewer, by user id."}
    )


# --- Writes ----------------------------------------------------------------------------------


class _TextOrNull(fields.String):
    """A text field a client may send as null, meaning empty."""

    def __init__(self, description: str = "", **kwargs) -> None:
        metadata = {"description": description} if description else {}
        super().__init__(allow_none=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return "" if value is None else super()._deserialize(value, attr, data, **kwargs)


class ParticipantValues(ma.Schema):
    """A participant's fields as a write sends them."""

    class Meta:
        unknown = ma.RAISE
        description = (
            "A participant's fields as a write sends them. Creating one needs name, role_id, "
            "organisation_id and district_id; a change (PATCH) sends only what changes. The "
            "import's rules apply (lengths, email and phone formats, a role that fits the "
            "organisation, an enabled interviewer, no second person with the same email, or "
            "without one the same name at the same organisation); no other field is accepted."
        )

    name = fields.String(
        validate=ma.validate.Length(min=1, error="The name is missing; it is required."),
        metadata={"description": "Full name (not empty)."},
    )
    email = _TextOrNull("Stored lower-case.")
    phone = _TextOrNull()
    job_title = _TextOrNull()
    notes = _TextOrNull()
    timezone = _TextOrNull("An IANA zone such as Europe/London; empty when unknown.")
    role_id = RowId(metadata={"description": "A role of the study."})
    organisation_id = RowId(metadata={"description": "An organisation of the study."})
    district_id = RowId(metadata={"description": "A district of the study."})
    interviewer_id = RowId(
        allow_none=True,
        metadata={"description": "The interviewer assigned (a user id), or null for nobody."},
    )


class ImportResult(Resource):
    """What a bulk import did (all of it: an import is written whole or not at all)."""

    created = fields.Integer(metadata={"description": "Participants added."})
    updated = fields.Integer(metadata={"description": "Participants changed (by reference)."})
    organisations_created = fields.Integer()
    districts_created = fields.Integer()
    total = fields.Integer(metadata={"description": "Participants added or changed."})
