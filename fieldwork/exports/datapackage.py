"""The open-data export: a study's fieldwork record as a Frictionless (Tabular) Data Package.

A package is built in two steps that know nothing of Flask: `build_package(study, ...)` reads
the database (one query per resource, ordered by stable keys) into a `DataPackage` of tables
with their Table Schemas, and `DataPackage.files()` turns it into bytes (CSV with the stdlib
`csv` module through `fieldwork.core.spreadsheet`, JSON with `json`), which `write_directory`
and `write_zip` store.

Anonymity rules, applied here and nowhere else:

* No name, email, phone, job title, note, typed signature, place, link or free-text reason of a
  participant is ever selected; participants appear only by their pseudonymous reference.
* Person-level resources (participants, contact attempts, appointments, consents, consent
  answers) hold only participants whose latest consent to each form they answered is not
  withdrawn, and agrees to archiving where the form asks (a re-consent that declines archiving
  excludes them); the package says how many were left out and why. Aggregate resources
  (coverage) count all.
* The participants file carries only the quasi-identifiers the study chose (role, phase,
  district, organisation kind, organisation), after the disclosure check of
  `fieldwork.exports.disclosure` (minimum cell size k): generalised or suppressed where a
  combination would describe fewer than k people.
* Dates are calendar dates in the study's time zone, optionally coarsened to the Monday of
  their ISO week or the first day of their month; times of day are never exported.

Determinism: the same database gives byte-identical files. Rows are ordered by stable keys,
JSON keys are written in a fixed order, and the package's `created` date is the latest date
in the exported records (or one the caller pins), never the time of the export.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, or_, select

from fieldwork.core import spreadsheet
from fieldwork.core.time import now_utc
from fieldwork.exports.disclosure import DisclosureResult
from fieldwork.exports.disclosure import control as disclosure_control
from fieldwork.exports.models import ExportSettings
from fieldwork.extensions import db
from fieldwork.recruitment.dispositions import RULES as DISPOSITION_RULES
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentForm,
    ConsentFormVersion,
    ConsentItem,
    ContactAttempt,
)
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    Phase,
    Role,
    Study,
    organisation_district,
)
from fieldwork.scheduling.models import Appointment

#: The consent item whose agreement lets a participant's records into the package.
ARCHIVING_ITEM = "archiving"
#: Where the codebook goes in the package.
README_PATH = "README.md"
#: The CSV dialect every resource is written in (RFC 4180), declared in each resource.
DIALECT: dict[str, Any] = {
    "delimiter": ",",
    "doubleQuote": True,
    "header": True,
    "lineTerminator": "\r\n",
    "quoteChar": '"',
}
#: A fixed timestamp for zip members, so two zips of the same package are identical.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class DatePrecision(enum.StrEnum):
    """How exact the dates of person-level events are in the export."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def label(self) -> str:
        return {
            "day": "Exact day",
            "week": "Week (the Monday of the ISO week)",
            "month": "Month (the first day of the month)",
        }[self.value]

    @property
    def meaning(self) -> str:
        """How a reader should take a date of this precision, for descriptions."""
        return {
            "day": "the calendar day",
            "week": "the Monday of the ISO week (coarsened: the exact day is not given)",
            "month": "the first day of the month (coarsened: the exact day is not given)",
        }[self.value]


def coarsen(day: dt.date | None, precision: DatePrecision) -> dt.date | None:
    """The date as exact as `precision` allows: the day, its week's Monday, or its month's 1st."""
    if day is None:
        return None
    if precision == DatePrecision.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if precision == DatePrecision.MONTH:
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class Field:
    """One column of a table, as its Table Schema field descriptor says."""

    name: str
    type: str
    description: str
    constraints: dict[str, Any] = field(default_factory=dict)
    title: str = ""

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        out["type"] = self.type
        if self.type == "boolean":
            out["trueValues"] = ["true"]
            out["falseValues"] = ["false"]
        out["description"] = self.description
        if self.constraints:
            out["constraints"] = self.constraints
        return out


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]

    def descriptor(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "reference": {"resource": self.resource, "fields": list(self.reference_fields)},
        }


