"""Importing a sample frame from a CSV file: check every row first, then write all in one go.

Reading happens in two steps so that the web page can show a preview before anything changes:
`read_frame` checks the whole file against the study and returns an `ImportPlan` holding every
problem it found; `apply_plan` writes a plan that has none, in one transaction. A file with any
problem imports nothing. The study's roles, phases, districts, organisations, participants and
interviewers are loaded into dictionaries up front (a handful of queries whatever the file's size)
and the new rows are flushed in bulk, so ten thousand rows import in seconds.

The column set is documented in docs/import-format.md; `COLUMNS` below is the same table for the
upload page.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from fieldwork.accounts.models import User, UserRole
from fieldwork.audit import services as audit
from fieldwork.core.spreadsheet import refuse_formula_name
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.forms import PHONE_PATTERN
from fieldwork.sampling.models import (
    ORGANISATION_KIND_LABELS,
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
from fieldwork.sampling.services import next_reference

#: More rows than this is refused: split the file.
MAX_ROWS = 50_000
#: The largest upload the web page accepts (the command line has no byte limit).
MAX_FILE_BYTES = 15 * 1024 * 1024
#: How many rows the preview page shows.
PREVIEW_ROWS = 50


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the import format, as the upload page and the docs describe it."""

    name: str
    #: "Required", "Optional", or the condition under which the column is needed.
    requirement: str
    #: True when the header row must name this column.
    is_required_header: bool
    meaning: str
    allowed: str
    #: Longest value accepted (None: no limit beyond what the column's rules say).
    max_length: int | None = None


_KIND_LIST = ", ".join(kind.value for kind in OrganisationKind)

COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "reference",
        "Optional",
        False,
        "The participant's pseudonymous reference. An existing reference updates that "
        "participant; left empty, a new person gets the next free one in their phase.",
        "Up to 30 characters, e.g. P1-017.",
        30,
    ),
    ColumnSpec(
        "name", "Required", True, "The person's full name.", "Any text, up to 200 characters.", 200
    ),
    ColumnSpec("job_title", "Optional", False, "Their job title.", "Up to 200 characters.", 200),
    ColumnSpec(
        "email",
        "Optional",
        False,
        "Their email address; an existing address (without a reference) updates that participant.",
        "A valid email address; stored in lower case.",
        254,
    ),
    ColumnSpec(
        "phone",
        "Optional",
        False,
        "Their telephone number.",
        "Digits, spaces and + ( ) . - only, up to 40 characters.",
        40,
    ),
    ColumnSpec(
        "role",
        "Required",
        True,
        "The stakeholder role they are sampled for.",
        "The name of one of the study's roles (any case); the role's kind of "
        "organisation must be the organisation's kind.",
        200,
    ),
    ColumnSpec(
        "organisation",
        "Required",
        True,
        "The organisation they work for; created if the study does not have it yet.",
        "Any name, up to 200 characters.",
        200,
    ),
    ColumnSpec(
        "organisation_kind",
        "Required for a new organisation",
        False,
        "What kind of organisation it is. For an existing organisation it must match.",
        f"One of {_KIND_LIST}, or a label such as “Lead provider” or “Jobcentre Plus”.",
        None,
    ),
    ColumnSpec(
        "lead_provider",
        "Required for a new sub-contractor",
        False,
        "The lead provider a sub-contractor works for.",
        "The name of a lead provider the study has, or one created in the same file.",
        200,
    ),
    ColumnSpec(
        "district",
        "Required",
        True,
        "The district they are sampled in; created if the study does not have it yet. "
        "The organisation is recorded as covering it.",
        "Any name, up to 200 characters.",
        200,
    ),
    ColumnSpec(
        "phase",
        "Required",
        True,
        "The district's phase. For an existing district it must be the district's phase.",
        "A phase number (1, 2, …) or a phase name (“Phase 1”) the study has.",
        None,
    ),
    ColumnSpec(
        "notes",
        "Optional",
        False,
        "Anything the team should know.",
        "Any text, line breaks allowed (quote the field), up to 10,000 characters.",
        10_000,
    ),
    ColumnSpec(
        "interviewer",
        "Optional",
        False,
        "The interviewer they are assigned to.",
        "The email address of an interviewer who can log in.",
        254,
    ),
]
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED_HEADERS = [column.name for column in COLUMNS if column.is_required_header]

