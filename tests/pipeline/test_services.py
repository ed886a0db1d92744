"""The pipeline's rules: default steps, steps in order, due dates and the board, references and
checksums, consent undoing steps, and coverage counting an interview once a chosen step is done."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest

from fieldwork import config
from fieldwork.core.time import UTC
from fieldwork.coverage import services as coverage
from fieldwork.extensions import db
from fieldwork.pipeline.board import board_of, interview_progress
from fieldwork.pipeline.figures import step_counts
from fieldwork.pipeline.models import DEFAULT_STEPS, PipelineEntry
from fieldwork.pipeline.recording import record_step, stored_path, undo_step
from fieldwork.pipeline.steps import PipelineError, StepSpec, save_steps, steps_of
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.recruitment.models import DataHandling
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.models import AppointmentStatus
from tests.pipeline.conftest import make_interview

EASTER_THURSDAY = dt.datetime(2026, 4, 2, 10, 0, tzinfo=UTC)


def test_a_study_starts_with_the_default_steps_in_order(world):
    steps = steps_of(world["study"])
    assert [(s.name, s.due_working_days) for s in steps] == list(DEFAULT_STEPS)
    assert [s.position for s in steps] == [1, 2, 3, 4, 5, 6]
    assert steps_of(world["study"])[0].id == steps[0].id, "made once"


def test_a_step_records_who_when_a_note_and_the_files_reference(world):
    interview = make_interview(world, EASTER_THURSDAY)
    first = steps_of(world["study"])[0]
    entry = record_step(
        interview,
        first.id,
        world["interviewer"],
        note="Two files: the call and the backup.",
        file_name=" P1-001.wav ",
        location="Team drive / audio",
        checksum="AB" * 32,
    )
    assert (entry.done_by_id, entry.file_name, entry.location) == (
        world["interviewer"].id,
        "P1-001.wav",
        "Team drive / audio",
    )
    assert entry.checksum == "ab" * 32
    assert entry.done_at == dt.datetime(2026, 4, 22, 12, tzinfo=UTC)
    assert entry.note == "Two files: the call and the backup."


def test_steps_are_done_in_order_and_once(world):
    interview = make_interview(world, EASTER_THURSDAY)
    steps = steps_of(world["study"])
    with pytest.raises(PipelineError, match="first: steps are done in order"):
        record_step(interview, steps[2].id, world["coordinator"])
    record_step(interview, steps[0].id, world["coordinator"])
    with pytest.raises(PipelineError, match="already recorded"):
        record_step(interview, steps[0].id, world["coordinator"])
    assert db.session.query(PipelineEntry).count() == 1


def test_a_malformed_checksum_is_refused_and_nothing_is_saved(world):
    interview = make_interview(world, EASTER_THURSDAY)
    first = steps_of(world["study"])[0]
    with pytest.raises(PipelineError, match="64 hexadecimal"):
        record_step(interview, first.id, world["coordinator"], checksum="xyz")
    assert db.session.query(PipelineEntry).count() == 0


def test_an_interview_not_held_has_no_pipeline(world):
    booked = make_interview(
        world, dt.datetime(2026, 5, 1, 10, tzinfo=UTC), status=AppointmentStatus.BOOKED
    )
    first = steps_of(world["study"])[0]
    with pytest.raises(PipelineError, match="marked held"):
        record_step(booked, first.id, world["coordinator"])


def test_due_dates_count_working_days_after_the_interview_across_easter(world):
    """Held Thursday 2 April 2026 (Good Friday and Easter Monday follow): recording due 2
    working days after (8 April), transcript 10 (20 April)."""
    interview = make_interview(world, EASTER_THURSDAY)
    progress = interview_progress(interview, world["study"])
    due = {state.step.name: state.due_on for state in progress.steps}
    assert due["Recording received"] == dt.date(2026, 4, 8)
    assert due["Sent for transcription"] == dt.date(2026, 4, 9)
    assert due["Transcript received"] == dt.date(2026, 4, 20)
    # On 22 April the recording (due 8 April) is overdue.
    assert progress.current.step.name == "Recording received"
    assert progress.is_overdue


def test_the_board_puts_each_interview_under_its_step_overdue_first(world):
    """Three interviews wait on the first step: the two overdue ones come first (earliest due
    first), then the one not yet due; a complete one is under Complete."""
    late = make_interview(world, EASTER_THURSDAY, reference="LATE")
    later = make_interview(world, dt.datetime(2026, 4, 14, 10, tzinfo=UTC), reference="LATER")
    fresh = make_interview(world, dt.datetime(2026, 4, 21, 10, tzinfo=UTC), reference="FRESH")
    done = make_interview(world, dt.datetime(2026, 3, 2, 10, tzinfo=UTC), reference="DONE")
    for step in steps_of(world["study"]):
        record_step(done, step.id, world["coordinator"])
    board = board_of(world["study"], world["coordinator"])
    first = board.columns[0]
    assert [item.reference for item in first.interviews] == ["LATE", "LATER", "FRESH"]
    assert [item.is_overdue for item in first.interviews] == [True, True, False]
    assert first.overdue == 2 and board.overdue == 2
    assert [item.reference for item in board.columns[-1].interviews] == ["DONE"]
    assert board.total == 4
    assert {late.id, later.id, fresh.id} == {i.appointment.id for i in first.interviews}


def test_an_interviewer_sees_only_their_interviews_on_the_board(world):
    make_interview(world, EASTER_THURSDAY, reference="MINE")
    make_interview(
        world, EASTER_THURSDAY, reference="THEIRS", interviewer=world["other_interviewer"]
    )
    board = board_of(world["study"], world["interviewer"])
    assert [i.reference for c in board.columns for i in c.interviews] == ["MINE"]


def test_the_board_takes_the_same_number_of_queries_for_more_interviews(world, count_queries):
    for day in range(3):
        make_interview(world, EASTER_THURSDAY + dt.timedelta(days=day))
    steps_of(world["study"])

    def load() -> None:  # the objects the test holds, expired by the commits above
        assert world["study"].timezone and world["coordinator"].role

    load()
    with count_queries() as small:
        board_of(world["study"], world["coordinator"])
    for day in range(12):
        make_interview(world, EASTER_THURSDAY + dt.timedelta(days=day))
    load()
    with count_queries() as large:
        board_of(world["study"], world["coordinator"])
    assert large.count == small.count <= 5


def test_a_withdrawal_asking_to_destroy_lists_the_steps_to_undo_and_records_the_undoing(world):
    """Withdrawn with "destroy": the two steps done are marked to undo (the withdrawal's own
    transaction), the board lists the interview apart, no step can be added, and undoing is
    recorded with who, when and what was done."""
    interview = make_interview(world, EASTER_THURSDAY, reference="GONE")
    steps = steps_of(world["study"])
    for step in steps[:2]:
        record_step(interview, step.id, world["coordinator"])
    person = db.session.get(Participant, interview.participant_id)
    withdraw(person, world["coordinator"], data_handling=DataHandling.DESTROY)

    board = board_of(world["study"], world["coordinator"])
    assert [item.reference for item in board.to_undo] == ["GONE"]
    assert board.total == 0, "a withdrawn interview waits on nothing"
    progress = interview_progress(interview, world["study"])
    assert [e.step_id for e in progress.to_undo] == [steps[0].id, steps[1].id]
    with pytest.raises(PipelineError, match="destroyed"):
        record_step(interview, steps[2].id, world["coordinator"])
    with pytest.raises(PipelineError, match="Say what was done"):
        undo_step(interview, progress.to_undo[0].id, world["coordinator"], "  ")

    for entry in progress.to_undo:
        undo_step(interview, entry.id, world["coordinator"], "Deleted from the drive.")
    progress = interview_progress(interview, world["study"])
    assert progress.to_undo == []
    assert [(e.undone_by_id, e.undo_note) for e in progress.undone] == [
        (world["coordinator"].id, "Deleted from the drive.")
    ] * 2
    assert board_of(world["study"], world["coordinator"]).to_undo == []


def test_a_withdrawal_keeping_the_data_undoes_nothing(world):
    interview = make_interview(world, EASTER_THURSDAY)
    first = steps_of(world["study"])[0]
    record_step(interview, first.id, world["coordinator"])
    person = db.session.get(Participant, interview.participant_id)
    withdraw(person, world["coordinator"], data_handling=DataHandling.KEEP_ANONYMISED)
    progress = interview_progress(interview, world["study"])
    assert progress.to_undo == [] and not progress.must_destroy
    with pytest.raises(PipelineError, match="withdrawal asks"):
        undo_step(interview, progress.steps[0].entry.id, world["coordinator"], "x")


def test_coverage_counts_an_interview_once_the_chosen_step_is_done(world):
    """With "Transcript received" chosen, a held interview counts as interviewed at once but
    as achieved only once that step is done; the dashboard has both figures."""
    interview = make_interview(world, EASTER_THURSDAY)
    study = world["study"]
    steps = steps_of(study)
    before = coverage.dashboard(study).overall
    assert (before.achieved, before.interviewed) == (1, 1)

    specs = [StepSpec(s.id, s.name, s.due_working_days, s.position) for s in steps]
    save_steps(study, specs, "Transcript received", "Anonymised", world["coordinator"])
    waiting = coverage.dashboard(study).overall
    assert (waiting.achieved, waiting.interviewed, waiting.pipeline) == (0, 1, 1)
    assert waiting.cases.interviews == 1, "the response rate still counts the interview"

    for step in steps[:3]:
        record_step(interview, step.id, world["coordinator"])
    reached = coverage.dashboard(study).overall
    assert (reached.achieved, reached.interviewed) == (1, 1)


def test_step_counts_are_one_grouped_figure_per_step(world):
    one = make_interview(world, EASTER_THURSDAY)
    two = make_interview(world, EASTER_THURSDAY + dt.timedelta(days=1))
    steps = steps_of(world["study"])
    record_step(one, steps[0].id, world["coordinator"])
    record_step(one, steps[1].id, world["coordinator"])
    record_step(two, steps[0].id, world["coordinator"])
    held, counts = step_counts(world["study"])
    assert held == 2
    assert [(c.name, c.done) for c in counts][:3] == [
        ("Recording received", 2),
        ("Sent for transcription", 1),
        ("Transcript received", 0),
    ]
    assert counts[0].first_done_on == dt.date(2026, 4, 22)


def test_the_coordinator_edits_renames_reorders_adds_and_removes_steps(world):
    study = world["study"]
    steps = steps_of(study)
    specs = [StepSpec(s.id, s.name, s.due_working_days, s.position) for s in steps]
    specs[0].name = "Audio received"
    specs[4].remove = True  # "Checked"
    specs[1].position, specs[2].position = 3, 2
    specs.append(StepSpec(None, "Quotes approved", 25, 7))
    saved = save_steps(study, specs, None, "Anonymised", world["coordinator"])
    assert [(s.name, s.due_working_days) for s in saved] == [
        ("Audio received", 2),
        ("Transcript received", 10),
        ("Sent for transcription", 3),
        ("Anonymised", 15),
        ("Archived", 30),
        ("Quotes approved", 25),
    ]


def test_a_step_an_interview_has_done_cannot_be_removed_and_nothing_changes(world):
    interview = make_interview(world, EASTER_THURSDAY)
    steps = steps_of(world["study"])
    record_step(interview, steps[0].id, world["coordinator"])
    specs = [StepSpec(s.id, s.name, s.due_working_days, s.position) for s in steps]
    specs[0].remove = True
    specs[1].name = "Renamed"
    with pytest.raises(PipelineError, match="cannot be removed"):
        save_steps(world["study"], specs, None, None, world["coordinator"])
    assert [s.name for s in steps_of(world["study"])][:2] == [
        "Recording received",
        "Sent for transcription",
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda specs: setattr(specs[1], "name", specs[0].name.upper()), "same name"),
        (lambda specs: setattr(specs[1], "name", "  "), "Give every step a name"),
        (lambda specs: [setattr(s, "remove", True) for s in specs], "at least one step"),
    ],
)
def test_bad_step_lists_are_refused_with_a_reason(world, change, message):
    steps = steps_of(world["study"])
    specs = [StepSpec(s.id, s.name, s.due_working_days, s.position) for s in steps]
    change(specs)
    with pytest.raises(PipelineError, match=message):
        save_steps(world["study"], specs, None, None, world["coordinator"])


def test_the_upload_store_is_off_by_default(world):
    interview = make_interview(world, EASTER_THURSDAY)
    first = steps_of(world["study"])[0]
    with pytest.raises(PipelineError, match="upload store is off"):
        record_step(interview, first.id, world["coordinator"], upload=io.BytesIO(b"x"))


def test_the_upload_store_keeps_a_file_under_instance_with_its_checksum(world, app, tmp_path):
    app.config.update(PIPELINE_UPLOADS_ENABLED=True, PIPELINE_UPLOAD_MAX_BYTES=1000)
    app.instance_path, saved_instance = str(tmp_path), app.instance_path
    try:
        interview = make_interview(world, EASTER_THURSDAY)
        steps = steps_of(world["study"])
        body = b"RIFF fake audio" * 10
        entry = record_step(
            interview,
            steps[0].id,
            world["coordinator"],
            upload=io.BytesIO(body),
            upload_name="a.wav",
        )
        assert entry.checksum == hashlib.sha256(body).hexdigest()
        assert (entry.file_name, entry.stored_bytes) == ("a.wav", len(body))
        path = stored_path(entry)
        assert path.startswith(str(tmp_path / "pipeline-files"))
        with open(path, "rb") as kept:
            assert kept.read() == body

        with pytest.raises(PipelineError, match="larger than the upload limit"):
            record_step(
                interview, steps[1].id, world["coordinator"], upload=io.BytesIO(b"x" * 1001)
            )
        with pytest.raises(PipelineError, match="does not match"):
            record_step(
                interview,
                steps[1].id,
                world["coordinator"],
                upload=io.BytesIO(b"other"),
                checksum="0" * 64,
            )
        assert sorted(p.name for p in (tmp_path / "pipeline-files").iterdir()) == [
            entry.stored_name
        ], "refused uploads leave no file behind"
    finally:
        app.instance_path = saved_instance
        app.config.update(
            PIPELINE_UPLOADS_ENABLED=config.default("PIPELINE_UPLOADS_ENABLED"),
            PIPELINE_UPLOAD_MAX_BYTES=config.default("PIPELINE_UPLOAD_MAX_BYTES"),
        )


def test_erasing_a_participant_blanks_their_steps_notes_and_personal_file_names(world):
    """The dates and checksums stay (the work was done); notes, the person's name in a file
    name and the uploaded copy go."""
    interview = make_interview(world, EASTER_THURSDAY)
    person = db.session.get(Participant, interview.participant_id)
    name = person.name
    first = steps_of(world["study"])[0]
    record_step(
        interview,
        first.id,
        world["coordinator"],
        note=f"Called {name} back",
        file_name=f"{name} interview.wav",
        location="Team drive",
        checksum="c" * 64,
    )
    erase_personal_data(person, world["coordinator"])
    entry = db.session.query(PipelineEntry).one()
    assert (entry.note, entry.file_name, entry.location, entry.checksum) == (
        "",
        "[removed] interview.wav",
        "Team drive",
        "c" * 64,
    )