@dataclass
class Table:
    """A tabular resource: its schema and its rows (tuples in field order)."""

    name: str
    title: str
    description: str
    fields: list[Field]
    primary_key: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    foreign_keys: tuple[ForeignKey, ...] = ()
    #: True for a resource about individual people (filtered by consent to archiving).
    is_person_level: bool = False

    @property
    def path(self) -> str:
        return f"data/{self.name}.csv"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "fields": [f.descriptor() for f in self.fields],
            "missingValues": [""],
            "primaryKey": list(self.primary_key),
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [fk.descriptor() for fk in self.foreign_keys]
        return schema

    def descriptor(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "profile": "tabular-data-resource",
            "path": self.path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": dict(DIALECT),
            "schema": self.schema(),
        }

    def csv_bytes(self) -> bytes:
        buffer = io.StringIO(newline="")
        writer = spreadsheet.writer(
            buffer, delimiter=",", quotechar='"', doublequote=True, lineterminator="\r\n"
        )
        writer.writerow(self.field_names)
        for row in self.rows:
            # Numbers stay numbers (typed columns); text that could run as a formula in a
            # spreadsheet is quoted first (fieldwork.core.spreadsheet).
            writer.writerow([_cell(spreadsheet.neutralise(value)) for value in row])
        return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    """A value as its CSV text: empty for missing, lower-case booleans, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


@dataclass(frozen=True)
class Exclusions:
    """How many participants of the frame are in the person-level resources, and why not."""

    in_frame: int
    included: int
    no_consent_recorded: int
    consent_withdrawn: int
    did_not_agree_to_archiving: int

    @property
    def left_out(self) -> int:
        return self.in_frame - self.included

    def descriptor(self) -> dict[str, int]:
        return {
            "participantsInFrame": self.in_frame,
            "participantsIncluded": self.included,
            "participantsLeftOut": self.left_out,
            "leftOutNoConsentRecorded": self.no_consent_recorded,
            "leftOutConsentWithdrawn": self.consent_withdrawn,
            "leftOutDidNotAgreeToArchiving": self.did_not_agree_to_archiving,
        }


@dataclass
class DataPackage:
    """A built package: its tables, the counts of who was left out, and its codebook."""

    study: Study
    precision: DatePrecision
    tables: list[Table]
    exclusions: Exclusions
    created: dt.datetime | None
    disclosure: DisclosureResult | None = None
    readme: str = ""

    @property
    def name(self) -> str:
        return f"fieldwork-{self.study.slug}".lower()

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "profile": "data-package",
            "name": self.name,
            "title": f"Fieldwork record: {self.study.name}",
            "description": (
                f"The anonymised fieldwork record of the study {self.study.name!r}: the sample "
                "frame (phases, districts, organisations, roles), the participants by "
                "pseudonymous reference, their contact attempts, appointments and consents, "
                "and the quotas and their coverage. Participants whose current consent does "
                "not agree to archiving are left out of the person-level resources: "
                f"{self.exclusions.left_out} of {self.exclusions.in_frame} were left out. "
                f"Dates are {self.precision.meaning}, in the time zone {self.study.timezone}. "
                f"See {README_PATH} for the codebook."
            ),
        }
        if self.created is not None:
            out["created"] = self.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["keywords"] = ["qualitative research", "fieldwork", "interviews", "paradata"]
        out["fieldwork"] = {
            "study": self.study.slug,
            "timezone": self.study.timezone,
            "datePrecision": self.precision.value,
            "consentItemForArchiving": ARCHIVING_ITEM,
            **self.exclusions.descriptor(),
        }
        if self.disclosure is not None:
            out["fieldwork"]["disclosureControl"] = self.disclosure.descriptor()
        out["resources"] = [
            {
                "name": "readme",
                "title": "Codebook",
                "description": "What each resource, field, code and rate means (Markdown).",
                "path": README_PATH,
                "format": "md",
                "mediatype": "text/markdown",
                "encoding": "utf-8",
            },
            *(table.descriptor() for table in self.tables),
        ]
        return out

    def files(self) -> dict[str, bytes]:
        """Every file of the package by its path inside the package, in a stable order."""
        descriptor = json.dumps(self.descriptor(), indent=2, ensure_ascii=False) + "\n"
        out = {"datapackage.json": descriptor.encode("utf-8"), README_PATH: self.readme.encode()}
        for table in self.tables:
            out[table.path] = table.csv_bytes()
        return out


def write_directory(package: DataPackage, directory: str | os.PathLike) -> list[str]:
    """Write the package's files under `directory` (created if need be); the paths written."""
    written = []
    for path, content in package.files().items():
        target = os.path.join(directory, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)
        written.append(target)
    return written


