"""The daily digest: each interviewer, once, after the digest hour, tomorrow's interviews."""

from __future__ import annotations

import datetime as dt

from fieldwork.reminders import digest, jobs
from tests.reminders.conftest import make_appointment, parsed

UTC = dt.UTC


def test_each_interviewer_gets_tomorrows_interviews_once_after_the_digest_hour(
    world, clock, smtp_server
):
    # Kathryn lives in New York (EDT in late March: UTC-4).
    tomorrow_ny = dt.datetime(2026, 3, 24, 14, 0, tzinfo=UTC)  # 10:00 EDT on Tuesday
    make_appointment(world, tomorrow_ny)
    make_appointment(world, tomorrow_ny + dt.timedelta(days=2))  # not tomorrow
    clock.move(dt.datetime(2026, 3, 23, 21, 0, tzinfo=UTC))  # 17:00 EDT: too early
    assert digest.send_daily_digests() == 0
    clock.move(dt.datetime(2026, 3, 23, 22, 30, tzinfo=UTC))  # 18:30 EDT
    assert digest.send_daily_digests() == 1
    assert digest.send_daily_digests() == 0, "a second run (or a restart) sends no second digest"
    jobs.sweep()
    [received] = [parsed(item) for item in smtp_server.messages]
    assert str(received["To"]) == "Kathryn Interviewer <kathryn@example.org>"
    assert "Tuesday 24 March 2026" in str(received["Subject"])
    text = received.get_body(("plain",)).get_content()
    assert "10:00 EDT (America/New_York)" in text
    assert "14:00 GMT (Europe/London)" in text  # the study's zone too
    assert text.count("P1-004") == 1
