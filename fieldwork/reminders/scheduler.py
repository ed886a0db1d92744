"""The one scheduler of an installation: APScheduler 3 running the periodic jobs.

APScheduler holds no state that matters: its jobs live in a MemoryJobStore (a job store
cannot be shared between processes, and every process that starts a scheduler runs every job),
and the reminders are rows in the database. What keeps it to one per installation is a lock
taken before any job is added:

* PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a connection
  kept open for the scheduler's life; the server frees it when the process dies.
* SQLite: an exclusive `fcntl.flock` on a file next to the database file; the kernel frees it
  when the process dies.

A scheduler that cannot take the lock stays idle, says so in the log, and tries again every
minute, so it takes over when the other one stops. Even two active schedulers (a lock
defeated somehow) would not send a reminder twice: the sweeps claim rows in the database.

Web requests never send mail: a commit that queued a message wakes the sweep at once
(`wake`, subscribed to fieldwork.outbox.wakeup) when the scheduler runs in the same process;
a scheduler process of its own sweeps every SCHEDULER_SWEEP_SECONDS (5 by default).

Stopping: `shutdown` tells the running jobs to stop between two messages or calendars, waits
SCHEDULER_STOP_GRACE_SECONDS for them, removes the heartbeat (so /healthz says "down" at once)
and frees the lock.
"""

from __future__ import annotations

import atexit
import datetime as dt
import fcntl
import logging
import os
import signal
import socket
import sys
import threading
import uuid
import zlib
from typing import IO, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

from fieldwork.core.time import now_utc
from fieldwork.extensions import db

log = logging.getLogger(__name__)

#: The settings a scheduler reads (fieldwork/config.py declares them), taken once at start.
SETTING_NAMES = (
    "SCHEDULER_SWEEP_SECONDS",
    "SCHEDULER_HEARTBEAT_SECONDS",
    "SCHEDULER_STOP_GRACE_SECONDS",
    "SCHEDULER_LOCK_RETRY_SECONDS",
    "SCHEDULER_DIGEST_SECONDS",
    "SCHEDULER_BUSY_REFRESH_SECONDS",
    "SCHEDULER_WEEKLY_REPORT_SECONDS",
    "SCHEDULER_MISFIRE_GRACE_SECONDS",
    "IMAP_POLL_SECONDS",
)


class SchedulerLock(Protocol):
    def acquire(self) -> bool: ...
    def is_held(self) -> bool: ...
    def release(self) -> None: ...


class FileLock:
    """An exclusive, non-blocking flock on a file (per open file, so also within a process)."""

    def __init__(self, path: str):
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+")  # noqa: SIM115 - held open while the lock is held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{socket.gethostname()} {os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def is_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None


