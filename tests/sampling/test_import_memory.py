"""Importing a long sample frame: flat memory (nothing kept per row of the file), and the
rules that span the whole file still hold across the chunks it is checked in."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.sampling.imports import reader, repeats, writer
from fieldwork.sampling.imports.plan import ImportProblem
from fieldwork.sampling.models import Participant, Study
from tests.factories import make_frame, make_study

#: Rows checked and written together in this test (smaller than the app's chunks, so that a
#: short file fills them).
CHUNK = 250
#: The rows of the smaller file: several chunks, so both files fill the same buffers.
ROWS = 1_000
#: What the peak may grow between ROWS and 4 * ROWS rows. Keeping one email a row (as the
#: duplicate rule once did) grows it by about 440 kB here; without it about 120 kB, which
#: does not grow further (bench/import_frame.py --memory: 20,000 and 100,000 rows peak alike).
ALLOWED_GROWTH = 250_000


def write_file(path: Path, rows: int, first: int) -> None:
    """`rows` new people with distinct emails, numbered from `first`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "email", "role", "organisation", "district", "phase", "notes"])
        for number in range(first, first + rows):
            out.writerow(
                [
                    f"Person {number} Ó Briain",
                    f"person{number}@example.org",
                    "JCP Third Party Provision Manager",
                    "Jobcentre Plus North",
                    "North",
                    "1",
                    f"Synthetic row {number}",
                ]
            )


def peak_bytes(study: Study, path: Path) -> int:
    """Peak memory Python allocates while importing the file (read from disk as it goes)."""
    tracemalloc.start()
    try:
        plan = writer.import_frame(study, reader.CsvFrame.from_path(str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert plan.problems == [] and plan.result is not None
    return peak


def test_importing_four_times_the_rows_takes_no_more_memory(app, tmp_path, monkeypatch):
    """The duplicate rules, the checks and the writing hold a chunk of rows at a time, so a
    file four times as long peaks at about the same memory (each import into a study of its
    own, so neither matches people the other created)."""
    monkeypatch.setattr(repeats, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(writer, "CHUNK_ROWS", CHUNK)
    warm_up, small, large = (tmp_path / f"{name}.csv" for name in ("warm_up", "small", "large"))
    write_file(warm_up, 10, 0)
    write_file(small, ROWS, 10)
    write_file(large, 4 * ROWS, 10 + ROWS)
    studies = [make_frame(make_study(slug=slug))["study"] for slug in ("w", "s", "l")]
    db.session.commit()
    peak_bytes(studies[0], warm_up)  # statements compiled and modules loaded once, before
    growth = peak_bytes(studies[2], large) - peak_bytes(studies[1], small)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 10 + 5 * ROWS
    print(f"peak memory growth from {ROWS:,} to {4 * ROWS:,} rows: {growth:,} bytes")
    assert growth < ALLOWED_GROWTH, f"peak memory grew by {growth:,} bytes"


def test_a_repeat_is_found_whichever_chunk_the_earlier_row_was_in(app, tmp_path, monkeypatch):
    """Two rows a chunk: a person repeated three rows later is refused with the line that
    first named them, and nothing is imported."""
    monkeypatch.setattr(repeats, "CHUNK_ROWS", 2)
    study = make_frame(make_study())["study"]
    db.session.commit()
    path = tmp_path / "frame.csv"
    write_file(path, 5, 0)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(lines[2].replace("Person 1 ", "Someone else "))  # line 7 repeats line 3
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plan = writer.import_frame(study, reader.CsvFrame.from_path(str(path)))
    assert plan.problems == [
        ImportProblem(7, "email", "Line 3 has the same email address; each person appears once.")
    ]
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
