"""The whole-file rules for people: each row is one person, new or matched to an existing one.

A row updates the participant with its reference, else its email, else (with neither) the one
participant of its name at its organisation; docs/import-format.md states the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from fieldwork.sampling.imports import checks, frame_things
from fieldwork.sampling.imports.columns import OPTIONAL_FIELDS, PREVIEW_ROWS
from fieldwork.sampling.imports.lookups import StudyLookups
from fieldwork.sampling.imports.plan import ImportPlan, ImportProblem, PlannedRow
from fieldwork.sampling.models import District, Organisation, OrganisationKind, Role
from fieldwork.sampling.services import next_reference


@dataclass
class _Seen:
    """The line on which the file first named each reference, email and (name, organisation)."""

    references: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)
    names: dict[tuple[str, str], int] = field(default_factory=dict)
    participants: dict[int, int] = field(default_factory=dict)

    def repeat_problems(self, row: PlannedRow) -> list[tuple[str, str]]:
        """(column, message) for each way this row names a person an earlier row named."""
        found: list[tuple[str, str]] = []
        reference_key = row.reference.upper()
        if reference_key:
            earlier = self.references.setdefault(reference_key, row.line)
            if earlier != row.line:
                found.append(
                    (
                        "reference",
                        f"Line {earlier} has the same reference; each person appears once.",
                    )
                )
        if row.email:
            earlier = self.emails.setdefault(row.email, row.line)
            if earlier != row.line:
                found.append(
                    (
                        "email",
                        f"Line {earlier} has the same email address; each person appears once.",
                    )
                )
        elif row.name and row.organisation_key:
            earlier = self.names.setdefault((row.name.lower(), row.organisation_key), row.line)
            if earlier != row.line:
                found.append(
                    (
                        "name",
                        f"Line {earlier} has the same name and organisation and neither row has "
                        "an email address; each person appears once.",
                    )
                )
        return found


def role_misfit(role: Role, organisation_name: str, kind: OrganisationKind) -> str | None:
    """Why someone in `role` cannot work for an organisation of `kind`, or None."""
    if role.organisation_kind == kind:
        return None
    return (
        f"The role {role.name} is for {role.organisation_kind.label} staff, but "
        f"{organisation_name} is of the kind {kind.label}."
    )


class RowSink(Protocol):
    """What the second pass hands each row to when the import is being written."""

    def add(self, row: PlannedRow, organisation: Organisation | None, district: District | None):
        """Write (or queue) one checked row."""
        ...


def second_pass(plan: ImportPlan, sink: RowSink | None = None) -> None:
    """Read the rows again for the rules that need the whole file, counting what the import
    will do and giving new people their references; rows go to `sink` while there is no
    problem (the caller rolls back if one turns up later)."""
    assert plan.frame is not None and plan.lookups is not None
    lookups = plan.lookups
    lead_providers = frame_things.LeadProviders(plan, lookups)
    seen = _Seen()
    references = _References(lookups, plan.taken_references)
    plan.participants_created = plan.participants_updated = 0
    plan.preview_rows.clear()
    plan.new_links.clear()
    plan.lead_provider_updates.clear()
    for line, record in plan.frame.records([]):
        row = checks.check_row(lookups, line, record, [], validate=False)
        lead_providers.note(line, row.organisation_key, record.get("lead_provider", ""))
        _check_person(lookups, plan, row, seen)
        if plan.problems:
            continue
        organisation, district = _place(lookups, plan, row)
        if row.participant is None:
            plan.participants_created += 1
            row.reference = row.reference or references.next(row)
        else:
            plan.participants_updated += 1
            row.is_changed = _differs(row, plan, organisation, district)
            row.reference = row.participant.reference
        if len(plan.preview_rows) < PREVIEW_ROWS:
            plan.preview_rows.append(row)
        if sink is not None:
            sink.add(row, organisation, district)
    lead_providers.finish()


def _check_person(lookups: StudyLookups, plan: ImportPlan, row: PlannedRow, seen: _Seen) -> None:
    """The role fits the organisation; the row is one person, new or matched to one."""
    reported = len(plan.problems)

    def problem(column: str, message: str) -> None:
        plan.problems.append(ImportProblem(row.line, column, message))

    kind = plan.kinds.get(row.organisation_key)
    if row.role is not None and kind is not None:
        misfit = role_misfit(row.role, row.organisation_name, kind)
        if misfit:
            problem("role", misfit)
    for column, message in seen.repeat_problems(row):
        problem(column, message)
    column = _match(lookups, row, problem)
    if row.participant is not None:
        earlier = seen.participants.setdefault(row.participant.id, row.line)
        if earlier != row.line and len(plan.problems) == reported:
            problem(
                column,
                f"Line {earlier} already updates {row.participant.reference}; "
                "each person appears once.",
            )


def _match(lookups: StudyLookups, row: PlannedRow, problem: Callable[[str, str], None]) -> str:
    """Find the existing participant a row updates: by reference, else email, else name.

    Returns the column that matched (for messages). A row with neither a reference nor an
    email matches the one participant with the same name in the same organisation, so
    importing such a file twice does not create everyone twice.
    """
    by_email = lookups.by_email.get(row.email) if row.email else None
    if row.reference:
        row.participant = lookups.by_reference.get(row.reference.upper())
        if row.participant is None and by_email is not None:
            problem(
                "reference",
                f"The email {row.email} belongs to {by_email.reference}, not {row.reference}.",
            )
        elif row.participant is not None and by_email not in (None, row.participant):
            problem("email", f"{row.email} is already the email of {by_email.reference}.")
        return "reference"
    if by_email is not None:
        row.participant = by_email
        return "email"
    organisation = lookups.organisations.get(row.organisation_key)
    if not row.email and organisation is not None and row.name:
        namesakes = lookups.by_name.get((row.name.lower(), organisation.id), [])
        if len(namesakes) > 1:
            problem(
                "name",
                f"Several participants at {organisation.name} are called "
                f"{row.name}; give this row a reference or an email.",
            )
        elif namesakes:
            row.participant = namesakes[0]
    return "name"


class _References:
    """The next free references per phase: `next_reference` once per phase (with the file's
    own references as taken), then counting on, which keeps 100,000 rows fast."""

    def __init__(self, lookups: StudyLookups, taken: set[str]) -> None:
        self.lookups = lookups
        self.taken = taken
        self.counters: dict[int, int] = {}

    def next(self, row: PlannedRow) -> str:
        assert row.phase is not None  # checked: a row without a phase is a problem
        number = row.phase.number
        if number not in self.counters:
            first = next_reference(self.lookups.study, row.phase, self.taken)
            self.counters[number] = int(first.rsplit("-", 1)[1])
        else:
            self.counters[number] += 1
        return f"P{number}-{self.counters[number]:03d}"


def _place(
    lookups: StudyLookups, plan: ImportPlan, row: PlannedRow
) -> tuple[Organisation | None, District | None]:
    """The row's existing organisation and district (None: the file creates it); notes the
    "covers" link the import must record and the names as the study will hold them."""
    organisation = plan.organisations.get(row.organisation_key)
    district = plan.districts.get(row.district_key)
    row.is_new_organisation = organisation is None
    row.is_new_district = district is None
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
        or (organisation.id, district.id) not in lookups.links
    ):
        plan.new_links.add((row.organisation_key, row.district_key))
    return organisation, district


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
    wanted.update({name: getattr(row, name) for name in OPTIONAL_FIELDS if name in plan.columns})
    if "interviewer" in plan.columns:
        wanted["interviewer_id"] = row.interviewer_id
    return any(getattr(person, name) != value for name, value in wanted.items())
