"""What checking a frame produces: the problems found, and the plan of what writing would do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from fieldwork.sampling.imports.columns import PREVIEW_ROWS
from fieldwork.sampling.imports.lookups import ExistingParticipant, StudyLookups
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Phase,
    Role,
)


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
    participant: ExistingParticipant | None = None
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
    phase: Phase


class FrameUnreadable(Exception):
    """The frame cannot be read at all (empty, not UTF-8, a bad header...): these problems are
    the only ones reported."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


class Frame(Protocol):
    """Rows to import, readable more than once: checking reads them, writing reads them again,
    so no pass holds every row in memory."""

    #: The columns the rows have (known once `records` has started).
    columns: frozenset[str]

    def records(self, problems: list[ImportProblem]) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row as (line, values by column); problems with single rows go to `problems`;
        raises FrameUnreadable when nothing can be read."""
        ...


@dataclass
class ImportPlan:
    """What importing a frame would do, or why it cannot: the counts, the first rows for the
    preview, and what the file creates. Writing reads the frame again (`writer.import_frame`)."""

    study_id: int
    problems: list[ImportProblem] = field(default_factory=list)
    #: Columns the file has; on update, only these fields are replaced.
    columns: frozenset[str] = frozenset()
    #: The first PREVIEW_ROWS rows, as they will be imported.
    preview_rows: list[PlannedRow] = field(default_factory=list)
    participants_created: int = 0
    participants_updated: int = 0
    new_organisations: dict[str, NewOrganisation] = field(default_factory=dict)
    new_districts: dict[str, NewDistrict] = field(default_factory=dict)
    #: Existing organisations and districts the rows name, by lower-case name.
    organisations: dict[str, Organisation] = field(default_factory=dict)
    districts: dict[str, District] = field(default_factory=dict)
    #: Existing sub-contractors without a lead provider that the file gives one.
    lead_provider_updates: dict[str, str] = field(default_factory=dict)
    #: (organisation key, district key) pairs to record as "covers", not recorded yet.
    new_links: set[tuple[str, str]] = field(default_factory=set)
    #: Each organisation's kind (existing or given by the file), by lower-case name.
    kinds: dict[str, OrganisationKind] = field(default_factory=dict)
    #: References the file gives, which new people without one must not get.
    taken_references: set[str] = field(default_factory=set)
    #: The rows, to read again when writing; and the study as the check saw it.
    frame: Frame | None = None
    lookups: StudyLookups | None = None
    #: What was written, once `writer.import_frame` has written the plan.
    result: ImportResult | None = None

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def row_count(self) -> int:
        return self.participants_created + self.participants_updated

    @property
    def organisations_created(self) -> int:
        return len(self.new_organisations)

    @property
    def districts_created(self) -> int:
        return len(self.new_districts)

    def preview(self, limit: int = PREVIEW_ROWS) -> list[PlannedRow]:
        """The first rows, for the preview page."""
        return self.preview_rows[:limit]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    organisations_created: int
    districts_created: int

    @property
    def total(self) -> int:
        return self.created + self.updated
