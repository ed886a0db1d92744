"""`flask import-frame FILE.csv [--study SLUG]`: a summary on success; on problems every one on
stderr, a non-zero exit code and nothing imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.sampling.models import OrganisationKind, Participant
from tests.factories import make_frame, make_role, make_study
from tests.sampling.test_importing import frame_file, person


@pytest.fixture
def frame(app):
    frame = make_frame(make_study(slug="pathways"))
    make_role(frame["study"], "Sub-contractor manager", OrganisationKind.SUBCONTRACTOR)
    return frame


def write(tmp_path: Path, text: str, name: str = "frame.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def participants() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Participant))


GOOD = frame_file(
    person(),
    person(
        name="Wei Thomas",
        email="wei@example.org",
        role="Sub-contractor manager",
        organisation="Step Forward Trust",
        organisation_kind="subcontractor",
        lead_provider="Acme Employment",
        district="South",
        phase="2",
    ),
)


def test_a_good_file_imports_and_prints_a_summary(runner, frame, tmp_path):
    result = runner.invoke(args=["import-frame", write(tmp_path, GOOD)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 participants into pathways (2 new, 0 updated)" in result.stdout
    assert "1 new organisations" in result.stdout
    assert participants() == 2


def test_importing_the_same_file_again_updates_instead_of_duplicating(runner, frame, tmp_path):
    path = write(tmp_path, GOOD)
    runner.invoke(args=["import-frame", path])
    result = runner.invoke(args=["import-frame", path])
    assert result.exit_code == 0, result.output
    assert "(0 new, 2 updated)" in result.stdout
    assert participants() == 2


def test_problems_go_to_stderr_as_line_and_column_and_nothing_is_imported(runner, frame, tmp_path):
    text = frame_file(
        person(),
        person(name="B", email="b@", phase="9"),
        person(name="C", email="c@example.org", role="Nope"),
    )
    result = runner.invoke(args=["import-frame", write(tmp_path, text)])
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert "line 3, column email: " in lines[0]
    assert lines[1].startswith("line 3, column phase: ")
    assert lines[2].startswith("line 4, column role: ")
    assert "3 problems; nothing was imported." in result.stderr
    assert result.stdout == ""
    assert participants() == 0


def test_a_missing_column_is_one_file_level_problem(runner, frame, tmp_path):
    result = runner.invoke(args=["import-frame", write(tmp_path, "name,role\nA,B\n")])
    assert result.exit_code != 0
    assert (
        "line 1: The header row lacks the required columns: organisation, district, phase."
        in result.stderr
    )


def test_a_file_that_is_not_utf8_is_refused(runner, frame, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(frame_file(person(name="Zoë")).encode("latin-1"))
    result = runner.invoke(args=["import-frame", str(path)])
    assert result.exit_code != 0
    assert "line 2: The file is not UTF-8 text" in result.stderr


def test_dry_run_checks_without_importing(runner, frame, tmp_path):
    result = runner.invoke(args=["import-frame", write(tmp_path, GOOD), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 new and 0 updated participants" in result.stdout
    assert participants() == 0


def test_study_is_chosen_by_slug_when_there_are_several(runner, frame, tmp_path):
    make_study(slug="other-study")
    path = write(tmp_path, GOOD)

    result = runner.invoke(args=["import-frame", path])
    assert result.exit_code != 0
    assert "choose one with --study" in result.stderr
    assert "other-study" in result.stderr and "pathways" in result.stderr

    result = runner.invoke(args=["import-frame", path, "--study", "nope"])
    assert result.exit_code != 0
    assert "There is no study 'nope'" in result.stderr

    result = runner.invoke(args=["import-frame", path, "--study", "pathways"])
    assert result.exit_code == 0, result.output
    assert participants() == 2


def test_without_any_study_the_command_says_so(runner, app, tmp_path):
    result = runner.invoke(args=["import-frame", write(tmp_path, GOOD)])
    assert result.exit_code != 0
    assert "There is no study yet" in result.stderr


def test_a_missing_file_is_a_usage_error(runner, frame, tmp_path):
    result = runner.invoke(args=["import-frame", str(tmp_path / "absent.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
