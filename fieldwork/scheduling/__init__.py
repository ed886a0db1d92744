"""Interview appointments: availability, booking without clashes, invites, feeds, self-booking."""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprints and the template helpers; cancel a withdrawn participant's
    appointments and forget an erased one's details (recruitment's signals)."""
    from fieldwork.api.spec import register
    from fieldwork.scheduling import (
        api,
        appointments,
        booking,
        feeds,
        list_actions,
        rules_views,
        views,
    )

    # Each of these adds its pages to the scheduling blueprint (views.blueprint) when imported.
    for module in ("availability_views", "booking_views", "link_views"):
        importlib.import_module(f"fieldwork.scheduling.{module}")

    app.register_blueprint(views.blueprint)
    app.register_blueprint(rules_views.blueprint)
    app.register_blueprint(feeds.blueprint)
    register(app, api.blueprint)
    list_actions.init_app(app)

    # The participant page includes templates/scheduling/_participant_appointments.html,
    # which loads its rows through this global (one query).
    app.jinja_env.globals["participant_appointments"] = lambda participant: (
        appointments.appointments_of_participant(participant.id)
    )

    @app.template_filter("clocktime")
    def clocktime(value: dt.datetime | None, zone: str) -> str:
        """Just the wall-clock time in `zone`, e.g. '10:00'."""
        return value.astimezone(ZoneInfo(zone)).strftime("%H:%M") if value else ""

    from fieldwork.recruitment.signals import participant_erased, participant_withdrawn

    participant_withdrawn.connect(booking.on_participant_withdrawn)
    from fieldwork.scheduling import erasure

    participant_erased.connect(erasure.on_participant_erased)

    from fieldwork.core.jobs import register_job
    from fieldwork.scheduling import busy, notices

    register_job(
        app,
        "booking-notices",
        notices.send_booking_notices,
        every="SCHEDULER_DIGEST_SECONDS",
        run_at_start=True,
    )
    register_job(
        app,
        "busy-calendars",
        busy.refresh_busy_calendars,
        every="SCHEDULER_BUSY_REFRESH_SECONDS",
        is_stoppable=True,
    )
