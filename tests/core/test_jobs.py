"""Periodic jobs: each domain registers its own; the one scheduler runs what is registered."""

from __future__ import annotations

import threading

from flask import Flask

from fieldwork.core.jobs import register_job, registered_jobs
from fieldwork.reminders.scheduler import ReminderScheduler


class _HeldLock:
    """A scheduler lock that is always ours (the lock itself is tested in tests/reminders)."""

    def acquire(self) -> bool:
        return True

    def is_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def test_each_domain_registers_its_own_jobs(app: Flask):
    """The scheduler knows no job by name: the API's key sweep, reminders, scheduling, reports
    (and replies, once a mailbox is configured) put theirs in the registry from their
    init_app."""
    app.config["IMAP_HOST"] = ""
    assert [job.name for job in registered_jobs(app)] == [
        "idempotency-sweep",
        "booking-notices",
        "busy-calendars",
        "reminders-sweep",
        "daily-digest",
        "weekly-report",
    ]
    app.config["IMAP_HOST"] = "imap.example.org"
    try:
        assert "calendar-replies" in [job.name for job in registered_jobs(app)]
    finally:
        app.config["IMAP_HOST"] = ""


def test_the_busy_calendar_job_is_schedulings_refresh_and_can_be_stopped(app: Flask):
    from fieldwork.scheduling.busy import refresh_busy_calendars

    [job] = [job for job in registered_jobs(app) if job.name == "busy-calendars"]
    assert job.run is refresh_busy_calendars
    assert job.is_stoppable and job.every == "SCHEDULER_BUSY_REFRESH_SECONDS"


def test_a_registered_job_runs_at_its_settings_interval(app: Flask):
    """A job registered like any domain's is scheduled by the scheduler at the interval its
    setting names, runs in an app context, and a second registration replaces the first."""
    ran = threading.Event()
    app.config["TEST_JOB_SECONDS"] = 3600.0
    register_job(app, "test-job", lambda: None, every="TEST_JOB_SECONDS")
    register_job(app, "test-job", ran.set, every="TEST_JOB_SECONDS", run_at_start=True)
    scheduler = ReminderScheduler(app, _HeldLock()).start()
    try:
        job = scheduler.scheduler.get_job("test-job")
        assert job is not None and job.trigger.interval.total_seconds() == 3600
        assert ran.wait(5), "a job registered to run at start ran"
    finally:
        scheduler.shutdown(wait=True)
        del app.extensions["fieldwork.jobs"]["test-job"]
