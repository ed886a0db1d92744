"""The pipeline pages: the board, recording a step with its reference, the undo form, the step
editor, and uploaded files served only to people who may see the interview."""

from __future__ import annotations

import datetime as dt
import re

from fieldwork.core.time import UTC
from fieldwork.extensions import db
from fieldwork.pipeline.models import PipelineEntry
from fieldwork.pipeline.recording import record_step
from fieldwork.pipeline.steps import StepSpec, achieved_step, save_steps, steps_of
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.models import DataHandling
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.models import AppointmentStatus
from tests.pipeline.conftest import make_interview

EASTER_THURSDAY = dt.datetime(2026, 4, 2, 10, 0, tzinfo=UTC)


def test_the_board_lists_held_interviews_by_step_with_overdue_ones_marked(world, client, auth):
    make_interview(world, EASTER_THURSDAY, reference="P1-LATE")
    make_interview(world, dt.datetime(2026, 4, 21, 10, tzinfo=UTC), reference="P1-NEW")
    auth.login(world["coordinator"])
    page = client.get("/pipeline")
    assert page.status_code == 200
    html = page.text
    assert "2</strong> held interviews, <strong>1</strong> overdue" in html
    assert html.index("P1-LATE") < html.index("P1-NEW")
    assert "Overdue:" in html and "Edit the steps" in html


def test_an_interviewer_sees_only_their_interviews_and_not_the_editor(world, client, auth):
    make_interview(world, EASTER_THURSDAY, reference="P1-MINE")
    make_interview(
        world, EASTER_THURSDAY, reference="P1-THEIRS", interviewer=world["other_interviewer"]
    )
    auth.login(world["interviewer"])
    html = client.get("/pipeline").text
    assert "P1-MINE" in html and "P1-THEIRS" not in html and "Edit the steps" not in html
    assert client.get("/pipeline/steps").status_code == 403


