"""Faults met by a real `flask --app app scheduler` process: SIGTERM during a hostile busy
calendar stops it within seconds (and /healthz says "down" at once); a mail server that takes
messages and never answers leaves each one interrupted and visible, sent once, never resent
blindly; "Send again" then delivers each once more with its own Message-ID."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders import health, jobs
from fieldwork.scheduling.models import BusyCalendar
from tests.reminders.test_processes import (
    SchedulerProcesses,
    _database_url,
    _due_reminders,
    _wait_for,
)
from tests.smtp_server import SilentSMTPServer


@pytest.fixture
def processes(app, database_config, smtp_server, tmp_path):
    running = SchedulerProcesses(_database_url(database_config), smtp_server, tmp_path)
    yield running
    running.stop_all()


#: Cheap by the rule's step estimate, yet the expansion searches for hours that never come.
SLOW_CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\nUID:x@x\r\n"
    "DTSTAMP:20260101T000000Z\r\nDTSTART:20261201T000000Z\r\nDTEND:20261201T000001Z\r\n"
    "RRULE:FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_sigterm_during_a_hostile_calendar_stops_the_scheduler_within_seconds(
    world, processes, monkeypatch
):
    db.session.add(
        BusyCalendar(
            interviewer_id=world["kathryn"].id,
            name="Slow",
            url="",
            uploaded_content=SLOW_CALENDAR,
        )
    )
    db.session.commit()
    monkeypatch.setenv("SCHEDULER_BUSY_REFRESH_SECONDS", "0.5")
    process = processes.start()
    assert _wait_for(lambda: "took the lock" in processes.output(process), timeout=20)
    time.sleep(2)  # the refresh job is now expanding the calendar
    db.session.expire_all()
    assert health.scheduler_health()["alive"] is True
    db.session.commit()
    sent_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    assert time.monotonic() - sent_at < 8, processes.output(process)
    db.session.expire_all()
    report = health.scheduler_health()
    assert report["alive"] is False and report["last_heartbeat"] is None


def test_a_silent_mail_server_leaves_each_message_interrupted_once_then_send_again(
    world, database_config, smtp_server, tmp_path, monkeypatch
):
    reminders = _due_reminders(world, 2)
    monkeypatch.setenv("SMTP_DATA_TIMEOUT", "1")
    with SilentSMTPServer(answer_data=False) as silent:
        silent_processes = SchedulerProcesses(_database_url(database_config), silent, tmp_path)
        try:
            process = silent_processes.start()

            def all_interrupted() -> bool:
                db.session.expire_all()
                rows = db.session.scalars(select(OutboxMessage)).all()
                db.session.commit()
                return len(rows) == len(reminders) and all(outbox.is_interrupted(r) for r in rows)

            assert _wait_for(all_interrupted, timeout=30), silent_processes.output(process)
            time.sleep(1.5)  # more sweeps: nothing is resent by itself
            assert silent.data_received == len(reminders)
        finally:
            silent_processes.stop_all()
    report = health.scheduler_health()
    assert report["interrupted_messages"] == len(reminders)

    # A coordinator sends them again (same Message-ID) to a server that answers.
    for row in db.session.scalars(select(OutboxMessage)).all():
        assert row.state == OutboxState.SENDING
        outbox.retry(row.id)
    jobs.sweep()
    counts = Counter(message.message["Message-ID"] for message in smtp_server.messages)
    assert set(counts) == {r.message_id for r in reminders}, "nothing lost"
    assert max(counts.values()) == 1, "nothing doubled"