#: Columns whose value, when the column is present, replaces the participant's on update.
_OPTIONAL_FIELDS = ("job_title", "email", "phone", "notes")


#: Columns that name a frame thing the import may create, with what the thing is called.
_FRAME_NAME_COLUMNS = {
    "organisation": "organisation",
    "lead_provider": "lead provider",
    "district": "district",
}


class FrameImportError(RuntimeError):
    """Writing a checked plan failed (the study changed meanwhile); nothing was written."""


@dataclass(frozen=True, order=True)
class ImportProblem:
    """One thing wrong with a file: where (line 1 is the header) and what."""

    line: int
    #: The column's name as the format documents it; "" for a problem with a whole row or file.
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


@dataclass
class PlannedRow:
    """One participant as the file says they should be, resolved against the study."""

    line: int
    reference: str
    name: str
    job_title: str
    email: str
    phone: str
    notes: str
    role: Role | None
    phase: Phase | None
    organisation_key: str
    organisation_name: str
    district_key: str
    district_name: str
    interviewer_email: str
    interviewer_id: int | None
    #: The existing participant this row updates; None for a new one.
    participant: Participant | None = None
    #: For an update: whether anything differs from what is stored.
    is_changed: bool = True
    is_new_organisation: bool = False
    is_new_district: bool = False

    @property
    def action(self) -> str:
        if self.participant is None:
            return "New"
        return "Update" if self.is_changed else "No change"


@dataclass
class NewOrganisation:
    name: str
    line: int
    kind: OrganisationKind | None = None
    lead_provider_key: str | None = None


@dataclass
class NewDistrict:
    name: str
    line: int
    phase: Phase | None = None


@dataclass
class ImportPlan:
    """What importing a file would do, or why it cannot."""

    study_id: int
    problems: list[ImportProblem] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    #: Columns the file has; on update, only these fields are replaced.
    columns: frozenset[str] = frozenset()
    new_organisations: dict[str, NewOrganisation] = field(default_factory=dict)
    new_districts: dict[str, NewDistrict] = field(default_factory=dict)
    #: Existing organisations and districts the rows name, by lower-case name.
    organisations: dict[str, Organisation] = field(default_factory=dict)
    districts: dict[str, District] = field(default_factory=dict)
    #: Existing sub-contractors without a lead provider that the file gives one.
    lead_provider_updates: dict[str, str] = field(default_factory=dict)
    #: (organisation key, district key) pairs to record as "covers", not recorded yet.
    new_links: set[tuple[str, str]] = field(default_factory=set)

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def participants_created(self) -> int:
        return sum(1 for row in self.rows if row.participant is None)

    @property
    def participants_updated(self) -> int:
        return len(self.rows) - self.participants_created

    @property
    def organisations_created(self) -> int:
        return len(self.new_organisations)

    @property
    def districts_created(self) -> int:
        return len(self.new_districts)

    def preview(self, limit: int = PREVIEW_ROWS) -> list[PlannedRow]:
        return self.rows[:limit]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    organisations_created: int
    districts_created: int

    @property
    def total(self) -> int:
        return self.created + self.updated


# --- Reading the file ----------------------------------------------------------------------------


def read_frame(study: Study, data: bytes) -> ImportPlan:
    """Check a CSV file (bytes, UTF-8 with or without a BOM) against the study."""
    text, problem = decode_frame(data)
    if problem is not None:
        return ImportPlan(study_id=study.id, problems=[problem])
    return parse_frame(study, text)