class PostgresAdvisoryLock:
    """A session-level advisory lock on a connection of its own, kept for the lock's life.

    The key is derived from the schema, so installations sharing a database in separate
    schemas (as the tests do) do not block each other.
    """

    def __init__(self, engine: Engine, name: str = "scheduler"):
        self.engine = engine
        self.name = name
        self._connection: Connection | None = None
        self.key: int | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        try:
            schema = connection.execute(text("SELECT current_schema()")).scalar() or "public"
            self.key = zlib.crc32(f"fieldwork-{self.name}:{schema}".encode())
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
            connection.commit()  # the lock is the session's; no transaction stays open
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def is_held(self) -> bool:
        """True while the lock's connection still answers (a lost connection lost the lock)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            self._forget()
            return False
        return True

    def _forget(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:  # already broken; dropping it is all that is left to do
                log.debug("scheduler: closing a broken lock connection failed", exc_info=True)
            self._connection = None

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._connection.commit()
            self._connection.close()
        except Exception:  # noqa: BLE001 - closing the connection frees it anyway
            self._forget()
        self._connection = None


def lock_path(app: Flask) -> str:
    """The SQLite lock file: beside the database file (in instance/ by default)."""
    name = app.config["SCHEDULER_LOCK_NAME"]
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return f"{os.path.abspath(database)}.{name}.lock"
    return os.path.join(app.instance_path, f"{name}.lock")


def lock_for(app: Flask) -> SchedulerLock:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine, app.config["SCHEDULER_LOCK_NAME"])
    return FileLock(lock_path(app))


class ReminderScheduler:
    """APScheduler's BackgroundScheduler with the lock, the jobs, and the idle retry."""

    SWEEP, HEARTBEAT, DIGEST, BUSY, LOCK_RETRY, MAILBOX, WEEKLY_REPORT = (
        "reminders-sweep",
        "heartbeat",
        "daily-digest",
        "busy-calendars",
        "lock-retry",
        "calendar-replies",
        "weekly-report",
    )

    def __init__(self, app: Flask, lock: SchedulerLock | None = None):
        self.app = app
        self.config = {key: app.config[key] for key in SETTING_NAMES}
        self.lock = lock or lock_for(app)
        self.holder = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at: dt.datetime | None = None
        self._guard = threading.Lock()
        #: Set when the scheduler is stopping; long jobs look at it between items.
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._sweep_guard = threading.Lock()
        self._sweeping = False
        self._sweep_thread: int | None = None
        self._running_jobs = 0
        self._jobs_done = threading.Condition()
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=3)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.config["SCHEDULER_MISFIRE_GRACE_SECONDS"]),
            },
            timezone=dt.UTC,
        )

    @property
    def is_active(self) -> bool:
        return self.started_at is not None

    def start(self) -> ReminderScheduler:
        from fieldwork.outbox import wakeup

        self.scheduler.start()
        wakeup.subscribe(self.wake)
        if not self._activate():
            log.warning(
                "scheduler: another scheduler holds the lock; this one stays idle and tries "
                "again every %s s",
                self.config["SCHEDULER_LOCK_RETRY_SECONDS"],
            )
            self.scheduler.add_job(
                self._retry_lock,
                "interval",
                seconds=float(self.config["SCHEDULER_LOCK_RETRY_SECONDS"]),
                id=self.LOCK_RETRY,
            )
        return self

    def _activate(self) -> bool:
        with self._guard:
            if self.is_active:
                return True
            try:
                acquired = self.lock.acquire()
            except Exception:
                log.exception("scheduler: could not try the lock")
                return False
            if not acquired:
                return False
            self.started_at = now_utc()
            log.info("scheduler: took the lock (%s pid %s); running the jobs", self.host, self.pid)
            now = dt.datetime.now(dt.UTC)
            self._add(self.SWEEP, self._job(self._sweep), "SCHEDULER_SWEEP_SECONDS", now)
            self.scheduler.add_job(
                self._job(self._heartbeat),
                "interval",
                seconds=float(self.config["SCHEDULER_HEARTBEAT_SECONDS"]) / 2,
                id=self.HEARTBEAT,
                replace_existing=True,
                next_run_time=now,
            )
            self._add(self.DIGEST, self._job(self._digest), "SCHEDULER_DIGEST_SECONDS", now)
            self._add(self.BUSY, self._job(self._busy), "SCHEDULER_BUSY_REFRESH_SECONDS", None)
            if self.app.config["IMAP_HOST"]:
                self._add(self.MAILBOX, self._job(self._mailbox), "IMAP_POLL_SECONDS", None)
            self._add(
                self.WEEKLY_REPORT,
                self._job(self._weekly_report),
                "SCHEDULER_WEEKLY_REPORT_SECONDS",
                None,
            )
            return True

    def _add(self, job_id: str, function, setting: str, first: dt.datetime | None) -> None:
        options = {"next_run_time": first} if first is not None else {}
        self.scheduler.add_job(
            function,
            "interval",
            seconds=float(self.config[setting]),
            id=job_id,
            replace_existing=True,
            **options,
        )

    def _retry_lock(self) -> None:
        if self._activate():
            self.scheduler.remove_job(self.LOCK_RETRY)

    def _job(self, function):
        """Run a job in an app context of its own; a failure is logged, never raised into
        APScheduler (the next run tries again)."""

        def run() -> None:
            if self.stopping.is_set():
                return
            with self._jobs_done:
                self._running_jobs += 1
            try:
                with self.app.app_context():
                    try:
                        function()
                    except Exception:
                        db.session.rollback()
                        log.exception("scheduler: job %s failed", function.__name__)
                    finally:
                        db.session.remove()
            finally:
                with self._jobs_done:
                    self._running_jobs -= 1
                    self._jobs_done.notify_all()

        run.__name__ = function.__name__
        return run

    def wake(self) -> None:
        """Sweep now: a commit queued messages. Returns at once (called from the request)."""
        if threading.get_ident() == self._sweep_thread:
            return  # the sweep's own commits; it sends what it queued anyway
        with self._sweep_guard:
            self._wake.set()
            if self._sweeping or not self.is_active or self.stopping.is_set():
                return  # a running sweep goes round once more
        job = self.scheduler.get_job(self.SWEEP)
        if job is not None:
            job.modify(next_run_time=dt.datetime.now(dt.UTC))

    def _sweep(self) -> None:
        from fieldwork.reminders import jobs

        with self._sweep_guard:
            self._sweeping = True
            self._sweep_thread = threading.get_ident()
        try:
            while True:
                self._wake.clear()
                jobs.sweep(stop=self.stopping)
                with self._sweep_guard:
                    if not self._wake.is_set() or self.stopping.is_set():
                        self._sweeping = False
                        return
        finally:
            with self._sweep_guard:
                self._sweeping = False
                self._sweep_thread = None

    def _heartbeat(self) -> None:
        from fieldwork.reminders import jobs

        if not self.lock.is_held():
            self._deactivate("lost the lock")
            return
        jobs.heartbeat(self.holder, self.host, self.pid, self.started_at or now_utc())

    def _digest(self) -> None:
        from fieldwork.reminders import jobs
        from fieldwork.scheduling.notices import send_booking_notices

        jobs.send_daily_digests()
        send_booking_notices()

    def _busy(self) -> None:
        from fieldwork.reminders import jobs

        jobs.refresh_busy_calendars(stop=self.stopping)

    def _mailbox(self) -> None:
        from fieldwork.reminders import jobs

        jobs.read_calendar_replies()

    def _weekly_report(self) -> None:
        from fieldwork.reports import jobs

        jobs.send_weekly_reports()

    def _deactivate(self, why: str) -> None:
        with self._guard:
            log.error("scheduler: %s; stopping the jobs and trying again", why)
            for job_id in (
                self.SWEEP,
                self.DIGEST,
                self.BUSY,
                self.WEEKLY_REPORT,
                self.HEARTBEAT,
                self.MAILBOX,
            ):
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
            self.lock.release()
            self.started_at = None
            self.scheduler.add_job(
                self._retry_lock,
                "interval",
                seconds=float(self.config["SCHEDULER_LOCK_RETRY_SECONDS"]),
                id=self.LOCK_RETRY,
                replace_existing=True,
            )

    def shutdown(self, wait: bool = True) -> bool:
        """Stop: running jobs finish their current item (up to SCHEDULER_STOP_GRACE_SECONDS
        when `wait`), the heartbeat is removed so /healthz says "down" at once, the lock is
        freed. Returns False if a job was still running when the grace ran out."""
        from fieldwork.outbox import wakeup

        wakeup.unsubscribe(self.wake)
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        finished = True
        if wait:
            grace = float(self.config["SCHEDULER_STOP_GRACE_SECONDS"])
            with self._jobs_done:
                finished = self._jobs_done.wait_for(lambda: self._running_jobs == 0, grace)
        if self.is_active:
            try:
                with self.app.app_context():
                    from fieldwork.reminders.services import clear_heartbeat

                    clear_heartbeat(self.holder)
            except Exception:  # noqa: BLE001 - /healthz then says down one interval later
                log.warning("scheduler: could not remove the heartbeat", exc_info=True)
        self.lock.release()
        self.started_at = None
        return finished


