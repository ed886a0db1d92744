"""The pipeline in the open-data export: counts and dates per step (no names), and the
anonymised transcripts consent allows to be archived; the package still validates."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from frictionless import validate

from fieldwork.core.time import UTC
from fieldwork.exports import services as exports
from fieldwork.extensions import db
from fieldwork.pipeline.board import interview_progress
from fieldwork.pipeline.recording import record_step, undo_step
from fieldwork.pipeline.steps import setting_of, steps_of
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.models import DataHandling
from fieldwork.sampling.models import Participant
from tests.pipeline.conftest import clock, make_interview, world  # noqa: F401  (fixtures)
from tests.recruitment.helpers import all_yes


def rows_of(directory: Path, name: str) -> list[dict[str, str]]:
    with open(directory / "data" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_pipeline_resources_list_counts_and_archivable_transcripts(world, tmp_path):  # noqa: F811
    """Four held interviews through "Anonymised": one whose consent refuses archiving and one
    withdrawn asking for destruction are not listed; the step counts cover every interview."""
    at = dt.datetime(2026, 3, 2, 10, tzinfo=UTC)
    kept = make_interview(world, at, reference="P1-KEEP")
    refused = make_interview(
        world, at, reference="P1-NOARCH", answers={**all_yes(), "archiving": False}
    )
    gone = make_interview(world, at, reference="P1-GONE")
    partial = make_interview(world, at, reference="P1-HALF")
    steps = steps_of(world["study"])
    setting_of(world["study"])
    for interview in (kept, refused, gone):
        for step in steps[:4]:  # up to "Anonymised"
            record_step(interview, step.id, world["coordinator"])
    record_step(partial, steps[0].id, world["coordinator"])
    person = db.session.get(Participant, gone.participant_id)
    withdraw(person, world["coordinator"], data_handling=DataHandling.DESTROY)
    for entry in interview_progress(gone, world["study"]).to_undo:
        undo_step(gone, entry.id, world["coordinator"], "Deleted.")

    directory = tmp_path / "package"
    exports.export_to_directory(world["study"], directory)
    report = validate(str(directory / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])

    assert [
        row["participant_reference"] for row in rows_of(directory, "archivable_transcripts")
    ] == ["P1-KEEP"]
    [row] = rows_of(directory, "archivable_transcripts")
    assert (row["interview_on"], row["anonymised_on"], row["archived_on"]) == (
        "2026-03-02",
        "2026-04-22",
        "",
    )
    steps_rows = rows_of(directory, "pipeline_steps")
    assert [(r["step"], r["interviews_done"], r["interviews_undone"]) for r in steps_rows][:5] == [
        ("Recording received", "3", "1"),
        ("Sent for transcription", "2", "1"),
        ("Transcript received", "2", "1"),
        ("Anonymised", "2", "1"),
        ("Checked", "0", "0"),
    ]
    assert {r["held_interviews"] for r in steps_rows} == {"4"}
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    names = [resource["name"] for resource in descriptor["resources"]]
    assert "pipeline_steps" in names and "archivable_transcripts" in names
    text = (directory / "data" / "pipeline_steps.csv").read_text(encoding="utf-8")
    text += (directory / "data" / "archivable_transcripts.csv").read_text(encoding="utf-8")
    for person in db.session.query(Participant).all():
        assert person.name not in text and (person.email or "@@") not in text
