"""The sample frame's resources of the export: phases, districts, organisations, roles, the
disposition codes, and the participants by reference (after the disclosure check)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from fieldwork.exports.consent_scope import archivable_participants
from fieldwork.exports.disclosure import DisclosureResult
from fieldwork.exports.disclosure import control as disclosure_control
from fieldwork.exports.models import ExportSettings
from fieldwork.exports.package import (
    Field,
    ForeignKey,
    Table,
    enum_field,
    id_field,
)
from fieldwork.extensions import db
from fieldwork.recruitment.dispositions import RULES as DISPOSITION_RULES
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    Phase,
    Role,
    Study,
    organisation_district,
)


def _phases(study: Study) -> Table:
    rows = db.session.execute(
        select(Phase.number, Phase.name, Phase.go_live_on)
        .where(Phase.study_id == study.id)
        .order_by(Phase.number)
    ).all()
    return Table(
        "phases",
        "Phases",
        "The waves of districts that went live together.",
        [
            Field(
                "phase_number",
                "integer",
                "The phase's number (1, 2, ...).",
                {"required": True, "unique": True, "minimum": 1},
                "Phase",
            ),
            Field("name", "string", "The phase's name.", {"required": True}),
            Field(
                "go_live_on",
                "date",
                "The date the phase's districts went live (exact: "
                "a public fact, not about any participant).",
            ),
        ],
        ("phase_number",),
        [tuple(row) for row in rows],
    )


def _districts(study: Study) -> Table:
    rows = db.session.execute(
        select(District.id, District.name, Phase.number, District.is_placeholder, District.source)
        .join(Phase, Phase.id == District.phase_id)
        .where(District.study_id == study.id)
        .order_by(District.id)
    ).all()
    return Table(
        "districts",
        "Districts",
        "The sampled areas (Jobcentre Plus districts), each in one phase.",
        [
            id_field("district_id", "district", "District"),
            Field("name", "string", "The district's name.", {"required": True}),
            Field(
                "phase_number", "integer", "The phase the district belongs to.", {"required": True}
            ),
            Field(
                "is_placeholder",
                "boolean",
                "True when the public record could not identify "
                "the district and the name is a placeholder.",
                {"required": True},
            ),
            Field(
                "source",
                "string",
                "Where the facts about this district come from (empty when not recorded).",
            ),
        ],
        ("district_id",),
        [(row[0], row[1], row[2], row[3], row[4] or None) for row in rows],
        (ForeignKey(("phase_number",), "phases", ("phase_number",)),),
    )


def _organisations(study: Study) -> Table:
    from fieldwork.sampling.models import OrganisationKind

    rows = db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.kind, Organisation.lead_provider_id)
        .where(Organisation.study_id == study.id)
        .order_by(Organisation.id)
    ).all()
    return Table(
        "organisations",
        "Organisations",
        "The public bodies and providers whose staff were sampled, by name.",
        [
            id_field("organisation_id", "organisation", "Organisation"),
            Field("name", "string", "The organisation's name.", {"required": True}),
            enum_field("kind", "The kind of organisation (see the codebook).", OrganisationKind),
            Field(
                "lead_provider_id",
                "integer",
                "For a sub-contractor: the lead provider it "
                "works for (an organisation_id); empty otherwise.",
            ),
        ],
        ("organisation_id",),
        [tuple(row) for row in rows],
        (ForeignKey(("lead_provider_id",), "organisations", ("organisation_id",)),),
    )


def _organisation_districts(study: Study) -> Table:
    rows = db.session.execute(
        select(organisation_district.c.organisation_id, organisation_district.c.district_id)
        .join(Organisation, Organisation.id == organisation_district.c.organisation_id)
        .where(Organisation.study_id == study.id)
        .order_by(organisation_district.c.organisation_id, organisation_district.c.district_id)
    ).all()
    return Table(
        "organisation_districts",
        "Districts each organisation covers",
        "One row for each district an organisation covers (an organisation may cover several).",
        [
            Field("organisation_id", "integer", "The organisation.", {"required": True}),
            Field("district_id", "integer", "A district it covers.", {"required": True}),
        ],
        ("organisation_id", "district_id"),
        [tuple(row) for row in rows],
        (
            ForeignKey(("organisation_id",), "organisations", ("organisation_id",)),
            ForeignKey(("district_id",), "districts", ("district_id",)),
        ),
    )


def _roles(study: Study) -> Table:
    from fieldwork.sampling.models import OrganisationKind

    rows = db.session.execute(
        select(Role.id, Role.name, Role.organisation_kind, Role.description)
        .where(Role.study_id == study.id)
        .order_by(Role.id)
    ).all()
    return Table(
        "roles",
        "Roles",
        "The stakeholder roles the study interviews, each tied to a kind of organisation.",
        [
            id_field("role_id", "role", "Role"),
            Field("name", "string", "The role's name.", {"required": True}),
            enum_field(
                "organisation_kind",
                "The kind of organisation the role is found in.",
                OrganisationKind,
            ),
            Field("description", "string", "What the role does (empty when not recorded)."),
        ],
        ("role_id",),
        [(row[0], row[1], row[2], row[3] or None) for row in rows],
    )


def _dispositions() -> Table:
    """The code list of contact outcomes, from the one module that defines them."""
    from fieldwork.recruitment.dispositions import AaporCategory

    return Table(
        "dispositions",
        "Disposition codes",
        "The outcome codes of contact attempts, with their AAPOR category and nearest AAPOR "
        "Standard Definitions code.",
        [
            Field(
                "code",
                "string",
                "The code as it appears in contact_attempts.",
                {"required": True, "unique": True},
            ),
            Field("label", "string", "The code in words.", {"required": True}),
            enum_field("aapor_category", "The AAPOR group of final dispositions.", AaporCategory),
            Field(
                "aapor_code",
                "string",
                "The nearest AAPOR Standard Definitions code.",
                {"required": True},
            ),
            Field(
                "description",
                "string",
                "What the code means and how it moves the participant's recruitment status.",
                {"required": True},
            ),
        ],
        ("code",),
        [
            (code.value, rule.label, rule.category, rule.aapor_code, rule.description)
            for code, rule in DISPOSITION_RULES.items()
        ],
    )


#: How each quasi-identifier appears in the participants file.
_QUASI_FIELDS: dict[str, tuple[str, str, str]] = {
    "role": ("role_id", "integer", "The stakeholder role sampled."),
    "phase": ("phase_number", "integer", "The phase of the district sampled."),
    "district": ("district_id", "integer", "The district sampled."),
    "organisation_kind": ("organisation_kind", "string", "The kind of organisation."),
    "organisation": ("organisation_id", "integer", "The organisation the person works for."),
}
_QUASI_KEYS = {
    "role": ForeignKey(("role_id",), "roles", ("role_id",)),
    "phase": ForeignKey(("phase_number",), "phases", ("phase_number",)),
    "district": ForeignKey(("district_id",), "districts", ("district_id",)),
    "organisation": ForeignKey(("organisation_id",), "organisations", ("organisation_id",)),
}


def _participant_rows(study: Study) -> list:
    """(reference, role, phase number, district, kind, organisation, status) of each person
    who may be exported, by reference."""
    return list(
        db.session.execute(
            select(
                Participant.reference,
                Participant.role_id,
                Phase.number,
                Participant.district_id,
                Organisation.kind,
                Participant.organisation_id,
                Participant.status,
            )
            .join(District, District.id == Participant.district_id)
            .join(Phase, Phase.id == District.phase_id)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .where(
                Participant.study_id == study.id,
                Participant.id.in_(archivable_participants(study)),
            )
            .order_by(Participant.reference)
        ).all()
    )


def _participant_fields(attributes: Sequence[str]) -> list[Field]:
    """The participants file's fields: the reference, the quasi-identifiers kept, status."""
    from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus

    fields = [
        Field(
            "participant_reference",
            "string",
            "A stable pseudonym such as P1-017 "
            "(phase, then a running number); it identifies nobody outside this package.",
            {"required": True, "unique": True},
            "Participant",
        )
    ]
    for name in attributes:
        column, kind, description = _QUASI_FIELDS[name]
        description += " Empty where the disclosure check suppressed it (see the codebook)."
        if name == "organisation_kind":
            fields.append(
                Field(column, kind, description, {"enum": [k.value for k in OrganisationKind]})
            )
        else:
            fields.append(Field(column, kind, description))
    fields.append(
        enum_field(
            "recruitment_status",
            "Where recruitment stood at the export (see the codebook).",
            RecruitmentStatus,
        )
    )
    return fields


