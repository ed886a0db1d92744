"""Import a 10,000-row sample frame twice and print how long each import took, beside its floor.

    python bench/import_frame.py [--rows 10000] [--database-url URL] [--memory]

The floor is the least any import of the same file can do: read the CSV and insert its
participants with one plain executemany (COPY on PostgreSQL), names looked up in dictionaries,
no checks; measured in the same run on the same database, then rolled back.

With --memory it measures instead the peak memory (tracemalloc) of importing 20,000 and
100,000 rows from a file on disk, and fails if it grows by more than MAX_BYTES_PER_ROW a row.

Builds a synthetic study (two phases, five roles, no people) in a fresh database: a temporary
SQLite file by default, or a schema of its own on the PostgreSQL server named by --database-url
(dropped at the end). The file creates 50 districts, 120 organisations and every participant;
the second import of the same file must create nobody.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import insert

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchdb import FreshDatabase  # noqa: E402

from fieldwork import create_app  # noqa: E402
from fieldwork.extensions import db  # noqa: E402
from fieldwork.sampling.imports import reader, writer  # noqa: E402
from fieldwork.sampling.models import (  # noqa: E402
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    RecruitmentStatus,
    Role,
    Study,
)

ROLES = [
    ("DWP Contract Manager", OrganisationKind.DWP, "dwp"),
    ("JCP Third Party Provision Manager", OrganisationKind.JCP, "jcp"),
    ("Lead provider manager", OrganisationKind.LEAD_PROVIDER, "lead_provider"),
    ("Lead provider adviser", OrganisationKind.LEAD_PROVIDER, "lead_provider"),
    ("Sub-contractor manager", OrganisationKind.SUBCONTRACTOR, "subcontractor"),
]
HEADER = [
    "name",
    "job_title",
    "email",
    "phone",
    "role",
    "organisation",
    "organisation_kind",
    "lead_provider",
    "district",
    "phase",
    "notes",
]


#: How much the import's peak memory may grow per row of the file: nothing is held per row (the
#: rows are read a chunk at a time, repeated people found through a temporary table), so
#: anything above noise is a regression. Measured: 20,000 and 100,000 rows peak alike.
MAX_BYTES_PER_ROW = 20


def build_file(rows: int) -> bytes:
    """A UTF-8 CSV with `rows` people spread over 50 districts and a score of organisations."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for number in range(rows):
        district = number % 50
        phase = 1 if district < 25 else 2
        role, _, kind = ROLES[number % len(ROLES)]
        lead = ""
        if kind == "dwp":
            organisation = "Department for Work and Pensions"
        elif kind == "jcp":
            organisation = f"Jobcentre Plus District {district:02d}"
        elif kind == "lead_provider":
            organisation = f"Lead Provider {district % 4}"
        else:
            organisation = f"Sub-contractor {district % 20}, Ltd"
            lead = f"Lead Provider {district % 4}"
        writer.writerow(
            [
                f"Person {number} Ó Briain",
                "Manager",
                f"person{number}@example.org",
                f"0161 496 {number % 10000:04d}",
                role,
                organisation,
                kind,
                lead,
                f"District {district:02d}",
                phase,
                'Synthetic; "quoted", with commas' if number % 7 else "Two\nlines",
            ]
        )
    return out.getvalue().encode("utf-8")


def make_study() -> Study:
    study = Study(
        slug="bench",
        name="Bench study",
        organiser_name="Bench",
        organiser_email="bench@example.org",
    )
    db.session.add(study)
    db.session.flush()
    db.session.add_all(
        [
            Phase(study_id=study.id, number=1, name="Phase 1", go_live_on=dt.date(2007, 12, 3)),
            Phase(study_id=study.id, number=2, name="Phase 2", go_live_on=dt.date(2008, 4, 28)),
        ]
    )
    db.session.add_all(
        [Role(study_id=study.id, name=name, organisation_kind=kind) for name, kind, _ in ROLES]
    )
    db.session.commit()
    return study


