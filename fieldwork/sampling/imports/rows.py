"""Importing rows that arrive as data (the JSON API's bulk import), by the CSV import's rules.

The rows are the CSV file's rows as dictionaries keyed by the same column names; they go through
the same checks (`checks.check_records`) and the same all-or-nothing write (`writer.apply_plan`).
Rows are numbered from 1 in the order given, in `RowError.row` and in the messages ("Line 2 has
the same email address" names row 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fieldwork.accounts.models import User
from fieldwork.sampling.imports import checks, reader
from fieldwork.sampling.imports.columns import clean, header_key
from fieldwork.sampling.imports.plan import ImportPlan, ImportProblem, ImportResult
from fieldwork.sampling.imports.writer import apply_plan
from fieldwork.sampling.models import Study


@dataclass(frozen=True, order=True)
class RowError:
    """One thing wrong with one row: its position (from 1; 0 for the request as a whole), the
    column it is about ("" for the whole row) and what is wrong."""

    row: int
    field: str
    message: str


class RowsRefused(ValueError):
    """The rows break the import's rules; nothing was written. `errors` says where and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the rows.")
        self.errors = errors


def check_rows(study: Study, rows: Sequence[Mapping[str, object]]) -> ImportPlan:
    """What importing `rows` would do (the plan) or why it cannot (`plan.problems`, whose
    `line` is the row's position from 1). Writes nothing."""
    problems: list[ImportProblem] = []
    if not rows:
        return ImportPlan(study_id=study.id, problems=[ImportProblem(0, "", "There are no rows.")])
    records: list[tuple[int, dict[str, str]]] = []
    columns: set[str] = set()
    for position, row in enumerate(rows, start=1):
        header = [str(name) for name in row]
        problems.extend(
            ImportProblem(position, problem.column, problem.message)
            for problem in reader.check_header(header, line=position)
        )
        record = {header_key(name): _text(value) for name, value in row.items()}
        columns.update(record)
        records.append((position, record))
    if problems:
        return ImportPlan(study_id=study.id, problems=sorted(problems))
    return checks.check_records(study, frozenset(columns), records, problems)


def import_rows(
    study: Study, rows: Sequence[Mapping[str, object]], actor: User | None = None
) -> ImportResult:
    """Check and import `rows` in one transaction: all of them, or (any problem) none.

    Raises `RowsRefused` with every problem by row and field, or `FrameImportError` when the
    study changed while writing.
    """
    plan = check_rows(study, rows)
    if plan.problems:
        raise RowsRefused(row_errors(plan.problems))
    return apply_plan(study, plan, actor)


def row_errors(problems: Sequence[ImportProblem]) -> list[RowError]:
    """The problems of a `check_rows` plan as errors by row and field."""
    return [RowError(problem.line, problem.column, problem.message) for problem in problems]


def _text(value: object) -> str:
    """A value as the CSV would hold it: None is empty, numbers are their digits."""
    return "" if value is None else clean(str(value))
