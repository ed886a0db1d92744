"""Import a 10,000-row sample frame twice and print how long each import took.

    python bench/import_frame.py [--rows 10000] [--database-url URL]

Builds a synthetic study (two phases, five roles, no people) in a fresh database: a temporary
SQLite file by default, or a schema of its own on the PostgreSQL server named by --database-url
(dropped at the end). The file creates 50 districts, 120 organisations and every participant;
the second import of the same file must create nobody.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import sys
import time

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchdb import FreshDatabase  # noqa: E402

from fieldwork import create_app  # noqa: E402
from fieldwork.extensions import db  # noqa: E402
from fieldwork.sampling.imports import reader, writer  # noqa: E402
from fieldwork.sampling.models import OrganisationKind, Participant, Phase, Role, Study  # noqa: E402

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


def run(rows: int, database_url: str | None) -> int:
    database = FreshDatabase.create(database_url)
    app = create_app(
        {
            **database.config,
            "SECRET_KEY": "bench",
            "TESTING": True,
        }
    )
    failed = False
    try:
        with app.app_context():
            db.create_all()
            study = make_study()
            data = build_file(rows)
            print(f"{db.engine.dialect.name}: {rows:,} rows, {len(data) / 1e6:.1f} MB")
            for attempt in (1, 2):
                started = time.perf_counter()
                plan = reader.read_frame(study, data)
                checked = time.perf_counter()
                if plan.problems:
                    print("\n".join(str(p) for p in plan.problems[:20]))
                    return 1
                result = writer.apply_plan(study, plan)
                finished = time.perf_counter()
                total = db.session.scalar(sa.select(sa.func.count()).select_from(Participant))
                print(
                    f"import {attempt}: {finished - started:.2f} s "
                    f"(check {checked - started:.2f} s, write {finished - checked:.2f} s); "
                    f"{result.created:,} created, {result.updated:,} updated, "
                    f"{result.organisations_created} organisations and "
                    f"{result.districts_created} districts created; "
                    f"{total:,} participants in the database"
                )
                if attempt == 2 and (result.created or total != rows):
                    print("FAIL: the second import created people")
                    failed = True
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL URL; default: a temporary SQLite file",
    )
    arguments = parser.parse_args()
    return run(arguments.rows, arguments.database_url)


if __name__ == "__main__":
    sys.exit(main())