def write_zip(package: DataPackage, target: IO[bytes]) -> None:
    """Write the package as a zip whose members sit under one folder named after the package.

    Member times and permissions are fixed, so the same package gives the same bytes.
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in package.files().items():
            info = zipfile.ZipInfo(f"{package.name}/{path}", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)


# --- Building ----------------------------------------------------------------------------------


def build_package(
    study: Study,
    precision: DatePrecision | str = DatePrecision.DAY,
    created: dt.datetime | None = None,
    settings: ExportSettings | None = None,
) -> DataPackage:
    """Read the study's record into a package. `created` pins the package's date; without it
    the date is that of the latest exported record, so re-exporting changes nothing.
    `settings` (by default the study's own) say which quasi-identifiers the participants
    file may carry and the minimum cell size."""
    from fieldwork.exports import codebook, coverage_resources, pipeline_resources

    settings = settings or settings_for(study)

    precision = DatePrecision(precision)
    zone = ZoneInfo(study.timezone)
    exclusions = _exclusions(study)
    consent_rows, consent_numbers = _consents(study, zone, precision)
    participants, disclosure = _participants(study, settings)
    tables = [
        _phases(study),
        _districts(study),
        _organisations(study),
        _organisation_districts(study),
        _roles(study),
        _dispositions(),
        participants,
        _contact_attempts(study, zone, precision),
        _appointments(study, zone, precision),
        _consent_form_versions(study),
        _consent_items(study),
        consent_rows,
        _consent_answers(study, consent_numbers),
    ]
    tables.extend(coverage_resources.build(study, created or now_utc()))
    tables.extend(pipeline_resources.build(study, archivable_participants(study), precision))
    if created is None:
        latest = _latest_date(tables)
        created = (
            dt.datetime.combine(latest, dt.time(), tzinfo=dt.UTC) if latest is not None else None
        )
    package = DataPackage(
        study=study,
        precision=precision,
        tables=tables,
        exclusions=exclusions,
        created=created,
        disclosure=disclosure,
    )
    package.readme = codebook.render(package)
    return package


def _latest_date(tables: Iterable[Table]) -> dt.date | None:
    """The latest date in the person-level tables: what `created` defaults to."""
    latest: dt.date | None = None
    for table in tables:
        if not table.is_person_level:
            continue
        positions = [i for i, f in enumerate(table.fields) if f.type == "date"]
        for row in table.rows:
            for position in positions:
                value = row[position]
                if value is not None and (latest is None or value > latest):
                    latest = value
    return latest


def _local_day(value: dt.datetime | None, zone: ZoneInfo, precision: DatePrecision):
    if value is None:
        return None
    return coarsen(value.astimezone(zone).date(), precision)


def _latest_consents(study: Study):
    """Each participant's latest consent to each form (by when it was given), as a subquery
    of (consent_id, participant_id, withdrawn_at)."""
    ranked = (
        select(
            Consent.id.label("consent_id"),
            Consent.participant_id,
            Consent.withdrawn_at,
            func.row_number()
            .over(
                partition_by=(Consent.participant_id, ConsentFormVersion.form_id),
                order_by=(Consent.given_at.desc(), Consent.id.desc()),
            )
            .label("position"),
        )
        .join(ConsentFormVersion, ConsentFormVersion.id == Consent.version_id)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(Participant.study_id == study.id)
        .subquery()
    )
    return (
        select(ranked.c.consent_id, ranked.c.participant_id, ranked.c.withdrawn_at)
        .where(ranked.c.position == 1)
        .subquery()
    )


def _archiving_answers(agreed: bool):
    return (
        select(ConsentAnswer.consent_id)
        .join(ConsentItem, ConsentItem.id == ConsentAnswer.item_id)
        .where(ConsentItem.key == ARCHIVING_ITEM, ConsentAnswer.is_agreed.is_(agreed))
    )


def archivable_participants(study: Study):
    """A selectable of the ids of the study's participants whose latest consent to some form
    agrees to archiving, and none of whose latest consents (one per form) is withdrawn or
    declines archiving: the only people in person-level resources."""
    latest = _latest_consents(study)
    excluded = select(latest.c.participant_id).where(
        or_(
            latest.c.withdrawn_at.is_not(None),
            latest.c.consent_id.in_(_archiving_answers(False)),
        )
    )
    return select(latest.c.participant_id).where(
        latest.c.withdrawn_at.is_(None),
        latest.c.consent_id.in_(_archiving_answers(True)),
        latest.c.participant_id.not_in(excluded),
    )


def _withdrawn_participants(study: Study):
    latest = _latest_consents(study)
    return select(latest.c.participant_id).where(latest.c.withdrawn_at.is_not(None))


def _exclusions(study: Study) -> Exclusions:
    """Who is in and why the others are not, in one grouped query."""
    archivable = Participant.id.in_(archivable_participants(study))
    withdrawn = Participant.id.in_(_withdrawn_participants(study))
    has_any = exists().where(Consent.participant_id == Participant.id)

    def count_where(condition) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            func.count(Participant.id),
            count_where(archivable),
            count_where(~has_any),
            count_where(and_(has_any, withdrawn)),
            count_where(and_(has_any, ~withdrawn, ~archivable)),
        ).where(Participant.study_id == study.id)
    ).one()
    return Exclusions(*(int(value) for value in row))


# Field helpers: the same wording wherever the same thing appears.


def _reference_field() -> Field:
    return Field(
        "participant_reference",
        "string",
        "The participant's pseudonymous reference (see participants).",
        {"required": True},
        "Participant",
    )


def _date_field(name: str, what: str, precision: DatePrecision, required: bool = False) -> Field:
    constraints = {"required": True} if required else {}
    return Field(name, "date", f"{what}: {precision.meaning}.", constraints)


def _enum_field(name: str, description: str, values: Iterable[enum.Enum], required=True) -> Field:
    constraints: dict[str, Any] = {"enum": [v.value for v in values]}
    if required:
        constraints["required"] = True
    return Field(name, "string", description, constraints)


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
            Field(
                "district_id",
                "integer",
                "The district's identifier in this package.",
                {"required": True, "unique": True},
                "District",
            ),
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
            Field(
                "organisation_id",
                "integer",
                "The organisation's identifier in this package.",
                {"required": True, "unique": True},
                "Organisation",
            ),
            Field("name", "string", "The organisation's name.", {"required": True}),
            _enum_field("kind", "The kind of organisation (see the codebook).", OrganisationKind),
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
            Field(
                "role_id",
                "integer",
                "The role's identifier in this package.",
                {"required": True, "unique": True},
                "Role",
            ),
            Field("name", "string", "The role's name.", {"required": True}),
            _enum_field(
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
            _enum_field("aapor_category", "The AAPOR group of final dispositions.", AaporCategory),
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


def _participants(study: Study, settings: ExportSettings) -> tuple[Table, DisclosureResult]:
    from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus

    rows = db.session.execute(
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
    for name in result.attributes:
        column, kind, description = _QUASI_FIELDS[name]
        description += " Empty where the disclosure check suppressed it (see the codebook)."
        if name == "organisation_kind":
            fields.append(
                Field(column, kind, description, {"enum": [k.value for k in OrganisationKind]})
            )
        else:
            fields.append(Field(column, kind, description))
    fields.append(
        _enum_field(
            "recruitment_status",
            "Where recruitment stood at the export (see the codebook).",
            RecruitmentStatus,
        )
    )
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
        fields,
        ("participant_reference",),
        table_rows,
        tuple(_QUASI_KEYS[name] for name in result.attributes if name in _QUASI_KEYS),
        is_person_level=True,
    )
    return table, result


def _numbered(rows: Sequence[Sequence], key_position: int = 0) -> list[tuple[Any, int, tuple]]:
    """(key, running number within the key, row) for rows already ordered by key."""
    out = []
    previous, number = None, 0
    for row in rows:
        key = row[key_position]
        number = number + 1 if key == previous else 1
        previous = key
        out.append((key, number, tuple(row)))
    return out


def _contact_attempts(study: Study, zone: ZoneInfo, precision: DatePrecision) -> Table:
    from fieldwork.recruitment.models import ContactChannel

    rows = db.session.execute(
        select(
            Participant.reference,
            ContactAttempt.attempted_at,
            ContactAttempt.channel,
            ContactAttempt.disposition,
        )
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(
            Participant.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(Participant.reference, ContactAttempt.attempted_at, ContactAttempt.id)
    ).all()
    return Table(
        "contact_attempts",
        "Contact attempts",
        "Every try to reach a participant, with its outcome (a disposition code). Notes are "
        "never exported.",
        [
            _reference_field(),
            Field(
                "attempt_number",
                "integer",
                "1 for the participant's first attempt, 2 for the next, ...",
                {"required": True, "minimum": 1},
            ),
            _date_field("attempted_on", "The date of the attempt", precision, required=True),
            _enum_field("channel", "How the attempt was made.", ContactChannel),
            Field(
                "disposition",
                "string",
                "The outcome: a code of the dispositions resource.",
                {"required": True},
            ),
        ],
        ("participant_reference", "attempt_number"),
        [
            (reference, number, _local_day(row[1], zone, precision), row[2], row[3])
            for reference, number, row in _numbered(rows)
        ],
        (
            ForeignKey(("participant_reference",), "participants", ("participant_reference",)),
            ForeignKey(("disposition",), "dispositions", ("code",)),
        ),
        is_person_level=True,
    )


def _appointments(study: Study, zone: ZoneInfo, precision: DatePrecision) -> Table:
    from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus

    rows = db.session.execute(
        select(
            Participant.reference,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.mode,
            Appointment.status,
            Appointment.actual_minutes,
            Appointment.is_recorded,
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(
            Appointment.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(Participant.reference, Appointment.starts_at, Appointment.id)
    ).all()
    return Table(
        "appointments",
        "Appointments",
        "Interviews booked, with their mode, length and outcome. Places, links and notes are "
        "never exported.",
        [
            _reference_field(),
            Field(
                "appointment_number",
                "integer",
                "1 for the participant's first appointment, 2 for the next, ...",
                {"required": True, "minimum": 1},
            ),
            _date_field("appointment_on", "The date of the interview", precision, True),
            _enum_field("mode", "How the interview was (to be) held.", AppointmentMode),
            Field(
                "planned_minutes",
                "integer",
                "The length booked, in minutes.",
                {"required": True, "minimum": 0},
            ),
            _enum_field(
                "outcome", "What became of the appointment (see the codebook).", AppointmentStatus
            ),
            Field(
                "actual_minutes",
                "integer",
                "The real length in minutes, when recorded.",
                {"minimum": 0},
            ),
            Field(
                "is_recorded", "boolean", "Whether the interview was audio-recorded, when recorded."
            ),
        ],
        ("participant_reference", "appointment_number"),
        [
            (
                reference,
                number,
                _local_day(row[1], zone, precision),
                row[3],
                int((row[2] - row[1]).total_seconds() // 60),
                row[4],
                row[5],
                row[6],
            )
            for reference, number, row in _numbered(rows)
        ],
        (ForeignKey(("participant_reference",), "participants", ("participant_reference",)),),
        is_person_level=True,
    )


def _published_versions(study: Study):
    return (
        select(ConsentFormVersion.id)
        .join(ConsentForm, ConsentForm.id == ConsentFormVersion.form_id)
        .where(ConsentForm.study_id == study.id, ConsentFormVersion.published_at.is_not(None))
    )


def _consent_form_versions(study: Study) -> Table:
    rows = db.session.execute(
        select(
            ConsentFormVersion.id,
            ConsentForm.title,
            ConsentFormVersion.number,
            ConsentFormVersion.published_at,
        )
        .join(ConsentForm, ConsentForm.id == ConsentFormVersion.form_id)
        .where(ConsentFormVersion.id.in_(_published_versions(study)))
        .order_by(ConsentFormVersion.id)
    ).all()
    zone = ZoneInfo(study.timezone)
    return Table(
        "consent_form_versions",
        "Consent form versions",
        "The published versions of the study's consent forms (a published version never "
        "changes; edits make a new version).",
        [
            Field(
                "consent_form_version_id",
                "integer",
                "The version's identifier in this package.",
                {"required": True, "unique": True},
            ),
            Field("form_title", "string", "The consent form's title.", {"required": True}),
            Field(
                "version_number",
                "integer",
                "The version's number within its form.",
                {"required": True, "minimum": 1},
            ),
            Field("published_on", "date", "The day the version was published.", {"required": True}),
        ],
        ("consent_form_version_id",),
        [(r[0], r[1], r[2], _local_day(r[3], zone, DatePrecision.DAY)) for r in rows],
    )


def _consent_items(study: Study) -> Table:
    rows = db.session.execute(
        select(
            ConsentItem.version_id,
            ConsentItem.key,
            ConsentItem.position,
            ConsentItem.is_required,
            ConsentItem.text,
        )
        .where(ConsentItem.version_id.in_(_published_versions(study)))
        .order_by(ConsentItem.version_id, ConsentItem.position, ConsentItem.key)
    ).all()
    return Table(
        "consent_items",
        "Consent items",
        "The separate things a participant agrees to in each version (take part, audio "
        "recording, anonymised quotes, archiving, ...).",
        [
            Field(
                "consent_form_version_id",
                "integer",
                "The version the item belongs to.",
                {"required": True},
            ),
            Field(
                "item_key",
                "string",
                "The item's stable name across versions, e.g. "
                "take_part, audio_recording, anonymised_quotes, archiving.",
                {"required": True},
            ),
            Field("position", "integer", "The item's place on the form.", {"required": True}),
            Field(
                "is_required",
                "boolean",
                "True when there is no consent without this item.",
                {"required": True},
            ),
            Field("text", "string", "The item's wording on the form.", {"required": True}),
        ],
        ("consent_form_version_id", "item_key"),
        [tuple(row) for row in rows],
        (
            ForeignKey(
                ("consent_form_version_id",), "consent_form_versions", ("consent_form_version_id",)
            ),
        ),
    )


def _consents(
    study: Study, zone: ZoneInfo, precision: DatePrecision
) -> tuple[Table, dict[int, tuple[str, int]]]:
    """The consents table, and each consent's (reference, number) for the answers table."""
    from fieldwork.recruitment.models import ConsentMethod, DataHandling

    rows = db.session.execute(
        select(
            Participant.reference,
            Consent.id,
            Consent.version_id,
            Consent.method,
            Consent.given_at,
            Consent.withdrawn_at,
            Consent.data_handling,
        )
        .join(Participant, Participant.id == Consent.participant_id)
        .where(
            Participant.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(Participant.reference, Consent.given_at, Consent.id)
    ).all()
    numbered = _numbered(rows)
    table = Table(
        "consents",
        "Consents",
        "Each participant's answers to a consent form version: how and when given, and any "
        "withdrawal. Signatures and reasons are never exported; the items agreed are in "
        "consent_answers.",
        [
            _reference_field(),
            Field(
                "consent_number",
                "integer",
                "1 for the participant's first consent, 2 for the next, ...",
                {"required": True, "minimum": 1},
            ),
            Field(
                "consent_form_version_id", "integer", "The version answered.", {"required": True}
            ),
            _enum_field("method", "How consent was given.", ConsentMethod),
            _date_field("given_on", "The date consent was given", precision, required=True),
            _date_field(
                "withdrawn_on", "The date consent was withdrawn (empty if it stands)", precision
            ),
            _enum_field(
                "data_handling",
                "For a withdrawn consent: what happens to the data "
                "already gathered (empty if it stands).",
                DataHandling,
                required=False,
            ),
        ],
        ("participant_reference", "consent_number"),
        [
            (
                reference,
                number,
                row[2],
                row[3],
                _local_day(row[4], zone, precision),
                _local_day(row[5], zone, precision),
                row[6],
            )
            for reference, number, row in numbered
        ],
        (
            ForeignKey(("participant_reference",), "participants", ("participant_reference",)),
            ForeignKey(
                ("consent_form_version_id",), "consent_form_versions", ("consent_form_version_id",)
            ),
        ),
        is_person_level=True,
    )
    return table, {row[1]: (reference, number) for reference, number, row in numbered}


def _consent_answers(study: Study, consent_numbers: dict[int, tuple[str, int]]) -> Table:
    rows = db.session.execute(
        select(
            ConsentAnswer.consent_id, Consent.version_id, ConsentItem.key, ConsentAnswer.is_agreed
        )
        .join(Consent, Consent.id == ConsentAnswer.consent_id)
        .join(ConsentItem, ConsentItem.id == ConsentAnswer.item_id)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(
            Participant.study_id == study.id,
            Participant.id.in_(archivable_participants(study)),
        )
        .order_by(
            Participant.reference,
            Consent.given_at,
            Consent.id,
            ConsentItem.position,
            ConsentItem.key,
        )
    ).all()
    return Table(
        "consent_answers",
        "Consent answers",
        "The yes or no to each item of each consent.",
        [
            _reference_field(),
            Field("consent_number", "integer", "The consent (see consents).", {"required": True}),
            Field(
                "consent_form_version_id", "integer", "The version answered.", {"required": True}
            ),
            Field("item_key", "string", "The item (see consent_items).", {"required": True}),
            Field(
                "is_agreed",
                "boolean",
                "True when the participant agreed to the item.",
                {"required": True},
            ),
        ],
        ("participant_reference", "consent_number", "item_key"),
        [(*consent_numbers[row[0]], row[1], row[2], row[3]) for row in rows],
        (
            ForeignKey(
                ("participant_reference", "consent_number"),
                "consents",
                ("participant_reference", "consent_number"),
            ),
            ForeignKey(
                ("consent_form_version_id", "item_key"),
                "consent_items",
                ("consent_form_version_id", "item_key"),
            ),
        ),
        is_person_level=True,
    )


def settings_for(study: Study) -> ExportSettings:
    """The study's export settings, or the defaults (not saved) when it has none."""
    found = db.session.scalar(select(ExportSettings).where(ExportSettings.study_id == study.id))
    if found is not None:
        return found
    from fieldwork.exports.models import DEFAULT_INCLUDED, DEFAULT_MIN_CELL_SIZE, QUASI_IDENTIFIERS

    return ExportSettings(
        study_id=study.id,
        min_cell_size=DEFAULT_MIN_CELL_SIZE,
        **{f"include_{name}": name in DEFAULT_INCLUDED for name in QUASI_IDENTIFIERS},
    )