def _under_gunicorn() -> bool:
    return "gunicorn" in os.environ.get("SERVER_SOFTWARE", "") or "gunicorn.arbiter" in sys.modules


def start_in_process_scheduler(app: Flask, use_reloader: bool | None = None):
    """For `flask run`: start the scheduler inside the development server's process.

    Not in tests, not under gunicorn (run `flask --app app scheduler` there), not when
    SCHEDULER_IN_PROCESS is off, and with Werkzeug's reloader only in the child process that
    serves (WERKZEUG_RUN_MAIN == "true"), never in the watcher. Returns the scheduler or None.
    """
    if app.testing or not app.config["SCHEDULER_IN_PROCESS"] or _under_gunicorn():
        return None
    if use_reloader is None:
        import click

        context = click.get_current_context(silent=True)
        reload = context.params.get("reload") if context is not None else None
        use_reloader = app.debug if reload is None else bool(reload)
    if use_reloader and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    scheduler = ReminderScheduler(app).start()
    atexit.register(scheduler.shutdown, False)
    return scheduler


def run_scheduler_process(app: Flask) -> None:
    """`flask --app app scheduler`: run until SIGTERM or SIGINT, then stop cleanly."""
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler = ReminderScheduler(app).start()
    try:
        while not stop.wait(1):
            pass
    finally:
        log.info("scheduler: stopping")
        finished = scheduler.shutdown(wait=True)
    if not finished:
        # A job is stuck in a call that cannot be interrupted (a silent server); its worker
        # thread would keep the interpreter alive. Whatever it held is visible as interrupted.
        log.warning("scheduler: a job did not stop in time; exiting without it")
        logging.shutdown()
        os._exit(0)