def decode_frame(data: bytes) -> tuple[str, ImportProblem | None]:
    """The text of the file, or the problem that it is not UTF-8 (at the first bad line)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return "", ImportProblem(
            line,
            "",
            "The file is not UTF-8 text. Save it as “CSV UTF-8 (comma delimited)” "
            "and upload it again.",
        )


def _header_key(raw: str) -> str:
    """'Job title', 'JOB-TITLE' and ' job_title ' all name the column job_title."""
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def _read_header(header: list[str]) -> tuple[list[str], list[ImportProblem]]:
    columns = [_header_key(name) for name in header]
    if len(header) == 1 and ";" in header[0]:
        return columns, [
            ImportProblem(
                1,
                "",
                "The file seems to use semicolons between values; Fieldwork reads "
                "comma-separated files. Save it as “CSV UTF-8 (comma delimited)”.",
            )
        ]
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for position, (raw, name) in enumerate(zip(header, columns, strict=True), start=1):
        if not name:
            problems.append(
                ImportProblem(
                    1, "", f"Column {position} has no name in the header row; name it or delete it."
                )
            )
        elif name not in COLUMNS_BY_NAME:
            problems.append(
                ImportProblem(
                    1,
                    raw.strip()[:60],
                    f"{_quote(raw.strip())} is not a column Fieldwork knows. "
                    f"The columns are: {', '.join(COLUMNS_BY_NAME)}.",
                )
            )
        elif name in seen:
            problems.append(ImportProblem(1, name, f"The column {name} appears more than once."))
        seen.add(name)
    missing = [name for name in REQUIRED_HEADERS if name not in seen]
    if missing:
        problems.append(
            ImportProblem(
                1,
                "",
                f"The header row lacks the required column{'s' if len(missing) > 1 else ''}: "
                f"{', '.join(missing)}.",
            )
        )
    return columns, problems


def _clean(value: str) -> str:
    """A cell without surrounding space, its line breaks (inside quotes) as plain newlines."""
    return value.strip().replace("\r\n", "\n").replace("\r", "\n")


def parse_frame(study: Study, text: str) -> ImportPlan:
    """Check the text of a CSV file against the study; every problem found is in the plan."""
    text = text.removeprefix("\ufeff")
    failed = ImportPlan(study_id=study.id)
    if not text.strip():
        failed.problems.append(ImportProblem(1, "", "The file is empty."))
        return failed
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, dict[str, str]]] = []
    try:
        header = next(reader)
        columns, problems = _read_header(header)
        if problems:
            failed.problems.extend(problems)
            return failed
        last_line = reader.line_num
        for values in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue  # blank lines and rows of empty cells carry nobody
            if len(records) >= MAX_ROWS:
                failed.problems = [
                    ImportProblem(
                        line,
                        "",
                        f"The file has more than {MAX_ROWS:,} participants; split it "
                        "into smaller files.",
                    )
                ]
                return failed
            if len(values) != len(columns):
                problems.append(
                    ImportProblem(
                        line,
                        "",
                        f"This row has {len(values)} values but the header has "
                        f"{len(columns)} columns. Quote values that contain commas.",
                    )
                )
                continue
            records.append((line, dict(zip(columns, map(_clean, values), strict=True))))
    except csv.Error as error:
        failed.problems.append(
            ImportProblem(
                reader.line_num or 1, "", f"The file cannot be read as CSV from here: {error}."
            )
        )
        return failed
    if not records and not problems:
        problems.append(ImportProblem(2, "", "The file has a header row but no participants."))
    return _Checker(study, frozenset(columns)).check(records, problems)


# --- Checking rows against the study -------------------------------------------------------------


def _quote(text: str, limit: int = 60) -> str:
    """A value from the file, quoted for a message and cut short if long."""
    return f"“{text if len(text) <= limit else text[:limit] + '…'}”"


def _kind_key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


#: "lead_provider", "Lead provider", "lead-provider", "JCP", "Jobcentre Plus" ... -> the kind.
_KINDS_BY_KEY: dict[str, OrganisationKind] = {
    **{_kind_key(kind.value): kind for kind in OrganisationKind},
    **{_kind_key(label): kind for kind, label in ORGANISATION_KIND_LABELS.items()},
}
_PHONE = re.compile(PHONE_PATTERN)
_PHASE_NUMBER = re.compile(r"^\d{1,6}$")


@dataclass
class _RowFacts:
    """What one row says about its organisation and district, for the whole-file checks."""

    line: int
    kind: OrganisationKind | None
    #: The kind as written (a bad one is reported once, not again as "missing").
    kind_text: str
    lead_provider: str


class _Checker:
    """Checks a file's rows with the study's frame loaded into dictionaries up front."""

    def __init__(self, study: Study, columns: frozenset[str]) -> None:
        self.study = study
        self.columns = columns
        phases = db.session.scalars(
            select(Phase).where(Phase.study_id == study.id).order_by(Phase.number)
        ).all()
        self.phases_by_number = {phase.number: phase for phase in phases}
        self.phases_by_name = {phase.name.strip().lower(): phase for phase in phases}
        self.phase_names = ", ".join(phase.name for phase in phases) or "none yet"
        roles = db.session.scalars(
            select(Role).where(Role.study_id == study.id).order_by(Role.name)
        ).all()
        self.roles = {role.name.strip().lower(): role for role in roles}
        self.role_names = "; ".join(role.name for role in roles) or "none yet"
        self.districts = {
            d.name.strip().lower(): d
            for d in db.session.scalars(select(District).where(District.study_id == study.id))
        }
        organisations = db.session.scalars(
            select(Organisation).where(Organisation.study_id == study.id)
        ).all()
        self.organisations = {o.name.strip().lower(): o for o in organisations}
        self.organisations_by_id = {o.id: o for o in organisations}
        self.links = {
            (organisation_id, district_id)
            for organisation_id, district_id in db.session.execute(
                select(organisation_district.c.organisation_id, organisation_district.c.district_id)
                .join(Organisation, Organisation.id == organisation_district.c.organisation_id)
                .where(Organisation.study_id == study.id)
            )
        }
        self.by_reference: dict[str, Participant] = {}
        self.by_email: dict[str, Participant] = {}
        self.by_name: dict[tuple[str, int], list[Participant]] = {}
        for person in db.session.scalars(
            select(Participant).where(Participant.study_id == study.id)
        ):
            self.by_reference[person.reference.strip().upper()] = person
            if person.email:
                self.by_email.setdefault(person.email.lower(), person)
            self.by_name.setdefault(
                (person.name.strip().lower(), person.organisation_id), []
            ).append(person)
        interviewers = db.session.execute(
            select(User.email, User.id).where(
                User.role == UserRole.INTERVIEWER, User.is_enabled.is_(True)
            )
        )
        self.interviewers: dict[str, int] = {email: user_id for email, user_id in interviewers}

    # The checks, in the order the file is read.

    def check(
        self, records: list[tuple[int, dict[str, str]]], problems: list[ImportProblem]
    ) -> ImportPlan:
        plan = ImportPlan(study_id=self.study.id, problems=problems, columns=self.columns)
        organisation_facts: dict[str, list[_RowFacts]] = {}
        district_phases: dict[str, list[tuple[int, Phase]]] = {}
        for line, record in records:
            row = self._check_row(line, record, plan.problems)
            plan.rows.append(row)
            kind = self._kind(line, record.get("organisation_kind", ""), plan.problems)
            if row.organisation_key:
                organisation_facts.setdefault(row.organisation_key, []).append(
                    _RowFacts(
                        line,
                        kind,
                        record.get("organisation_kind", ""),
                        record.get("lead_provider", ""),
                    )
                )
            if row.district_key and row.phase is not None:
                district_phases.setdefault(row.district_key, []).append((line, row.phase))
        kinds = self._resolve_organisations(plan, organisation_facts)
        self._resolve_districts(plan, district_phases)
        self._check_people(plan, kinds)
        plan.problems.sort()
        if plan.problems:
            plan.rows = []
            return plan
        self._assign_references(plan)
        return plan

    def _check_row(
        self, line: int, record: dict[str, str], problems: list[ImportProblem]
    ) -> PlannedRow:
        def problem(column: str, message: str) -> None:
            problems.append(ImportProblem(line, column, message))

        for spec in COLUMNS:
            value = record.get(spec.name, "")
            if spec.is_required_header and not value:
                problem(spec.name, f"The {spec.name.replace('_', ' ')} is missing; it is required.")
            elif spec.max_length is not None and len(value) > spec.max_length:
                problem(
                    spec.name,
                    f"Use at most {spec.max_length:,} characters (this has {len(value):,}).",
                )

        for column, what in _FRAME_NAME_COLUMNS.items():
            refusal = refuse_formula_name(record.get(column, ""), what)
            if refusal:
                problem(column, refusal)

        email = record.get("email", "")
        if email:
            try:
                validate_email(email, check_deliverability=False)
            except EmailNotValidError as error:
                problem(
                    "email",
                    f"{_quote(email)} is not an email address like name@example.org. {error}",
                )
            email = email.lower()
        phone = record.get("phone", "")
        if phone and not _PHONE.match(phone):
            problem(
                "phone",
                "Enter a telephone number with digits, spaces and + ( ) . - only, "
                "like 020 7946 0000.",
            )
        role = None
        role_name = record.get("role", "")
        if role_name:
            role = self.roles.get(role_name.lower())
            if role is None:
                problem(
                    "role",
                    f"The study has no role called {_quote(role_name)}. Its roles are: "
                    f"{self.role_names}.",
                )
        phase = None
        phase_text = record.get("phase", "")
        if phase_text:
            phase = (
                self.phases_by_number.get(int(phase_text))
                if _PHASE_NUMBER.match(phase_text)
                else self.phases_by_name.get(phase_text.lower())
            )
            if phase is None:
                problem(
                    "phase",
                    f"The study has no phase {_quote(phase_text)}. Its phases are: "
                    f"{self.phase_names}.",
                )
        interviewer_email = record.get("interviewer", "").lower()
        interviewer_id = None
        if interviewer_email:
            interviewer_id = self.interviewers.get(interviewer_email)
            if interviewer_id is None:
                problem(
                    "interviewer",
                    f"No interviewer has the email {interviewer_email}; "
                    "add them as a user first, or leave this empty.",
                )
        organisation_name = record.get("organisation", "")
        district_name = record.get("district", "")
        return PlannedRow(
            line=line,
            reference=record.get("reference", ""),
            name=record.get("name", ""),
            job_title=record.get("job_title", ""),
            email=email,
            phone=phone,
            notes=record.get("notes", ""),
            role=role,
            phase=phase,
            organisation_key=organisation_name.lower(),
            organisation_name=organisation_name,
            district_key=district_name.lower(),
            district_name=district_name,
            interviewer_email=interviewer_email,
            interviewer_id=interviewer_id,
        )

    def _kind(self, line: int, text: str, problems: list[ImportProblem]) -> OrganisationKind | None:
        if not text:
            return None
        kind = _KINDS_BY_KEY.get(_kind_key(text))
        if kind is None:
            labels = ", ".join(f"{k.value} ({k.label})" for k in OrganisationKind)
            problems.append(
                ImportProblem(
                    line,
                    "organisation_kind",
                    f"{_quote(text)} is not a kind of organisation. Use one of: {labels}.",
                )
            )
        return kind

    def _resolve_organisations(
        self, plan: ImportPlan, facts: dict[str, list[_RowFacts]]
    ) -> dict[str, OrganisationKind]:
        """Each organisation's kind (existing, or given in the file), and the lead providers."""
        problems = plan.problems
        kinds: dict[str, OrganisationKind] = {}
        names = {row.organisation_key: row.organisation_name for row in reversed(plan.rows)}
        for key, rows in facts.items():
            existing = self.organisations.get(key)
            if existing is not None:
                plan.organisations[key] = existing
                kinds[key] = existing.kind
                for fact in rows:
                    if fact.kind is not None and fact.kind != existing.kind:
                        problems.append(
                            ImportProblem(
                                fact.line,
                                "organisation_kind",
                                f"{existing.name} is already recorded as {existing.kind.label} "
                                f"({existing.kind.value}), not {fact.kind.label}.",
                            )
                        )
                continue
            new = NewOrganisation(name=names[key], line=rows[0].line)
            for fact in rows:
                if fact.kind is None:
                    continue
                if new.kind is None:
                    new.kind = fact.kind
                elif fact.kind != new.kind:
                    problems.append(
                        ImportProblem(
                            fact.line,
                            "organisation_kind",
                            f"{new.name} is a new {new.kind.label.lower()} on an earlier line; "
                            f"a row cannot make it {fact.kind.label}.",
                        )
                    )
            if new.kind is None and not any(fact.kind_text for fact in rows):
                problems.append(
                    ImportProblem(
                        new.line,
                        "organisation_kind",
                        f"{new.name} is a new organisation: say "
                        f"what kind it is ({', '.join(k.value for k in OrganisationKind)}).",
                    )
                )
            if new.kind is not None:
                kinds[key] = new.kind
            plan.new_organisations[key] = new
        for key, rows in facts.items():
            self._resolve_lead_provider(plan, key, rows, kinds)
        return kinds

    def _resolve_lead_provider(
        self, plan: ImportPlan, key: str, rows: list[_RowFacts], kinds: dict[str, OrganisationKind]
    ) -> None:
        problems = plan.problems
        existing = plan.organisations.get(key)
        name = existing.name if existing else plan.new_organisations[key].name
        kind = kinds.get(key)
        chosen: str | None = None
        given = False
        for fact in rows:
            if not fact.lead_provider:
                continue
            given = True
            lead_key = fact.lead_provider.lower()
            if kind is not None and kind != OrganisationKind.SUBCONTRACTOR:
                problems.append(
                    ImportProblem(
                        fact.line,
                        "lead_provider",
                        f"Only a sub-contractor has a lead provider; "
                        f"{name} is of the kind {kind.label}. Leave this empty.",
                    )
                )
                continue
            lead_kind = kinds.get(lead_key) or (
                self.organisations[lead_key].kind if lead_key in self.organisations else None
            )
            if lead_kind is None and lead_key not in plan.new_organisations:
                problems.append(
                    ImportProblem(
                        fact.line,
                        "lead_provider",
                        f"The study has no organisation called "
                        f"{_quote(fact.lead_provider)}; add a row for it or correct the name.",
                    )
                )
                continue
            if lead_kind is not None and lead_kind != OrganisationKind.LEAD_PROVIDER:
                problems.append(
                    ImportProblem(
                        fact.line,
                        "lead_provider",
                        f"{_quote(fact.lead_provider)} is of the "
                        f"kind {lead_kind.label}, not a lead provider.",
                    )
                )
                continue
            if chosen is not None and lead_key != chosen:
                problems.append(
                    ImportProblem(
                        fact.line,
                        "lead_provider",
                        f"An earlier row gives {name} another lead "
                        "provider; a sub-contractor has one.",
                    )
                )
                continue
            chosen = lead_key
            if lead_key in self.organisations:
                plan.organisations.setdefault(lead_key, self.organisations[lead_key])
            if existing is not None and existing.lead_provider_id is not None:
                current = self.organisations_by_id.get(existing.lead_provider_id)
                if current is not None and current.name.strip().lower() != lead_key:
                    problems.append(
                        ImportProblem(
                            fact.line,
                            "lead_provider",
                            f"{existing.name} is recorded with the lead "
                            f"provider {current.name}; change it on the organisation's page.",
                        )
                    )
        if kind != OrganisationKind.SUBCONTRACTOR:
            return
        if existing is None:
            if not given:
                problems.append(
                    ImportProblem(
                        plan.new_organisations[key].line,
                        "lead_provider",
                        f"{name} is a new sub-contractor: name its lead provider.",
                    )
                )
            plan.new_organisations[key].lead_provider_key = chosen
        elif chosen is not None and existing.lead_provider_id is None:
            plan.lead_provider_updates[key] = chosen

    def _resolve_districts(
        self, plan: ImportPlan, district_phases: dict[str, list[tuple[int, Phase]]]
    ) -> None:
        names = {row.district_key: row.district_name for row in reversed(plan.rows)}
        for key, mentions in district_phases.items():
            existing = self.districts.get(key)
            if existing is not None:
                plan.districts[key] = existing
                for line, phase in mentions:
                    if phase.id != existing.phase_id:
                        plan.problems.append(
                            ImportProblem(
                                line,
                                "phase",
                                f"{existing.name} is in {existing.phase.name}, not {phase.name}.",
                            )
                        )
                continue
            first_line, first_phase = mentions[0]
            plan.new_districts[key] = NewDistrict(names[key], first_line, first_phase)
            for line, phase in mentions[1:]:
                if phase.id != first_phase.id:
                    plan.problems.append(
                        ImportProblem(
                            line,
                            "phase",
                            f"{names[key]} is a new district in {first_phase.name} "
                            f"on line {first_line}; a district is in one phase.",
                        )
                    )

    def _check_people(self, plan: ImportPlan, kinds: dict[str, OrganisationKind]) -> None:
        """Roles fit organisations; each row is one person, new or matched to an existing one."""
        seen_references: dict[str, int] = {}
        seen_emails: dict[str, int] = {}
        seen_names: dict[tuple[str, str], int] = {}
        seen_participants: dict[int, int] = {}
        for row in plan.rows:
            reported = len(plan.problems)

            def problem(column: str, message: str, line: int = row.line) -> None:
                plan.problems.append(ImportProblem(line, column, message))

            kind = kinds.get(row.organisation_key)
            if row.role is not None and kind is not None and row.role.organisation_kind != kind:
                problem(
                    "role",
                    f"The role {row.role.name} is for "
                    f"{row.role.organisation_kind.label} staff, but "
                    f"{row.organisation_name} is of the kind {kind.label}.",
                )
            reference_key = row.reference.upper()
            if reference_key:
                if reference_key in seen_references:
                    problem(
                        "reference",
                        f"Line {seen_references[reference_key]} has the same "
                        "reference; each person appears once.",
                    )
                seen_references.setdefault(reference_key, row.line)
            if row.email:
                if row.email in seen_emails:
                    problem(
                        "email",
                        f"Line {seen_emails[row.email]} has the same email "
                        "address; each person appears once.",
                    )
                seen_emails.setdefault(row.email, row.line)
            elif row.name and row.organisation_key:
                name_key = (row.name.lower(), row.organisation_key)
                if name_key in seen_names:
                    problem(
                        "name",
                        f"Line {seen_names[name_key]} has the same name and "
                        "organisation and neither row has an email address; "
                        "each person appears once.",
                    )
                seen_names.setdefault(name_key, row.line)
            column = self._match(row, plan, problem)
            if row.participant is not None:
                earlier = seen_participants.setdefault(row.participant.id, row.line)
                if earlier != row.line and len(plan.problems) == reported:
                    problem(
                        column,
                        f"Line {earlier} already updates "
                        f"{row.participant.reference}; each person appears once.",
                    )

    def _match(self, row: PlannedRow, plan: ImportPlan, problem) -> str:
        """Find the existing participant a row updates: by reference, else email, else name.

        Returns the column that matched (for messages). A row with neither a reference nor an
        email matches the one participant with the same name in the same organisation, so
        importing such a file twice does not create everyone twice.
        """
        reference_key = row.reference.upper()
        by_email = self.by_email.get(row.email) if row.email else None
        if reference_key:
            row.participant = self.by_reference.get(reference_key)
            if row.participant is None and by_email is not None:
                problem(
                    "reference",
                    f"The email {row.email} belongs to {by_email.reference}, not {row.reference}.",
                )
            elif (
                row.participant is not None
                and by_email is not None
                and by_email is not row.participant
            ):
                problem("email", f"{row.email} is already the email of {by_email.reference}.")
            return "reference"
        if by_email is not None:
            row.participant = by_email
            return "email"
        organisation = self.organisations.get(row.organisation_key)
        if not row.email and organisation is not None and row.name:
            namesakes = self.by_name.get((row.name.lower(), organisation.id), [])
            if len(namesakes) > 1:
                problem(
                    "name",
                    f"Several participants at {organisation.name} are called "
                    f"{row.name}; give this row a reference or an email.",
                )
            elif namesakes:
                row.participant = namesakes[0]
        return "name"

    # After the checks: what the rows will change.

    def _assign_references(self, plan: ImportPlan) -> None:
        """Give new people without a reference the next free ones in their phase.

        `next_reference` runs once per phase (with the file's own references as taken); the rest
        of the phase's new people count on from there, which keeps 10,000 rows fast.
        """
        taken = {row.reference for row in plan.rows if row.reference}
        counters: dict[int, int] = {}
        for row in plan.rows:
            organisation = plan.organisations.get(row.organisation_key)
            district = plan.districts.get(row.district_key)
            row.is_new_organisation = organisation is None
            row.is_new_district = district is None
            # Show the names as the study will hold them (an existing one's own spelling).
            row.organisation_name = (
                organisation.name
                if organisation is not None
                else plan.new_organisations[row.organisation_key].name
            )
            row.district_name = (
                district.name if district is not None else plan.new_districts[row.district_key].name
            )
            if (
                organisation is None
                or district is None
                or (organisation.id, district.id) not in self.links
            ):
                plan.new_links.add((row.organisation_key, row.district_key))
            if row.participant is not None:
                row.is_changed = _differs(row, plan, organisation, district)
                row.reference = row.participant.reference
                continue
            if row.reference:
                continue
            assert row.phase is not None  # checked: a row without a phase is a problem
            number = row.phase.number
            if number not in counters:
                first = next_reference(self.study, row.phase, taken)
                counters[number] = int(first.rsplit("-", 1)[1])
            else:
                counters[number] += 1
            row.reference = f"P{number}-{counters[number]:03d}"


