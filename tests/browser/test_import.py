"""Importing a sample frame from a CSV file through the web pages, in a real browser."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from fieldwork.extensions import db
from fieldwork.sampling.models import OrganisationKind, Participant
from tests.factories import make_frame, make_role, make_user
from tests.pagecheck import expect

pytestmark = pytest.mark.browser

COLUMNS = [
    "reference",
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
    "interviewer",
]

GOOD_ROWS = [
    {
        "name": "Imran Iqbal",
        "job_title": "Third Party Provision Manager",
        "email": "imran.iqbal@example.org",
        "role": "JCP Third Party Provision Manager",
        "organisation": "Jobcentre Plus North",
        "organisation_kind": "jcp",
        "district": "North",
        "phase": "1",
    },
    {
        "name": "Niamh Quinn",
        "job_title": "Contract manager",
        "email": "niamh.quinn@example.org",
        "phone": "020 7946 0000",
        "role": "Lead provider manager",
        "organisation": "Acme Employment",
        "organisation_kind": "lead_provider",
        "district": "South",
        "phase": "2",
    },
    {
        "name": "Wei Thomas",
        "job_title": "Service manager",
        "email": "wei.thomas@example.org",
        "role": "Sub-contractor manager",
        "organisation": "Step Forward Trust",
        "organisation_kind": "subcontractor",
        "lead_provider": "Acme Employment",
        "district": "South",
        "phase": "2",
        "notes": "Prefers mornings",
    },
]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return path


def upload(page, live_server, path: Path) -> None:
    page.goto(live_server("/import"))
    page.get_by_label(re.compile("CSV")).set_input_files(str(path))
    page.locator("form:has(input[type=file]) button").click()
    page.wait_for_load_state()


def participant_count() -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(Participant.id)))


def test_a_file_with_a_bad_row_imports_nothing_then_a_good_one_imports_everyone(
    app, page, live_server, log_in, console, tmp_path
):
    """The problems table names the line and the column of the bad row and nothing is saved;
    the corrected file shows a preview, and confirming it puts everyone in the list."""
    frame = make_frame()
    make_role(frame["study"], "Sub-contractor manager", OrganisationKind.SUBCONTRACTOR)
    log_in(make_user("coordinator"))
    console.expect_status(400, 422)

    bad_rows = [dict(row) for row in GOOD_ROWS]
    bad_rows[1]["email"] = "niamh.quinn.example.org"  # line 3 of the file: the header is line 1
    upload(page, live_server, write_csv(tmp_path / "bad.csv", bad_rows))
    problems = page.get_by_role("table")
    expect(problems).to_be_visible()
    bad_line = problems.locator("tr").filter(has_text=re.compile(r"\b3\b")).filter(has_text="email")
    expect(bad_line).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(r"^Import \d"))).to_have_count(0)
    assert participant_count() == 0

    upload(page, live_server, write_csv(tmp_path / "good.csv", GOOD_ROWS))
    for row in GOOD_ROWS:
        expect(page.get_by_text(row["name"]).first).to_be_visible()
    assert participant_count() == 0, "the preview saves nothing"
    page.get_by_role("button", name=re.compile(r"^Import 3 participants")).click()
    page.wait_for_load_state()

    if not page.url.rstrip("/").endswith("/participants"):
        page.goto(live_server("/participants"))
    table = page.locator("#participants")
    for row in GOOD_ROWS:
        expect(table).to_contain_text(row["name"])
    assert participant_count() == 3
