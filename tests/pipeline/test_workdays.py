"""Working days for the pipeline's due dates: weekends and bank holidays of England and Wales
are skipped (the `holidays` package), another region can be configured."""

from __future__ import annotations

import datetime as dt

from fieldwork.pipeline import workdays
from fieldwork.pipeline.models import PipelineStep
from fieldwork.pipeline.steps import due_on

D = dt.date


def test_a_working_day_after_a_friday_is_the_monday():
    assert workdays.add_working_days(D(2026, 3, 20), 1) == D(2026, 3, 23)


def test_the_start_day_is_day_zero_even_on_a_weekend():
    assert workdays.add_working_days(D(2026, 3, 21), 0) == D(2026, 3, 21)
    assert workdays.add_working_days(D(2026, 3, 21), 1) == D(2026, 3, 23)


def test_easter_good_friday_and_easter_monday_are_skipped():
    """Thursday 2 April 2026: Good Friday (3rd) and Easter Monday (6th) are bank holidays."""
    assert workdays.add_working_days(D(2026, 4, 2), 1) == D(2026, 4, 7)
    assert not workdays.is_working_day(D(2026, 4, 3))
    assert not workdays.is_working_day(D(2026, 4, 6))


def test_christmas_boxing_day_observed_and_new_year_are_skipped():
    """24 Dec 2026 is a Thursday; 25 (Fri), 28 (Boxing Day observed, Mon) and 1 Jan 2027 are
    bank holidays: ten working days after Friday 18 December is Wednesday 6 January 2027."""
    assert workdays.add_working_days(D(2026, 12, 24), 1) == D(2026, 12, 29)
    assert workdays.add_working_days(D(2026, 12, 18), 10) == D(2027, 1, 6)


def test_a_transcript_due_ten_working_days_after_an_interview_before_easter():
    """Interview Thursday 2 April 2026: the 10 working days are 7-10, 13-17 and 20 April."""
    step = PipelineStep(name="Transcript received", due_working_days=10, position=3)
    assert due_on(D(2026, 4, 2), step) == D(2026, 4, 20)


def test_a_step_without_due_days_has_no_due_date():
    step = PipelineStep(name="Checked", due_working_days=None, position=5)
    assert due_on(D(2026, 4, 2), step) is None


def test_working_days_between_counts_after_the_start_up_to_the_end():
    assert workdays.working_days_between(D(2026, 4, 2), D(2026, 4, 20)) == 10
    assert workdays.working_days_between(D(2026, 4, 20), D(2026, 4, 2)) == -10


def test_scotland_can_be_configured_and_has_its_own_bank_holidays(app, monkeypatch):
    """2 January is a bank holiday in Scotland, not in England and Wales."""
    assert workdays.is_working_day(D(2026, 1, 2))
    monkeypatch.setitem(app.config, "BANK_HOLIDAYS_SUBDIVISION", "SCT")
    assert not workdays.is_working_day(D(2026, 1, 2))
