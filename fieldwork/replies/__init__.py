"""Replies from calendars: iMIP REPLY and COUNTER read from the organiser's mailbox over IMAP,
recorded on their appointments (see mailbox.py for the reading, services.py for the rules)."""

from __future__ import annotations

from flask import Flask

#: The scheduler's job that reads the calendar-replies mailbox (only when IMAP_HOST is set).
MAILBOX_JOB = "calendar-replies"


def init_app(app: Flask) -> None:
    """Register the replies pages and the template helper the appointment page uses."""
    from fieldwork.replies import (
        models,  # noqa: F401 - registers the tables
        services,
        views,
    )

    app.register_blueprint(views.blueprint)
    # templates/replies/_appointment_answers.html loads an appointment's answers through this.
    app.jinja_env.globals["calendar_answers"] = services.answers_for_appointment
    app.jinja_env.globals["reply_can_move"] = services.can_move_to
    app.jinja_env.globals["current_calendar_answers"] = services.current_answers

    from fieldwork.recruitment.signals import participant_erased
    from fieldwork.replies import erasure

    participant_erased.connect(erasure.on_participant_erased)

    from fieldwork.core.jobs import register_job
    from fieldwork.replies import mailbox

    register_job(
        app,
        MAILBOX_JOB,
        mailbox.read_calendar_replies,
        every="IMAP_POLL_SECONDS",
        when=lambda app: bool(app.config["IMAP_HOST"]),
    )