def test_recording_a_step_from_the_interview_page(world, client, auth):
    interview = make_interview(world, EASTER_THURSDAY, reference="P1-REC")
    first = steps_of(world["study"])[0]
    auth.login(world["interviewer"])
    page = client.get(f"/pipeline/interviews/{interview.id}")
    assert "Record “Recording received”" in page.text
    response = client.post(
        f"/pipeline/interviews/{interview.id}",
        data={
            "action": "record",
            "step_id": str(first.id),
            "file_name": "P1-REC.wav",
            "location": "Team drive",
            "checksum": "a" * 64,
            "note": "<b>bold</b>",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Recorded “Recording received” for P1-REC." in response.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in response.text, "notes are escaped"
    assert "Record “Sent for transcription”" in response.text


def test_a_bad_checksum_shows_an_error_summary_and_saves_nothing(world, client, auth):
    interview = make_interview(world, EASTER_THURSDAY)
    first = steps_of(world["study"])[0]
    auth.login(world["coordinator"])
    response = client.post(
        f"/pipeline/interviews/{interview.id}",
        data={"action": "record", "step_id": str(first.id), "checksum": "not-a-hash"},
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text and "64 hexadecimal digits" in response.text
    assert db.session.query(PipelineEntry).count() == 0


def test_another_interviewers_interview_is_not_found(world, client, auth):
    theirs = make_interview(world, EASTER_THURSDAY, interviewer=world["other_interviewer"])
    auth.login(world["interviewer"])
    assert client.get(f"/pipeline/interviews/{theirs.id}").status_code == 404
    first = steps_of(world["study"])[0]
    response = client.post(
        f"/pipeline/interviews/{theirs.id}", data={"action": "record", "step_id": first.id}
    )
    assert response.status_code == 404
    assert db.session.query(PipelineEntry).count() == 0


def test_an_interview_not_yet_held_sends_you_to_its_appointment(world, client, auth):
    booked = make_interview(
        world, dt.datetime(2026, 5, 1, 10, tzinfo=UTC), status=AppointmentStatus.BOOKED
    )
    auth.login(world["coordinator"])
    response = client.get(f"/pipeline/interviews/{booked.id}")
    assert response.status_code == 302
    assert response.location.endswith(f"/appointments/{booked.id}")


def test_undoing_a_step_after_a_withdrawal_from_the_page(world, client, auth):
    interview = make_interview(world, EASTER_THURSDAY, reference="P1-GONE")
    first = steps_of(world["study"])[0]
    record_step(interview, first.id, world["coordinator"])
    person = db.session.get(Participant, interview.participant_id)
    withdraw(person, world["coordinator"], data_handling=DataHandling.DESTROY)
    auth.login(world["coordinator"])
    assert "Steps to undo" in client.get("/pipeline").text
    entry = db.session.query(PipelineEntry).one()
    missing = client.post(
        f"/pipeline/interviews/{interview.id}",
        data={"action": "undo", "entry_id": entry.id, "undo_note": ""},
    )
    assert missing.status_code == 422 and "Say what was done" in missing.text
    done = client.post(
        f"/pipeline/interviews/{interview.id}",
        data={"action": "undo", "entry_id": entry.id, "undo_note": "Deleted everywhere."},
        follow_redirects=True,
    )
    assert "Recorded that the step was undone." in done.text
    assert "Deleted everywhere." in done.text
    assert "Steps to undo" not in client.get("/pipeline").text


def test_the_coordinator_edits_the_steps_and_the_coverage_step(world, client, auth):
    steps = steps_of(world["study"])
    auth.login(world["coordinator"])
    assert client.get("/pipeline/steps").status_code == 200
    data = {"achieved_step": "Checked", "anonymised_step": "Anonymised"}
    for index, step in enumerate(steps):
        data |= {
            f"steps-{index}-step_id": str(step.id),
            f"steps-{index}-name": step.name,
            f"steps-{index}-due_working_days": str(step.due_working_days),
            f"steps-{index}-position": str(step.position),
        }
    data |= {f"steps-{len(steps)}-name": "Quotes approved", f"steps-{len(steps)}-position": "9"}
    response = client.post("/pipeline/steps", data=data, follow_redirects=True)
    assert "Saved the steps after the interview." in response.text, re.findall(
        r"error-summary__list.{0,300}", response.text, re.S
    )
    assert [s.name for s in steps_of(world["study"])][-1] == "Quotes approved"
    assert achieved_step(world["study"]).name == "Checked"
    data[f"steps-{len(steps)}-name"] = "checked"
    clash = client.post("/pipeline/steps", data=data)
    assert clash.status_code == 422 and "same name" in clash.text


def test_an_uploaded_file_is_served_only_after_login_as_an_attachment(
    world, client, auth, app, tmp_path
):
    import io

    app.config["PIPELINE_UPLOADS_ENABLED"] = True
    app.instance_path, saved = str(tmp_path), app.instance_path
    try:
        interview = make_interview(world, EASTER_THURSDAY)
        first = steps_of(world["study"])[0]
        auth.login(world["interviewer"])
        response = client.post(
            f"/pipeline/interviews/{interview.id}",
            data={
                "action": "record",
                "step_id": str(first.id),
                "upload": (io.BytesIO(b"audio bytes"), "call.wav"),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert "Download the uploaded copy" in response.text
        url = f"/pipeline/interviews/{interview.id}/files/{first.id}"
        download = client.get(url)
        assert download.data == b"audio bytes"
        assert "attachment" in download.headers["Content-Disposition"]
        assert download.headers["Cache-Control"] == "private, no-store"
        download.close()
        auth.logout()
        assert client.get(url).status_code == 302
    finally:
        app.instance_path = saved
        app.config["PIPELINE_UPLOADS_ENABLED"] = False


def test_the_coverage_dashboard_shows_both_figures_once_a_step_is_chosen(world, client, auth):
    make_interview(world, EASTER_THURSDAY)
    steps = steps_of(world["study"])
    specs = [StepSpec(s.id, s.name, s.due_working_days, s.position) for s in steps]
    auth.login(world["coordinator"])
    assert 'id="achieved-step"' not in client.get("/coverage").text
    save_steps(world["study"], specs, "Checked", "Anonymised", world["coordinator"])
    html = client.get("/coverage").text
    assert "counts as achieved once “Checked” is done" in html
    assert "<strong>0</strong> achieved; <strong>1</strong> interviewed" in html
