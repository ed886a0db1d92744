"""Checking rows against the study: each value on its own, then the file as a whole.

The study's roles, phases, districts, organisations, participants and interviewers are loaded
into a `StudyLookups` up front (a handful of queries whatever the file's size), so checking makes
no query per row. `check_frame` runs every check and returns the plan; the whole-file rules
live beside it in `frame_things` (organisations, lead providers, districts) and `people`
(duplicates, matching existing participants, references).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from fieldwork.core.spreadsheet import refuse_formula_name
from fieldwork.sampling.forms import PHONE_PATTERN
from fieldwork.sampling.imports import frame_things, people
from fieldwork.sampling.imports.columns import COLUMNS, FRAME_NAME_COLUMNS, ColumnSpec
from fieldwork.sampling.imports.lookups import StudyLookups, load_lookups, quote
from fieldwork.sampling.imports.plan import (
    Frame,
    FrameUnreadable,
    ImportPlan,
    ImportProblem,
    PlannedRow,
)
from fieldwork.sampling.models import Phase, Role, Study

#: Reports one problem in the current row: (column, message).
Report = Callable[[str, str], None]

_PHONE = re.compile(PHONE_PATTERN)
_PHASE_NUMBER = re.compile(r"^\d{1,6}$")
#: A local part email_validator accepts whatever the domain: a dot-atom of RFC 5322's atext.
_PLAIN_LOCAL_PART = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)


@lru_cache(maxsize=4096)
def _is_valid_domain(domain: str) -> bool:
    """Whether email_validator accepts addresses at `domain` (cached: a frame has few domains)."""
    try:
        validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def email_problem(email: str) -> str | None:
    """Why `email` is not an address email_validator accepts, or None when it is.

    email_validator checks the local part and the domain separately, so a plain ASCII local
    part (at most 64 characters) at a domain already accepted is accepted without running it
    again; anything else (and every refusal, for its message) goes through email_validator.
    """
    local, at, domain = email.rpartition("@")
    if (
        at
        and len(local) <= 64
        and len(email) <= 254
        and _PLAIN_LOCAL_PART.fullmatch(local)
        and _is_valid_domain(domain)
    ):
        return None
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return f"{quote(email)} is not an email address like name@example.org. {error}"
    return None


def check_frame(study: Study, frame: Frame) -> ImportPlan:
    """Check every row of `frame` against the study: the plan, with every problem.

    Two passes over the rows, neither holding them all: the first (`first_pass`) checks each
    row on its own and gathers what rows say about organisations and districts; the second
    (`people.second_pass`), once those are settled, applies the rules that need the whole file
    (lead providers, duplicates, matching existing people) and counts what the import will do.
    """
    plan = first_pass(study, frame)
    if plan.frame is not None:
        people.second_pass(plan)
    return settle_problems(plan)


def first_pass(study: Study, frame: Frame) -> ImportPlan:
    """Check each row on its own; the plan knows the organisations and districts the file
    names or creates. An unreadable frame gives a plan with its problems and no frame."""
    lookups = load_lookups(study)
    plan = ImportPlan(study_id=study.id, frame=frame, lookups=lookups)
    facts = frame_things.FrameFacts(lookups)
    count = 0
    try:
        for line, record in frame.records(plan.problems):
            count += 1
            row = check_row(lookups, line, record, plan.problems)
            facts.note(line, record, row, plan.problems)
            if row.reference:
                plan.taken_references.add(row.reference)
    except FrameUnreadable as unreadable:
        return ImportPlan(study_id=study.id, problems=unreadable.problems)
    plan.columns = frame.columns
    if not count and not plan.problems:
        plan.problems.append(ImportProblem(2, "", "The file has a header row but no participants."))
    facts.settle(plan)
    return plan


def settle_problems(plan: ImportPlan) -> ImportPlan:
    """A plan with problems imports nothing: it shows them in order, and no rows or counts."""
    if plan.problems:
        plan.problems.sort()
        plan.preview_rows.clear()
        plan.participants_created = plan.participants_updated = 0
    return plan


def check_row(
    lookups: StudyLookups,
    line: int,
    record: dict[str, str],
    problems: list[ImportProblem],
    validate: bool = True,
) -> PlannedRow:
    """One row's values on their own (lengths, formats) and the study's things it names.
    `validate=False` (a row read again, already checked) only resolves the names."""

    def problem(column: str, message: str) -> None:
        problems.append(ImportProblem(line, column, message))

    if validate:
        check_values(record, problem)
    email = record.get("email", "")
    organisation_name = record.get("organisation", "")
    district_name = record.get("district", "")
    interviewer_email = record.get("interviewer", "").lower()
    return PlannedRow(
        line=line,
        reference=record.get("reference", ""),
        name=record.get("name", ""),
        job_title=record.get("job_title", ""),
        email=email.lower(),
        phone=record.get("phone", ""),
        notes=record.get("notes", ""),
        role=_role(lookups, record.get("role", ""), problem),
        phase=_phase(lookups, record.get("phase", ""), problem),
        organisation_key=organisation_name.lower(),
        organisation_name=organisation_name,
        district_key=district_name.lower(),
        district_name=district_name,
        interviewer_email=interviewer_email,
        interviewer_id=_interviewer(lookups, interviewer_email, problem),
    )


def value_rules(columns: Iterable[ColumnSpec]) -> list[tuple[str, bool, int]]:
    """(name, required?, longest) for each column, worked out once rather than per row."""
    return [
        (spec.name, spec.is_required_header, spec.max_length or sys.maxsize) for spec in columns
    ]


_ROW_RULES = value_rules(COLUMNS)


def check_values(
    record: dict[str, str], problem: Report, rules: list[tuple[str, bool, int]] = _ROW_RULES
) -> None:
    """The rules of each column that need nothing from the study (`rules`: which columns, from
    `value_rules`)."""
    for name, is_required, max_length in rules:
        value = record.get(name, "")
        if is_required and not value:
            problem(name, f"The {name.replace('_', ' ')} is missing; it is required.")
        elif len(value) > max_length:
            problem(name, f"Use at most {max_length:,} characters (this has {len(value):,}).")
    for column, what in FRAME_NAME_COLUMNS.items():
        refusal = refuse_formula_name(record.get(column, ""), what)
        if refusal:
            problem(column, refusal)
    email = record.get("email", "")
    if email and (refusal := email_problem(email)):
        problem("email", refusal)
    phone = record.get("phone", "")
    if phone and not _PHONE.match(phone):
        problem(
            "phone",
            "Enter a telephone number with digits, spaces and + ( ) . - only, like 020 7946 0000.",
        )


def _role(lookups: StudyLookups, name: str, problem: Report) -> Role | None:
    if not name:
        return None
    role = lookups.roles.get(name.lower())
    if role is None:
        problem(
            "role",
            f"The study has no role called {quote(name)}. Its roles are: {lookups.role_names}.",
        )
    return role


def _phase(lookups: StudyLookups, text: str, problem: Report) -> Phase | None:
    if not text:
        return None
    if text in lookups.phases_by_text:
        phase = lookups.phases_by_text[text]
    else:
        phase = lookups.phases_by_text[text] = (
            lookups.phases_by_number.get(int(text))
            if _PHASE_NUMBER.match(text)
            else lookups.phases_by_name.get(text.lower())
        )
    if phase is None:
        problem(
            "phase",
            f"The study has no phase {quote(text)}. Its phases are: {lookups.phase_names}.",
        )
    return phase


def _interviewer(lookups: StudyLookups, email: str, problem: Report) -> int | None:
    if not email:
        return None
    interviewer_id = lookups.interviewers.get(email)
    if interviewer_id is None:
        problem(
            "interviewer",
            f"No interviewer has the email {email}; add them as a user first, or leave this empty.",
        )
    return interviewer_id
