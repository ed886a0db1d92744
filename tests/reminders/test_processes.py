"""Real scheduler processes (`flask --app app scheduler`) against the test database and a
real SMTP server: two at once send each reminder once; SIGKILL and a restart lose nothing and
double nothing. Each test is bounded (about 30 seconds at most)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select, update

from fieldwork.core.time import now_utc, set_clock
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders import services
from fieldwork.reminders.models import Reminder, ReminderState
from tests.conftest import TEST_DATABASE_URL
from tests.reminders.conftest import make_appointment, message_ids

PROJECT = Path(__file__).resolve().parents[2]


def _database_url(database_config: dict) -> str:
    url = database_config["SQLALCHEMY_DATABASE_URI"]
    options = database_config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {})
    if "options" in options:  # PostgreSQL: this run's own schema
        return f"{url}?options={quote(options['options'], safe='')}"
    return url


class SchedulerProcesses:
    def __init__(self, database_url: str, smtp, tmp_path: Path):
        self.database_url, self.smtp, self.tmp_path = database_url, smtp, tmp_path
        self.processes: list[subprocess.Popen] = []
        self.app_argument = "app"

    def start(self, lock_name: str = "scheduler") -> subprocess.Popen:
        env = {
            # No daily digest unless a test asks for one: at some hours of the real clock an
            # interviewer's evening has come and the test's appointments are their tomorrow,
            # and a digest would be one message more than the test counts (no local hour
            # reaches 24).
            "REMINDER_DIGEST_HOUR": "24",
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SMTP_HOST": self.smtp.host,
            "SMTP_PORT": str(self.smtp.port),
            "SMTP_USE_TLS": "false",
            "SCHEDULER_SWEEP_SECONDS": "0.5",
            "SCHEDULER_HEARTBEAT_SECONDS": "1",
            "SCHEDULER_LOCK_RETRY_SECONDS": "1",
            "SCHEDULER_LOCK_NAME": lock_name,
            "PYTHONUNBUFFERED": "1",
            # A command other than `flask run` is production unless told otherwise.
            "FIELDWORK_ENV": "development",
        }
        env.pop("WERKZEUG_RUN_MAIN", None)
        log_path = self.tmp_path / f"scheduler-{len(self.processes)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", self.app_argument, "scheduler"],
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process.log_path = log_path
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)

    @staticmethod
    def output(process) -> str:
        return Path(process.log_path).read_text(errors="replace")


@pytest.fixture
def schedulers(app, database_config, smtp_server, tmp_path):
    running = SchedulerProcesses(_database_url(database_config), smtp_server, tmp_path)
    yield running
    running.stop_all()


def _due_reminders(world, appointments: int) -> list[Reminder]:
    """2 reminders (interviewer, participant) per appointment, due a second ago (real time:
    the processes run on the real clock)."""
    set_clock(None)
    now = now_utc()
    created = []
    for number in range(appointments):
        appointment = make_appointment(
            world, now + dt.timedelta(hours=3, minutes=number), commit=False
        )
        created += services.plan_reminders(appointment)
    db.session.execute(update(Reminder).values(due_at=now - dt.timedelta(seconds=1)))
    db.session.commit()
    return created


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
def test_two_scheduler_processes_on_one_postgresql_database_send_each_reminder_once(
    world, schedulers, smtp_server
):
    """The lock is defeated on purpose (two lock names): both sweep at once, and the claims
    alone keep every reminder to one message."""
    reminders = _due_reminders(world, 30)
    first = schedulers.start(lock_name="scheduler-a")
    second = schedulers.start(lock_name="scheduler-b")
    assert _wait_for(lambda: len(smtp_server.messages) >= len(reminders), timeout=25), (
        schedulers.output(first) + schedulers.output(second)
    )
    time.sleep(1.5)  # room for a duplicate to show up, if there were one
    schedulers.stop_all()
    counts = Counter(message_ids(smtp_server))
    assert set(counts) == {r.message_id for r in reminders}
    assert max(counts.values()) == 1
    assert "took the lock" in schedulers.output(first)
    assert "took the lock" in schedulers.output(second)


def test_a_second_scheduler_process_stays_idle(world, schedulers, smtp_server):
    first = schedulers.start()
    assert _wait_for(lambda: "took the lock" in schedulers.output(first), timeout=15)
    second = schedulers.start()
    assert _wait_for(lambda: "stays idle" in schedulers.output(second), timeout=15), (
        schedulers.output(second)
    )
    assert "took the lock" not in schedulers.output(second)
    # SIGTERM stops the first cleanly; the second takes over within its retry interval.
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=10) == 0
    assert _wait_for(lambda: "took the lock" in schedulers.output(second), timeout=10), (
        schedulers.output(second)
    )


def test_sigkill_and_restart_lose_nothing_and_double_nothing(world, schedulers, smtp_server):
    reminders = _due_reminders(world, 40)
    first = schedulers.start()
    assert _wait_for(lambda: len(smtp_server.messages) >= 5, timeout=20), schedulers.output(first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    schedulers.start()

    def settled() -> bool:
        db.session.expire_all()
        states = db.session.scalars(select(Reminder.state)).all()
        db.session.commit()
        interrupted = _interrupted_ids()
        return all(s == ReminderState.SENT for s in states) or (
            len(smtp_server.messages) + len(interrupted) >= len(reminders)
        )

    assert _wait_for(settled, timeout=25)
    time.sleep(1)
    schedulers.stop_all()
    counts = Counter(message_ids(smtp_server))
    assert max(counts.values()) == 1, "nothing doubled"
    # A message cut off between the server's acceptance and the database's record is not
    # resent blindly: it is flagged (interrupted) for a person to decide.
    flagged = {
        row.message_id
        for row in db.session.scalars(select(OutboxMessage))
        if row.state == OutboxState.SENDING
    }
    assert set(counts) | flagged == {r.message_id for r in reminders}, "nothing lost"


def _interrupted_ids() -> set[int]:
    """Messages left 'sending' by the killed process (claimed, never confirmed)."""
    return {
        row.id
        for row in db.session.scalars(select(OutboxMessage))
        if row.state == OutboxState.SENDING
    }