def _differs(
    row: PlannedRow, plan: ImportPlan, organisation: Organisation | None, district: District | None
) -> bool:
    person = row.participant
    assert person is not None and row.role is not None
    if organisation is None or district is None:
        return True
    wanted = {
        "name": row.name,
        "role_id": row.role.id,
        "organisation_id": organisation.id,
        "district_id": district.id,
    }
    wanted.update({name: getattr(row, name) for name in _OPTIONAL_FIELDS if name in plan.columns})
    if "interviewer" in plan.columns:
        wanted["interviewer_id"] = row.interviewer_id
    return any(getattr(person, name) != value for name, value in wanted.items())


# --- Writing a plan -------------------------------------------------------------------------------


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
    """Bulk statements (executemany), not one ORM flush per object: 10,000 rows in seconds."""
    now = now_utc()
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
    ]
    lead_providers += list(plan.lead_provider_updates.items())
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

    new_people: list[dict] = []
    changed_people: list[dict] = []
    for row in plan.rows:
        values = {
            "name": row.name,
            "role_id": row.role.id,
            "organisation_id": organisation_ids[row.organisation_key],
            "district_id": district_ids[row.district_key],
        }
        values.update(
            {name: getattr(row, name) for name in _OPTIONAL_FIELDS if name in plan.columns}
        )
        if "interviewer" in plan.columns:
            values["interviewer_id"] = row.interviewer_id
        if row.participant is None:
            new_people.append(
                {
                    "study_id": study.id,
                    "reference": row.reference,
                    "status": RecruitmentStatus.IDENTIFIED,
                    "created_at": now,
                    "updated_at": now,
                    **values,
                }
            )
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


