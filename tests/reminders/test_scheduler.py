"""One scheduler per installation: the lock keeps a second one idle; the heartbeat shows
which one runs; /healthz's scheduler figures."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from fieldwork.extensions import db
from fieldwork.reminders import health, services
from fieldwork.reminders import scheduler as scheduling_process
from fieldwork.reminders.models import Reminder, SchedulerHeartbeat
from fieldwork.reminders.scheduler import ReminderScheduler, start_in_process_scheduler
from tests.reminders.conftest import NOW, make_appointment


def _wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.fixture
def fast(app):
    saved = {key: app.config.get(key) for key in scheduling_process.SETTING_NAMES}
    app.config.update(
        SCHEDULER_SWEEP_SECONDS=0.2,
        SCHEDULER_HEARTBEAT_SECONDS=0.2,
        SCHEDULER_LOCK_RETRY_SECONDS=0.2,
    )
    yield app
    app.config.update(saved)


def _heartbeat():
    db.session.expire_all()
    row = db.session.get(SchedulerHeartbeat, health.HEARTBEAT_ID)
    db.session.commit()
    return row


def test_a_second_scheduler_stays_idle_while_the_first_holds_the_lock(fast, caplog):
    first = ReminderScheduler(fast).start()
    second = ReminderScheduler(fast)
    try:
        with caplog.at_level("WARNING", logger="fieldwork.reminders.scheduler"):
            second.start()
        assert first.is_active
        assert not second.is_active
        assert "stays idle" in caplog.text
        assert second.scheduler.get_job(ReminderScheduler.SWEEP) is None
        assert second.scheduler.get_job(ReminderScheduler.LOCK_RETRY) is not None
        beat = _wait_for(_heartbeat)
        assert beat.holder == first.holder

        # When the first stops, the second takes over at its next try.
        first.shutdown()
        _wait_for(lambda: second.is_active, timeout=5)
        assert second.scheduler.get_job(ReminderScheduler.SWEEP) is not None
        _wait_for(lambda: (_heartbeat() or SchedulerHeartbeat(holder="")).holder == second.holder)
    finally:
        first.shutdown()
        second.shutdown()


def test_the_running_scheduler_sends_due_reminders_by_itself(fast, world, clock, smtp_server):
    appointment = make_appointment(world, NOW + dt.timedelta(hours=3))
    services.plan_reminders(appointment)
    db.session.commit()
    clock.move(NOW + dt.timedelta(hours=1, seconds=1))
    running = ReminderScheduler(fast).start()
    try:
        _wait_for(lambda: len(smtp_server.messages) == 2)
    finally:
        running.shutdown()
    assert len(smtp_server.messages) == 2


def test_a_commit_that_queues_mail_wakes_the_in_process_scheduler_at_once(fast, world, smtp_server):
    """With the periodic sweep a minute away, a committed message still goes out within a
    second or two: the commit wakes the running scheduler's sweep (no request sends mail)."""
    from email.message import EmailMessage

    from fieldwork.outbox import services as outbox

    fast.config["SCHEDULER_SWEEP_SECONDS"] = 60
    running = ReminderScheduler(fast).start()
    try:
        _wait_for(lambda: running.is_active and _heartbeat() is not None)
        time.sleep(0.5)  # the first sweep (at start) is over
        message = EmailMessage()
        message["From"] = "team@example.org"
        message["To"] = "bob@example.org"
        message["Subject"] = "Woken"
        message.set_content("hello")
        started = time.monotonic()
        outbox.enqueue(message, kind="other", study_id=None)
        db.session.commit()
        assert time.monotonic() - started < 0.5  # the commit itself sends nothing
        _wait_for(lambda: len(smtp_server.messages) == 1, timeout=3)
    finally:
        running.shutdown()


def test_a_clean_stop_removes_the_heartbeat_so_health_says_down_at_once(fast):
    running = ReminderScheduler(fast).start()
    try:
        _wait_for(_heartbeat)
        assert health.scheduler_health()["alive"] is True
    finally:
        assert running.shutdown() is True
    assert _heartbeat() is None
    assert health.scheduler_health()["alive"] is False


def test_healthz_figures_report_the_heartbeat_and_overdue_messages(
    app, world, clock, count_queries
):
    with count_queries() as counter:
        figures = health.scheduler_health()
    assert counter.count <= 2
    assert figures["alive"] is False and figures["last_heartbeat"] is None
    assert figures["overdue_messages"] == 0

    health.beat("abc", "host-1", 4242, NOW)
    appointment = make_appointment(world, NOW + dt.timedelta(hours=3))
    services.plan_reminders(appointment)
    db.session.commit()
    clock.move(NOW + dt.timedelta(hours=1, minutes=6))  # 6 minutes past due, no scheduler
    with count_queries() as counter:
        figures = health.scheduler_health()
    assert counter.count <= 2
    assert figures["holder"] == "host-1:4242"
    assert figures["seconds_since_heartbeat"] == pytest.approx(66 * 60)
    assert figures["alive"] is False
    assert figures["overdue_reminders"] == 2
    assert figures["overdue_messages"] == 2

    health.beat("abc", "host-1", 4242, NOW)
    clock.advance(seconds=app.config["SCHEDULER_HEARTBEAT_SECONDS"] - 1)
    assert health.scheduler_health()["alive"] is True
    clock.advance(seconds=2)  # one heartbeat interval without a beat: down
    assert health.scheduler_health()["alive"] is False
    health.beat("abc", "host-1", 4242, NOW)
    health.clear_heartbeat("someone-else")
    assert health.scheduler_health()["last_heartbeat"] is not None
    health.clear_heartbeat("abc")  # a clean stop: down at once
    assert health.scheduler_health()["alive"] is False
    assert db.session.query(Reminder).count() == 2


def test_the_in_process_scheduler_does_not_start_in_tests_or_in_the_reloader_watcher(
    app, monkeypatch
):
    assert start_in_process_scheduler(app) is None  # app.testing
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert start_in_process_scheduler(app, use_reloader=True) is None
    monkeypatch.setitem(app.config, "SCHEDULER_IN_PROCESS", False)
    assert start_in_process_scheduler(app, use_reloader=False) is None
    monkeypatch.setitem(app.config, "SCHEDULER_IN_PROCESS", True)
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert start_in_process_scheduler(app, use_reloader=False) is None


def test_the_in_process_scheduler_starts_in_the_reloader_child(app, monkeypatch):
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    running = start_in_process_scheduler(app, use_reloader=True)
    try:
        assert running is not None and running.is_active
        assert running.pid == os.getpid()
    finally:
        running.shutdown()
