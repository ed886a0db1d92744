"""Reading a CSV file into rows: the text encoding, the header row and the CSV quoting rules.

Nothing here knows the study; `parse_frame` hands the rows it read to `checks.check_records`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from fieldwork.sampling.imports import checks
from fieldwork.sampling.imports.columns import (
    COLUMNS_BY_NAME,
    MAX_ROWS,
    REQUIRED_HEADERS,
    clean,
    header_key,
)
from fieldwork.sampling.imports.plan import ImportPlan, ImportProblem
from fieldwork.sampling.models import Study


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


def check_header(names: list[str], line: int = 1) -> list[ImportProblem]:
    """Problems with a list of column names (already keyed by `header_key`): unknown, nameless
    or repeated columns, and the required ones missing. `names` holds the names as written."""
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for position, raw in enumerate(names, start=1):
        name = header_key(raw)
        if not name:
            problems.append(
                ImportProblem(
                    line,
                    "",
                    f"Column {position} has no name in the header row; name it or delete it.",
                )
            )
        elif name not in COLUMNS_BY_NAME:
            problems.append(
                ImportProblem(
                    line,
                    raw.strip()[:60],
                    f"{checks.quote(raw.strip())} is not a column Fieldwork knows. "
                    f"The columns are: {', '.join(COLUMNS_BY_NAME)}.",
                )
            )
        elif name in seen:
            problems.append(ImportProblem(line, name, f"The column {name} appears more than once."))
        seen.add(name)
    missing = [name for name in REQUIRED_HEADERS if name not in seen]
    if missing:
        problems.append(
            ImportProblem(
                line,
                "",
                f"The header row lacks the required column{'s' if len(missing) > 1 else ''}: "
                f"{', '.join(missing)}.",
            )
        )
    return problems


def _read_header(header: list[str]) -> tuple[list[str], list[ImportProblem]]:
    columns = [header_key(name) for name in header]
    if len(header) == 1 and ";" in header[0]:
        return columns, [
            ImportProblem(
                1,
                "",
                "The file seems to use semicolons between values; Fieldwork reads "
                "comma-separated files. Save it as “CSV UTF-8 (comma delimited)”.",
            )
        ]
    return columns, check_header(header)


def parse_frame(study: Study, text: str) -> ImportPlan:
    """Check the text of a CSV file against the study; every problem found is in the plan."""
    text = text.removeprefix("\ufeff")
    failed = ImportPlan(study_id=study.id)
    if not text.strip():
        failed.problems.append(ImportProblem(1, "", "The file is empty."))
        return failed
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns, problems = _read_header(next(reader))
        if problems:
            failed.problems.extend(problems)
            return failed
        records = list(_records(reader, columns, problems))
    except csv.Error as error:
        failed.problems.append(
            ImportProblem(
                reader.line_num or 1, "", f"The file cannot be read as CSV from here: {error}."
            )
        )
        return failed
    except _TooManyRows as too_many:
        failed.problems = [too_many.problem]
        return failed
    if not records and not problems:
        problems.append(ImportProblem(2, "", "The file has a header row but no participants."))
    return checks.check_records(study, frozenset(columns), records, problems)


class _TooManyRows(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _records(
    reader, columns: list[str], problems: list[ImportProblem]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with a value as (line, values by column); a row of the wrong width is a
    problem. Lines count as an editor shows them (a quoted line break moves the rest by one)."""
    last_line = reader.line_num
    count = 0
    for values in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue  # blank lines and rows of empty cells carry nobody
        if count >= MAX_ROWS:
            raise _TooManyRows(
                ImportProblem(
                    line,
                    "",
                    f"The file has more than {MAX_ROWS:,} participants; split it into "
                    "smaller files.",
                )
            )
        count += 1
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
        yield line, dict(zip(columns, map(clean, values), strict=True))
