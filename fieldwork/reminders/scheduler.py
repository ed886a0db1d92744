"""The one scheduler of an installation: APScheduler 3 running the periodic jobs.

APScheduler holds no state that matters: its jobs live in a MemoryJobStore (a job store
cannot be shared between processes, and every process that starts a scheduler runs every job),
and the reminders are rows in the database. What keeps it to one per installation is a lock
taken before any job is added:

an advisory lock on PostgreSQL, a file lock beside the database on SQLite (fieldwork.core.locks;
both are freed when the process dies).

Each domain registers its own periodic jobs (fieldwork.core.jobs.register_job, from its
init_app); the scheduler runs whatever is registered, plus its own heartbeat.

A scheduler that cannot take the lock stays idle, says so in the log, and tries again every
minute, so it takes over when the other one stops. Even two active schedulers (a lock
defeated somehow) would not send a reminder twice: the sweeps claim rows in the database.

Web requests never send mail: a commit that queued a message wakes the sweep at once when the
scheduler runs in the same process (the sweep wakes on fieldwork.outbox.signals.messages_ready);
a scheduler process of its own sweeps every SCHEDULER_SWEEP_SECONDS (5 by default).

Stopping: `shutdown` tells the running jobs to stop between two messages or calendars, waits
SCHEDULER_STOP_GRACE_SECONDS for them, removes the heartbeat (so /healthz says "down" at once)
and frees the lock.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from fieldwork.core.jobs import PeriodicJob, registered_jobs
from fieldwork.core.locks import SchedulerLock, lock_for
from fieldwork.core.time import now_utc
from fieldwork.extensions import db

log = logging.getLogger(__name__)

#: The settings a scheduler reads (fieldwork/config.py declares them), taken once at start.
#: Each registered job names its own interval setting (fieldwork.core.jobs).
SETTING_NAMES = (
    "SCHEDULER_SWEEP_SECONDS",
    "SCHEDULER_HEARTBEAT_SECONDS",
    "SCHEDULER_STOP_GRACE_SECONDS",
    "SCHEDULER_LOCK_RETRY_SECONDS",
    "SCHEDULER_MISFIRE_GRACE_SECONDS",
)


class ReminderScheduler:
    """APScheduler's BackgroundScheduler with the lock, the registered jobs, and the idle
    retry. The jobs come from fieldwork.core.jobs, registered by each domain's init_app."""

    HEARTBEAT, LOCK_RETRY = "heartbeat", "lock-retry"
    #: The reminders' sweep (registered in fieldwork.reminders.init_app).
    SWEEP = "reminders-sweep"

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
        self._running_jobs = 0
        self._jobs_done = threading.Condition()
        self.jobs = registered_jobs(app)
        self._wakers = [_Waker(self, job) for job in self.jobs if job.wake_on is not None]
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
        self.scheduler.start()
        for waker in self._wakers:
            waker.connect()
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
            self.scheduler.add_job(
                self._job(self._heartbeat),
                "interval",
                seconds=float(self.config["SCHEDULER_HEARTBEAT_SECONDS"]) / 2,
                id=self.HEARTBEAT,
                replace_existing=True,
                next_run_time=now,
            )
            wakers = {waker.job.name: waker for waker in self._wakers}
            for job in self.jobs:
                run = wakers[job.name].run if job.name in wakers else self._call(job)
                options = {"next_run_time": now} if job.run_at_start else {}
                self.scheduler.add_job(
                    self._job(run),
                    "interval",
                    seconds=float(self.app.config[job.every]),
                    id=job.name,
                    replace_existing=True,
                    **options,
                )
            return True

    def _call(self, job: PeriodicJob) -> Callable[[], object]:
        def call() -> object:
            return job.run(stop=self.stopping) if job.is_stoppable else job.run()

        call.__name__ = job.name
        return call

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

    def wake(self, sender: object = None, **kwargs: object) -> None:
        """Run the wakeable jobs now (a commit queued messages). Returns at once."""
        for waker in self._wakers:
            waker.wake()

    def _heartbeat(self) -> None:
        from fieldwork.reminders.health import beat

        if not self.lock.is_held():
            self._deactivate("lost the lock")
            return
        beat(self.holder, self.host, self.pid, self.started_at or now_utc())

    def _deactivate(self, why: str) -> None:
        with self._guard:
            log.error("scheduler: %s; stopping the jobs and trying again", why)
            for job_id in [self.HEARTBEAT, *(job.name for job in self.jobs)]:
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
        for waker in self._wakers:
            waker.disconnect()
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
                    from fieldwork.reminders.health import clear_heartbeat

                    clear_heartbeat(self.holder)
            except Exception:  # noqa: BLE001 - /healthz then says down one interval later
                log.warning("scheduler: could not remove the heartbeat", exc_info=True)
        self.lock.release()
        self.started_at = None
        return finished


class _Waker:
    """Runs a job again at once when its `wake_on` signal is sent, and once more if the signal
    comes while the job runs (so nothing committed meanwhile waits a whole interval)."""

    def __init__(self, owner: ReminderScheduler, job: PeriodicJob):
        self.owner = owner
        self.job = job
        self._wake = threading.Event()
        self._guard = threading.Lock()
        self._running = False
        self._thread: int | None = None

    def connect(self) -> None:
        assert self.job.wake_on is not None
        self.job.wake_on.connect(self._receive)

    def disconnect(self) -> None:
        assert self.job.wake_on is not None
        self.job.wake_on.disconnect(self._receive)

    def _receive(self, sender: object, **kwargs: object) -> None:
        self.wake()

    def wake(self) -> None:
        if threading.get_ident() == self._thread:
            return  # the job's own commits; it handles what it queued anyway
        with self._guard:
            self._wake.set()
            if self._running or not self.owner.is_active or self.owner.stopping.is_set():
                return  # a running job goes round once more
        scheduled = self.owner.scheduler.get_job(self.job.name)
        if scheduled is not None:
            scheduled.modify(next_run_time=dt.datetime.now(dt.UTC))

    def run(self) -> None:
        with self._guard:
            self._running = True
            self._thread = threading.get_ident()
        try:
            while True:
                self._wake.clear()
                self.owner._call(self.job)()
                with self._guard:
                    if not self._wake.is_set() or self.owner.stopping.is_set():
                        return
        finally:
            with self._guard:
                self._running = False
                self._thread = None


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