# --- Uploaded files waiting for confirmation -----------------------------------------------------


class UploadStore:
    """Uploaded files between the preview and the confirmation, named by an unguessable token.

    The files hold personal data, so they live only as long as needed: deleted once imported,
    and swept away after `max_age_seconds` when nobody confirms them.
    """

    TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)

    def __init__(self, folder: str, max_age_seconds: int = 3600) -> None:
        self.folder = folder
        self.max_age_seconds = max_age_seconds

    def save(self, data: bytes) -> str:
        """Keep the file; returns the token that names it."""
        os.makedirs(self.folder, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(32)
        with open(self._path(token), "xb") as handle:
            handle.write(data)
        return token

    def load(self, token: str) -> bytes | None:
        """The file a token names; None for a malformed, unknown or expired token."""
        if not isinstance(token, str) or not self.TOKEN_PATTERN.match(token):
            return None
        path = self._path(token)
        try:
            if self._is_expired(path):
                os.remove(path)
                return None
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def discard(self, token: str) -> None:
        if isinstance(token, str) and self.TOKEN_PATTERN.match(token):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._path(token))

    def sweep(self) -> None:
        """Delete the uploads nobody confirmed in time."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            path = os.path.join(self.folder, name)
            with contextlib.suppress(FileNotFoundError):
                if name.endswith(".csv") and self._is_expired(path):
                    os.remove(path)

    def discard_holding(self, values: Iterable[str]) -> int:
        """Delete every kept upload that holds one of `values` (any case), as an erasure must.
        Returns how many files were deleted."""
        needles = [value.lower().encode("utf-8") for value in values if value]
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return 0
        deleted = 0
        for name in names:
            path = os.path.join(self.folder, name)
            if not name.endswith(".csv") or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read().lower()
            if any(needle in data for needle in needles):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                deleted += 1
        return deleted

    def _path(self, token: str) -> str:
        return os.path.join(self.folder, f"{token}.csv")

    def _is_expired(self, path: str) -> bool:
        return now_utc().timestamp() - os.path.getmtime(path) > self.max_age_seconds


def upload_store(app: Flask) -> UploadStore:
    """The app's store of uploads waiting for confirmation (IMPORT_UPLOAD_FOLDER, by default
    instance/imports)."""
    folder = app.config["IMPORT_UPLOAD_FOLDER"] or os.path.join(app.instance_path, "imports")
    return UploadStore(folder)


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver: uploads still waiting for confirmation that name the
    person are deleted (an import already confirmed left no file behind)."""
    upload_store(current_app).discard_holding([person.name, person.email, person.phone])