def _participants(study: Study, settings: ExportSettings) -> tuple[Table, DisclosureResult]:
    """The participants file, after the disclosure check of the attributes the study chose."""
    rows = _participant_rows(study)
    people = [
        {
            "role": row[1],
            "phase": row[2],
            "district": row[3],
            "organisation_kind": row[4].value if row[4] is not None else None,
            "organisation": row[5],
        }
        for row in rows
    ]
    result = disclosure_control(people, settings.included, settings.min_cell_size)
    table_rows = [
        (row[0], *(values[name] for name in result.attributes), row[6])
        for row, values in zip(rows, result.rows, strict=True)
    ]
    table = Table(
        "participants",
        "Participants",
        "The people interviewed or approached who agreed to archiving, by pseudonymous "
        "reference only: never a name, contact detail, job title or note; with only the "
        "attributes the study chose, after the disclosure check (minimum cell size "
        f"{result.k}).",
        _participant_fields(result.attributes),
        ("participant_reference",),
        table_rows,
        tuple(_QUASI_KEYS[name] for name in result.attributes if name in _QUASI_KEYS),
        is_person_level=True,
    )
    return table, result


def build(study: Study, settings: ExportSettings) -> tuple[list[Table], DisclosureResult]:
    """The frame's tables in the package's order, and what the disclosure check did."""
    participants, disclosure = _participants(study, settings)
    tables = [
        _phases(study),
        _districts(study),
        _organisations(study),
        _organisation_districts(study),
        _roles(study),
        _dispositions(),
        participants,
    ]
    return tables, disclosure
