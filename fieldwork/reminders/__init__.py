"""Reminders: rows planned with each booking, swept into the outbox by the one scheduler
(APScheduler, `flask --app app scheduler` or in-process under `flask run`)."""

from __future__ import annotations

import logging

import click
from flask import Flask


# Long by design: the domain's wiring (pages, API, jobs, receivers) and the
# `scheduler` command with its options, which belong with the registration.
def init_app(app: Flask) -> None:
    """Register the models, the pages (blueprint "reminders"), the API ("reminders_api"),
    the reminders' periodic jobs and the `scheduler` command."""
    from fieldwork.api.spec import register
    from fieldwork.core.health import register_health_check
    from fieldwork.reminders import api, digest, jobs, models, scheduler, views  # noqa: F401
    from fieldwork.reminders.health import scheduler_health

    register_health_check(app, "scheduler", scheduler_health)

    from fieldwork.core.jobs import register_job
    from fieldwork.outbox.signals import messages_ready

    # The sweep also runs at once after a commit queued mail (in-process scheduler only).
    register_job(
        app,
        scheduler.ReminderScheduler.SWEEP,
        jobs.sweep,
        every="SCHEDULER_SWEEP_SECONDS",
        run_at_start=True,
        wake_on=messages_ready,
        is_stoppable=True,
    )
    register_job(
        app,
        "daily-digest",
        digest.send_daily_digests,
        every="SCHEDULER_DIGEST_SECONDS",
        run_at_start=True,
    )

    from fieldwork.recruitment.signals import participant_erased
    from fieldwork.reminders import erasure

    participant_erased.connect(erasure.on_participant_erased)

    from fieldwork.reminders import subscribers

    subscribers.connect()
    app.register_blueprint(views.blueprint)
    register(app, api.blueprint)

    @app.cli.command("scheduler")
    @click.option("--sweep-seconds", type=float, help="Seconds between sweeps (default 10).")
    @click.option("--once", is_flag=True, help="Run one sweep and the digests, then exit.")
    def scheduler_command(sweep_seconds: float | None, once: bool) -> None:
        """Run the reminder scheduler alone (one per installation; see docs/scheduler.md)."""
        from fieldwork.core.locks import lock_for
        from fieldwork.reminders import digest, jobs

        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
            )
        logging.getLogger("fieldwork").setLevel(logging.INFO)
        # APScheduler logs every run of every job at INFO; its warnings and errors remain.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        if not app.config["SMTP_HOST"].strip():
            logging.getLogger("fieldwork.outbox").warning(
                "no mail server configured (SMTP_HOST is empty): messages stay in the outbox "
                'marked "not sent: no mail server configured"'
            )
        if sweep_seconds:
            app.config["SCHEDULER_SWEEP_SECONDS"] = sweep_seconds
        if once:
            lock = lock_for(app)
            if not lock.acquire():
                raise click.ClickException("Another scheduler holds the lock; nothing done.")
            try:
                jobs.sweep()
                digest.send_daily_digests()
            finally:
                lock.release()
            click.echo("One sweep done.")
            return
        scheduler.run_scheduler_process(app)
