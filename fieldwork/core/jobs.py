"""The periodic jobs of an installation, each registered by the domain that owns it.

A domain calls `register_job` from its `init_app`; the one scheduler
(fieldwork.reminders.scheduler, `flask --app app scheduler`) runs every registered job at the
interval its setting names, once it holds the installation's scheduler lock. The registry is
kept on the app (`app.extensions`), so two apps in one process (as in the tests) never share
jobs, and the scheduler knows no domain's job by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blinker import Signal
from flask import Flask

_EXTENSION = "fieldwork.jobs"


@dataclass(frozen=True)
class PeriodicJob:
    """One job: what to call, how often, and whether it runs at all in this app."""

    name: str
    #: Called in an app context, with no arguments, or with the scheduler's stop event as
    #: `stop` when `is_stoppable` (long jobs look at it between items and return early).
    run: Callable[..., object]
    #: The config key holding the seconds between two runs.
    every: str
    #: Run once as soon as the scheduler takes the lock, rather than one interval later.
    run_at_start: bool = False
    #: Decides, when the scheduler starts, whether the job runs in this app (e.g. only when a
    #: mailbox is configured); None means always.
    when: Callable[[Flask], bool] | None = None
    #: A signal after which the job runs again at once (e.g. messages committed to the outbox).
    wake_on: Signal | None = None
    is_stoppable: bool = False


def register_job(
    app: Flask,
    name: str,
    run: Callable[..., object],
    *,
    every: str,
    run_at_start: bool = False,
    when: Callable[[Flask], bool] | None = None,
    wake_on: Signal | None = None,
    is_stoppable: bool = False,
) -> None:
    """Add a periodic job to this app's scheduler (a second registration of a name replaces
    the first, so calling init_app twice is harmless)."""
    jobs: dict[str, PeriodicJob] = app.extensions.setdefault(_EXTENSION, {})
    jobs[name] = PeriodicJob(name, run, every, run_at_start, when, wake_on, is_stoppable)


def registered_jobs(app: Flask) -> list[PeriodicJob]:
    """The jobs that run in this app, in the order they were registered."""
    jobs: dict[str, PeriodicJob] = app.extensions.get(_EXTENSION, {})
    return [job for job in jobs.values() if job.when is None or job.when(app)]