def floor(study: Study, data: bytes) -> float:
    """Seconds to insert the file's participants as a new copy of each (fresh references),
    with one executemany or COPY and no checks; rolled back so the study is unchanged."""
    organisations = dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())
    districts = dict(db.session.execute(sa.select(District.name, District.id)).all())
    roles = dict(db.session.execute(sa.select(Role.name, Role.id)).all())
    table = Participant.__table__
    columns = [
        "study_id", "reference", "organisation_id", "role_id", "district_id", "name",
        "job_title", "email", "phone", "timezone", "notes", "status", "created_at", "updated_at",
    ]  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    is_postgresql = db.session.connection().dialect.name == "postgresql"
    # COPY takes the stored text; executemany goes through the column's Enum type.
    status = RecruitmentStatus.IDENTIFIED.value if is_postgresql else RecruitmentStatus.IDENTIFIED
    started = time.perf_counter()
    records = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    values = [
        (
            study.id,
            f"F-{number}",
            organisations[row["organisation"]],
            roles[row["role"]],
            districts[row["district"]],
            row["name"],
            row["job_title"],
            "copy-" + row["email"].lower(),
            row["phone"],
            "",
            row["notes"],
            status,
            now,
            now,
        )
        for number, row in enumerate(records)
    ]
    connection = db.session.connection()
    if is_postgresql:
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY participant ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in values])
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return elapsed


def run(rows: int, database_url: str | None) -> int:
    """Import the file twice (the second creates nobody), each beside the floor."""
    failed = False
    with bench_app(database_url) as study, tempfile.TemporaryDirectory() as folder:
        data = build_file(rows)
        path = os.path.join(folder, "frame.csv")
        with open(path, "wb") as handle:
            handle.write(data)
        print(f"{db.engine.dialect.name}: {rows:,} rows, {len(data) / 1e6:.1f} MB")
        for attempt in (1, 2):
            started = time.perf_counter()
            plan = writer.import_frame(study, reader.CsvFrame.from_path(path))
            elapsed = time.perf_counter() - started
            if plan.result is None:
                print("\n".join(str(p) for p in plan.problems[:20]))
                return 1
            result = plan.result
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Participant))
            print(
                f"import {attempt}: {elapsed:.2f} s; {result.created:,} created, "
                f"{result.updated:,} updated, {result.organisations_created} organisations and "
                f"{result.districts_created} districts created; "
                f"{total:,} participants in the database"
            )
            if attempt == 1:
                least = floor(study, data)
                print(
                    f"floor (read the CSV, {_floor_name()}, no checks): {least:.2f} s; "
                    f"the import takes {elapsed / least:.1f}x the floor"
                )
            if attempt == 2 and (result.created or total != rows):
                print("FAIL: the second import created people")
                failed = True
    return 1 if failed else 0


def peak_memory(rows: int, database_url: str | None) -> int:
    """Peak bytes Python allocates (tracemalloc) while importing a `rows`-row file from disk
    into an empty study."""
    with bench_app(database_url) as study, tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "frame.csv")
        with open(path, "wb") as handle:
            handle.write(build_file(rows))
        tracemalloc.start()
        try:
            plan = writer.import_frame(study, reader.CsvFrame.from_path(path))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert plan.result is not None and plan.result.created == rows
        return peak


def run_memory(sizes: list[int], database_url: str | None) -> int:
    """Peak memory at each size; fails when it grows by more than MAX_BYTES_PER_ROW a row."""
    peaks = {rows: peak_memory(rows, database_url) for rows in sizes}
    for rows, peak in peaks.items():
        print(f"peak memory importing {rows:,} rows: {peak / 1e6:.1f} MB")
    small, large = min(sizes), max(sizes)
    per_row = (peaks[large] - peaks[small]) / (large - small)
    print(f"growth: {per_row:.0f} bytes a row (bound: {MAX_BYTES_PER_ROW})")
    return 0 if per_row <= MAX_BYTES_PER_ROW else 1


@contextlib.contextmanager
def bench_app(database_url: str | None) -> Iterator[Study]:
    """The bench study in a fresh database, inside an app context; dropped afterwards."""
    database = FreshDatabase.create(database_url)
    app = create_app({**database.config, "SECRET_KEY": "bench", "TESTING": True})
    try:
        with app.app_context():
            db.create_all()
            yield make_study()
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()


def _floor_name() -> str:
    return "COPY" if db.engine.dialect.name == "postgresql" else "one executemany"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL URL; default: a temporary SQLite file",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="measure peak memory at 20,000 and 100,000 rows instead of time",
    )
    arguments = parser.parse_args()
    if arguments.memory:
        return run_memory([20_000, 100_000], arguments.database_url)
    return run(arguments.rows, arguments.database_url)


if __name__ == "__main__":
    sys.exit(main())
