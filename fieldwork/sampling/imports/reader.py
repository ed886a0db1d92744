"""Reading a CSV file into rows: the text encoding, the header row and the CSV quoting rules.

Nothing here knows the study: a `CsvFrame` yields the rows it reads to `checks.check_frame`,
and again to `writer.import_frame`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from fieldwork.sampling.imports import checks
from fieldwork.sampling.imports.columns import (
    COLUMNS_BY_NAME,
    MAX_ROWS,
    REQUIRED_HEADERS,
    clean,
    header_key,
)
from fieldwork.sampling.imports.plan import FrameUnreadable, ImportPlan, ImportProblem
from fieldwork.sampling.models import Study


def read_frame(study: Study, data: bytes) -> ImportPlan:
    """Check a CSV file (bytes, UTF-8 with or without a BOM) against the study."""
    return checks.check_frame(study, CsvFrame.from_bytes(data))


def parse_frame(study: Study, text: str) -> ImportPlan:
    """Check the text of a CSV file against the study; every problem found is in the plan."""
    return read_frame(study, text.encode("utf-8"))


class CsvFrame:
    """A CSV file as a `Frame`: each pass opens it afresh (`opener` gives a binary stream) and
    decodes and parses it as it goes, a chunk at a time."""

    def __init__(self, opener: Callable[[], BinaryIO]) -> None:
        self.opener = opener
        self.columns: frozenset[str] = frozenset()

    @classmethod
    def from_bytes(cls, data: bytes) -> CsvFrame:
        """A file held in memory (an upload)."""
        return cls(lambda: io.BytesIO(data))

    @classmethod
    def from_path(cls, path: str) -> CsvFrame:
        """A file on disk, read in chunks: never all of it in memory at once."""
        return cls(lambda: open(path, "rb"))  # noqa: SIM115  (records() closes it)

    def records(self, problems: list[ImportProblem]) -> Iterator[tuple[int, dict[str, str]]]:
        with self.opener() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            try:
                columns = self._header(reader)
                self.columns = frozenset(columns)
                yield from _records(reader, columns, problems)
            except UnicodeDecodeError:
                raise FrameUnreadable([self._not_utf8()]) from None
            except csv.Error as error:
                raise FrameUnreadable(
                    [
                        ImportProblem(
                            reader.line_num or 1,
                            "",
                            f"The file cannot be read as CSV from here: {error}.",
                        )
                    ]
                ) from None

    def _header(self, reader) -> list[str]:
        """The header's column names; a file with nothing in it, or a bad header, is unreadable."""
        header = next(reader, None)
        if header is None or (
            not any(cell.strip() for cell in header)
            and not any(any(cell.strip() for cell in row) for row in reader)
        ):
            raise FrameUnreadable([ImportProblem(1, "", "The file is empty.")])
        columns, problems = _read_header(header)
        if problems:
            raise FrameUnreadable(problems)
        return columns

    def _not_utf8(self) -> ImportProblem:
        """The problem that the file is not UTF-8, at the line of its first bad byte."""
        with self.opener() as raw:
            number = next(
                (number for number, line in enumerate(raw, start=1) if not _is_utf8(line)), 1
            )
        return ImportProblem(
            number,
            "",
            "The file is not UTF-8 text. Save it as “CSV UTF-8 (comma delimited)” "
            "and upload it again.",
        )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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


def _records(
    reader, columns: list[str], problems: list[ImportProblem]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with a value as (line, values by column); a row of the wrong width is a
    problem. Lines count as an editor shows them (a quoted line break moves the rest by one)."""
    last_line = reader.line_num
    count = 0
    for values in reader:
        line, last_line = last_line + 1, reader.line_num
        cells = [value.strip() for value in values]
        if not any(cells):
            continue  # blank lines and rows of empty cells carry nobody
        if count >= MAX_ROWS:
            raise FrameUnreadable(
                [
                    ImportProblem(
                        line,
                        "",
                        f"The file has more than {MAX_ROWS:,} participants; split it into "
                        "smaller files.",
                    )
                ]
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
        if "\r" in "".join(cells):  # a quoted line break written the Windows way
            cells = [clean(cell) for cell in cells]
        yield line, dict(zip(columns, cells, strict=True))
