"""The home page's steps due are read with bounded queries, and they are the board's: the same
steps, due dates and total as placing every held interview would give, in any zone, while the
rows read stay near what the panel lists however many interviews are overdue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fieldwork.core.time import UTC
from fieldwork.extensions import db
from fieldwork.pipeline import due as due_module
from fieldwork.pipeline import workdays
from fieldwork.pipeline.board import board_of
from fieldwork.pipeline.due import DueItem, due_steps, to_undo
from fieldwork.pipeline.models import PipelineEntry
from fieldwork.pipeline.recording import record_step, undo_step
from fieldwork.pipeline.steps import StepSpec, save_steps, steps_of
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.models import DataHandling
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.models import AppointmentStatus
from tests.pipeline.conftest import NOW, make_interview


def _from_the_board(world, viewer) -> list[DueItem]:
    """Every step due within five working days, found by placing every held interview."""
    board = board_of(world["study"], viewer)
    horizon = workdays.add_working_days(board.today, 5)
    found = [
        DueItem(
            item.appointment.id,
            item.reference,
            item.current.step.name,
            item.current.due_on,
            item.current.is_overdue,
        )
        for column in board.columns
        for item in column.interviews
        if item.current and item.current.due_on and item.current.due_on <= horizon
    ]
    return sorted(found, key=lambda item: (item.due_on, item.reference))


def _in_zone(world, starts_at: dt.datetime, zone: str, **fields):
    interview = make_interview(world, starts_at, **fields)
    interview.timezone = zone
    db.session.commit()
    return interview


def test_the_steps_due_are_the_boards_in_every_zone_and_state(world):
    """Interviews held around the horizon's day boundaries in zones from UTC-11 to UTC+14, some
    with steps done, one of another interviewer, one whose participant asked for
    destruction, one with a step without a due date."""
    steps = steps_of(world["study"])
    save_steps(
        world["study"],
        [
            StepSpec(s.id, s.name, None if s.position == 3 else s.due_working_days, s.position)
            for s in steps
        ],
        None,
        None,
        world["coordinator"],
    )
    steps = steps_of(world["study"])
    zones = ("Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York")
    made = []
    for number in range(24):
        starts_at = NOW - dt.timedelta(days=number % 12, hours=5 * number)
        made.append(
            _in_zone(
                world,
                starts_at,
                zones[number % 4],
                reference=f"P-{number:02}",
                interviewer=world["other_interviewer"] if number % 7 == 0 else None,
            )
        )
    for number, interview in enumerate(made):
        for step in steps[: number % 4]:
            record_step(interview, step.id, world["coordinator"])
    withdraw(
        db.session.get_one(Participant, made[9].participant_id),
        world["coordinator"],
        data_handling=DataHandling.DESTROY,
    )

    for viewer in (world["coordinator"], world["interviewer"]):
        expected = _from_the_board(world, viewer)
        assert expected, "the world has steps due"
        for limit in (3, 8, 50):
            found = due_steps(world["study"], viewer, limit)
            assert found.items == expected[:limit]
            assert found.total == len(expected)


def test_a_withdrawal_asking_for_destruction_lists_the_interview_to_undo_not_due(world):
    kept = make_interview(world, dt.datetime(2026, 4, 2, 10, tzinfo=UTC), reference="P-KEPT")
    gone = make_interview(world, dt.datetime(2026, 4, 3, 10, tzinfo=UTC), reference="P-GONE")
    first = steps_of(world["study"])[0]
    for interview in (kept, gone):
        record_step(interview, first.id, world["coordinator"])
    withdraw(
        db.session.get_one(Participant, gone.participant_id),
        world["coordinator"],
        data_handling=DataHandling.DESTROY,
    )

    assert [item.reference for item in to_undo(world["study"], world["coordinator"])] == ["P-GONE"]
    assert [item.reference for item in due_steps(world["study"], None, 8).items] == ["P-KEPT"]
    entry = db.session.scalars(select(PipelineEntry).filter_by(appointment_id=gone.id)).one()
    undo_step(gone, entry.id, world["coordinator"], "Deleted from the drive.")
    assert to_undo(world["study"], world["coordinator"]) == []


def test_the_rows_read_stay_near_the_rows_listed_however_many_are_overdue(world, monkeypatch):
    """Overdue interviews, one a working day: listing eight reads the eight oldest to find the
    due date to stop at, then those due by it and the next day's (a zone may put an interview a
    day earlier, so its local date is checked): 17 rows, whether 30 or 60 are overdue."""
    read = []
    rows = due_module._rows
    monkeypatch.setattr(
        due_module, "_rows", lambda statement: read.append(rows(statement)) or read[-1]
    )
    day = dt.datetime(2026, 1, 5, 10, tzinfo=UTC)  # a Monday
    made = 0
    for total in (30, 60):
        while made < total:
            if workdays.is_working_day(day.date()):
                make_interview(world, day, reference=f"P-{made:03}")
                made += 1
            day -= dt.timedelta(days=1)
        read.clear()
        found = due_steps(world["study"], world["coordinator"], 8)
        assert found.total == total
        assert len(found.items) == 8
        assert all(item.is_overdue for item in found.items)
        assert sum(len(batch) for batch in read) == 2 * 8 + 1


def test_interviews_not_held_are_never_due(world):
    make_interview(
        world, dt.datetime(2026, 4, 2, 10, tzinfo=UTC), status=AppointmentStatus.CANCELLED
    )
    assert due_steps(world["study"], None, 8).total == 0
