"""The whole-file rules for people: each row is one person, new or matched to an existing one.

A row updates the participant with its reference, else its email, else (with neither) the one
participant of its name at its organisation; docs/import-format.md states the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fieldwork.extensions import db
from fieldwork.sampling.imports import checks, frame_things, repeats
from fieldwork.sampling.imports.columns import OPTIONAL_FIELDS, PREVIEW_ROWS
from fieldwork.sampling.imports.lookups import StudyLookups
from fieldwork.sampling.imports.plan import ImportPlan, ImportProblem, PlannedRow
from fieldwork.sampling.imports.repeats import FirstLines
from fieldwork.sampling.models import District, Organisation, OrganisationKind, Role
from fieldwork.sampling.services import next_reference


def _repeat_keys(row: PlannedRow) -> list[tuple[str, str, str]]:
    """(key, column, message) for each way a later row could name the same person as this
    one; the message is said on that later row, with {earlier} for this row's line."""
    keys: list[tuple[str, str, str]] = []
    if row.reference:
        message = "Line {earlier} has the same reference; each person appears once."
        keys.append((f"r:{row.reference.upper()}", "reference", message))
    if row.email:
        message = "Line {earlier} has the same email address; each person appears once."
        keys.append((f"e:{row.email}", "email", message))
    elif row.name and row.organisation_key:
        message = (
            "Line {earlier} has the same name and organisation and neither row has an email "
            "address; each person appears once."
        )
        keys.append((f"n:{row.name.lower()}\x1f{row.organisation_key}", "name", message))
    return keys


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
    problem (the caller rolls back if one turns up later). Rows are checked a chunk at a
    time, the repeats against a table of first lines (repeats.py), so memory stays flat."""
    assert plan.frame is not None and plan.lookups is not None
    lookups = plan.lookups
    lead_providers = frame_things.LeadProviders(plan, lookups)
    references = _References(lookups, plan.taken_references)
    plan.participants_created = plan.participants_updated = 0
    plan.preview_rows.clear()
    plan.new_links.clear()
    plan.lead_provider_updates.clear()
    first_lines = repeats.FirstLines(db.session())
    try:
        for chunk in repeats.chunks(plan.frame.records([]), repeats.CHUNK_ROWS):
            rows = []
            for line, record in chunk:
                row = checks.check_row(lookups, line, record, [], validate=False)
                lead_providers.note(line, row.organisation_key, record.get("lead_provider", ""))
                rows.append(row)
            _check_people(lookups, plan, rows, first_lines)
            for row in rows:
                if plan.problems:
                    break
                _count(lookups, plan, row, references, sink)
    finally:
        first_lines.close()
    lead_providers.finish()


def _count(
    lookups: StudyLookups,
    plan: ImportPlan,
    row: PlannedRow,
    references: _References,
    sink: RowSink | None,
) -> None:
    """One checked row: counted as new or updated, given its reference, shown in the preview
    if it is among the first rows, and handed to the sink."""
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


def _check_people(
    lookups: StudyLookups, plan: ImportPlan, rows: list[PlannedRow], first_lines: FirstLines
) -> None:
    """For each row of a chunk: the role fits the organisation; the row is one person, new or
    matched to one, whom no earlier row of the file named."""
    matched: list[tuple[PlannedRow, str, int]] = []
    keys: list[tuple[str, int]] = []
    for row in rows:
        reported = len(plan.problems)
        kind = plan.kinds.get(row.organisation_key)
        if row.role is not None and kind is not None:
            misfit = role_misfit(row.role, row.organisation_name, kind)
            if misfit:
                plan.problems.append(ImportProblem(row.line, "role", misfit))
        column = _match(lookups, row, _reporter(plan, row))
        matched.append((row, column, len(plan.problems) - reported))
        keys.extend((key, row.line) for key, _, _ in _repeat_keys(row))
        if row.participant is not None:
            keys.append((f"p:{row.participant.id}", row.line))
    first = first_lines.note(keys)
    for row, column, found in matched:
        for key, repeated_column, message in _repeat_keys(row):
            earlier = first[key]
            if earlier != row.line:
                problem = ImportProblem(row.line, repeated_column, message.format(earlier=earlier))
                plan.problems.append(problem)
                found += 1
        if row.participant is not None and not found:
            earlier = first[f"p:{row.participant.id}"]
            if earlier != row.line:
                message = (
                    f"Line {earlier} already updates {row.participant.reference}; "
                    "each person appears once."
                )
                plan.problems.append(ImportProblem(row.line, column, message))


def _reporter(plan: ImportPlan, row: PlannedRow) -> Callable[[str, str], None]:
    def problem(column: str, message: str) -> None:
        plan.problems.append(ImportProblem(row.line, column, message))

    return problem


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
