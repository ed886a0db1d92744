"""Importing rows that arrive as data (the JSON API's bulk import), by the CSV import's rules.

The rows are the CSV file's rows as dictionaries keyed by the same column names; they go through
the same checks (`checks.check_frame`) and the same all-or-nothing write (`writer.import_frame`).
Rows are numbered from 1 in the order given, in `RowError.row` and in the messages ("Line 2 has
the same email address" names row 2).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from fieldwork.accounts.models import User
from fieldwork.sampling.imports import checks, reader, writer
from fieldwork.sampling.imports.columns import clean, header_key
from fieldwork.sampling.imports.plan import (
    FrameUnreadable,
    ImportPlan,
    ImportProblem,
    ImportResult,
)
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


class RowsFrame:
    """Rows given as data, as a `Frame`: each row's keys are checked like a CSV header."""

    def __init__(self, rows: Sequence[Mapping[str, object]]) -> None:
        self.rows = rows
        self.columns = frozenset(header_key(str(name)) for row in rows for name in row)

    def records(self, problems: list[ImportProblem]) -> Iterator[tuple[int, dict[str, str]]]:
        if not self.rows:
            raise FrameUnreadable([ImportProblem(0, "", "There are no rows.")])
        header_problems = [
            ImportProblem(position, problem.column, problem.message)
            for position, row in enumerate(self.rows, start=1)
            for problem in reader.check_header([str(name) for name in row], line=position)
        ]
        if header_problems:
            raise FrameUnreadable(header_problems)
        for position, row in enumerate(self.rows, start=1):
            yield position, {header_key(str(name)): _text(value) for name, value in row.items()}


def check_rows(study: Study, rows: Sequence[Mapping[str, object]]) -> ImportPlan:
    """What importing `rows` would do (the plan) or why it cannot (`plan.problems`, whose
    `line` is the row's position from 1). Writes nothing."""
    return checks.check_frame(study, RowsFrame(rows))


def import_rows(
    study: Study, rows: Sequence[Mapping[str, object]], actor: User | None = None
) -> ImportResult:
    """Check and import `rows` in one transaction: all of them, or (any problem) none.

    Raises `RowsRefused` with every problem by row and field, or `FrameImportError` when the
    study changed while writing.
    """
    plan = writer.import_frame(study, RowsFrame(rows), actor)
    if plan.result is None:
        raise RowsRefused(row_errors(plan.problems))
    return plan.result


def import_file(study: Study, data: bytes, actor: User | None = None) -> ImportResult:
    """Check and import a CSV file (bytes) like `import_rows`: all of it or none. Its
    `RowError.row` is the file's line (the header is line 1)."""
    plan = writer.import_frame(study, reader.CsvFrame.from_bytes(data), actor)
    if plan.result is None:
        raise RowsRefused(row_errors(plan.problems))
    return plan.result


def row_errors(problems: Sequence[ImportProblem]) -> list[RowError]:
    """The problems of a `check_rows` plan as errors by row and field."""
    return [RowError(problem.line, problem.column, problem.message) for problem in problems]


def _text(value: object) -> str:
    """A value as the CSV would hold it: None is empty, numbers are their digits."""
    return "" if value is None else clean(str(value))
