"""The home page lists the pipeline steps due: overdue or due within five working days, and the
steps a withdrawal asks to undo; nothing when nothing is due."""

from __future__ import annotations

import datetime as dt

from fieldwork.core.time import UTC
from fieldwork.pipeline.recording import record_step
from fieldwork.pipeline.steps import steps_of
from tests.pipeline.conftest import make_interview


def test_the_home_page_lists_steps_due_and_overdue(world, client, auth):
    make_interview(world, dt.datetime(2026, 4, 2, 10, tzinfo=UTC), reference="P1-LATE")
    make_interview(world, dt.datetime(2026, 4, 21, 10, tzinfo=UTC), reference="P1-SOON")
    far = make_interview(world, dt.datetime(2026, 4, 21, 10, tzinfo=UTC), reference="P1-FAR")
    for step in steps_of(world["study"])[:2]:  # next: transcript, due 5 May
        record_step(far, step.id, world["coordinator"])
    auth.login(world["interviewer"])
    html = client.get("/").text
    assert "After the interview: due (2)" in html
    assert html.index("Recording received: P1-LATE") < html.index("Recording received: P1-SOON")
    assert "Overdue</strong>, was due Wed 8 Apr" in html
    assert "P1-FAR" not in html


def test_the_panel_is_left_out_when_nothing_is_due(world, client, auth):
    auth.login(world["coordinator"])
    assert "After the interview: due" not in client.get("/").text
