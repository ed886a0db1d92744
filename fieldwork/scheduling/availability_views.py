"""Interviewers' availability: the week view, weekly windows, busy calendars and the personal
calendar feed. Interviewers manage their own; coordinators anyone's."""

from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fieldwork.accounts.models import User
from fieldwork.accounts.services import bookable_people, get_user
from fieldwork.core.studies import require_study
from fieldwork.core.time import local, now_utc, zone_label
from fieldwork.scheduling import availability, busy, feed_tokens
from fieldwork.scheduling.availability import add_window, week_view, windows_for_viewer
from fieldwork.scheduling.errors import SchedulingError
from fieldwork.scheduling.feed_tokens import feed_of, regenerate_feed_token
from fieldwork.scheduling.forms import (
    BusyCalendarForm,
    WindowForm,
)
from fieldwork.scheduling.views import blueprint, people_choices

# --- Availability ----------------------------------------------------------------------------


def _monday(raw: str | None, zone_name: str) -> dt.date:
    """The Monday of the week asked for (?week=YYYY-MM-DD), else of this week."""
    try:
        day = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        day = local(now_utc(), zone_name).date()
    return day - dt.timedelta(days=day.weekday())


def _chosen_interviewer(raw: str | None) -> User | None:
    """Interviewers always see themselves; coordinators choose (default: the first)."""
    if not current_user.is_coordinator:
        return current_user._get_current_object()
    people = bookable_people()
    if raw and raw.isdigit():
        for person in people:
            if person.id == int(raw):
                return person
    interviewers = [p for p in people if not p.is_coordinator]
    candidates = interviewers or people
    return candidates[0] if candidates else None


@blueprint.get("/availability")
def week():
    study = require_study()
    interviewer = _chosen_interviewer(request.args.get("interviewer"))
    monday = _monday(request.args.get("week"), study.timezone)
    days = week_view(interviewer, monday, study.timezone) if interviewer else []
    return render_template(
        "scheduling/week.html",
        study=study,
        interviewer=interviewer,
        people=bookable_people() if current_user.is_coordinator else [],
        monday=monday,
        days=days,
        previous_week=(monday - dt.timedelta(days=7)).isoformat(),
        next_week=(monday + dt.timedelta(days=7)).isoformat(),
        zone_name=study.timezone,
        zone=zone_label(study.timezone),
    )


def _own_choices(field) -> None:
    """Coordinators pick anyone; interviewers only themselves."""
    if current_user.is_coordinator:
        field.choices = people_choices()
    else:
        field.choices = [SelectChoice(str(current_user.id), current_user.name)]
        if request.method == "GET":
            field.data = current_user.id


def _may_manage(user_id: int | None) -> User | None:
    user = get_user(user_id) if user_id else None
    if user is None or (not current_user.is_coordinator and user.id != current_user.id):
        return None
    return user


def _interviewer_to_manage(field) -> User | None:
    """The interviewer the form names, if the viewer may manage their times; else the
    field's error says to choose."""
    interviewer = _may_manage(field.data)
    if interviewer is None:
        field.errors = [*field.errors, "Choose who."]
    return interviewer


@blueprint.route("/availability/windows", methods=["GET", "POST"])
def windows():
    study = require_study()
    form = WindowForm()
    _own_choices(form.interviewer_id)
    if form.validate_on_submit():
        interviewer = _interviewer_to_manage(form.interviewer_id)
        if interviewer is not None:
            try:
                add_window(
                    interviewer,
                    form.weekday.data,
                    form.starts_time.data,
                    form.ends_time.data,
                    study.timezone,
                    form.valid_from.data,
                    form.valid_until.data,
                )
            except SchedulingError as error:
                form.ends_time.errors = [*form.ends_time.errors, str(error)]
            else:
                flash("Available time added.", "success")
                return redirect(url_for("scheduling.windows"))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "scheduling/windows.html",
            form=form,
            windows=windows_for_viewer(current_user),
            zone=zone_label(study.timezone),
        ),
        status,
    )


@blueprint.post("/availability/windows/<int:window_id>/delete")
def delete_window(window_id: int):
    if not availability.delete_window(window_id, current_user):
        abort(404)
    flash("Available time removed.", "success")
    return redirect(url_for("scheduling.windows"))


@blueprint.route("/availability/busy-calendars", methods=["GET", "POST"])
def busy_calendars():
    form = BusyCalendarForm()
    _own_choices(form.interviewer_id)
    if form.validate_on_submit():
        interviewer = _interviewer_to_manage(form.interviewer_id)
        if interviewer is not None:
            content = ""
            if form.upload.data and getattr(form.upload.data, "filename", ""):
                content = busy.read_upload(form.upload.data.stream)
            try:
                calendar = busy.add_busy_calendar(
                    interviewer, form.name.data, form.url.data or "", content
                )
            except busy.BusyCalendarError as error:
                target = form.url if form.url.data else form.upload
                target.errors = [*target.errors, str(error)]
            else:
                if calendar.last_error:
                    flash(
                        f"Calendar added, but it could not be read: {calendar.last_error}",
                        "warning",
                    )
                else:
                    flash("Calendar added; its busy times now block bookings.", "success")
                return redirect(url_for("scheduling.busy_calendars"))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "scheduling/busy_calendars.html",
            form=form,
            calendars=busy.calendars_for_viewer(current_user),
        ),
        status,
    )


@blueprint.post("/availability/busy-calendars/<int:calendar_id>/refresh")
def refresh_busy_calendar(calendar_id: int):
    calendar = busy.get_calendar(calendar_id, current_user)
    if calendar is None:
        abort(404)
    busy.refresh_calendar(calendar)
    if calendar.last_error:
        flash(f"Could not refresh “{calendar.name}”: {calendar.last_error}", "error")
    else:
        flash(f"“{calendar.name}” refreshed.", "success")
    return redirect(url_for("scheduling.busy_calendars"))


@blueprint.post("/availability/busy-calendars/<int:calendar_id>/delete")
def delete_busy_calendar(calendar_id: int):
    calendar = busy.get_calendar(calendar_id, current_user)
    if calendar is None:
        abort(404)
    busy.delete_calendar(calendar)
    flash("Calendar removed.", "success")
    return redirect(url_for("scheduling.busy_calendars"))


# --- Calendar feed settings ------------------------------------------------------------------


@blueprint.get("/calendar-feed")
def feed_settings():
    return render_template(
        "scheduling/feed_settings.html",
        feed=feed_of(current_user),
        new_url=None,
    )


@blueprint.post("/calendar-feed/regenerate")
def regenerate_feed():
    token = regenerate_feed_token(current_user)
    flash("A new feed address was made; the old one no longer works.", "success")
    return render_template(
        "scheduling/feed_settings.html",
        feed=feed_of(current_user),
        new_url=url_for("feeds.interviewer_feed", token=token, _external=True),
    )


@blueprint.post("/calendar-feed/revoke")
def revoke_feed():
    feed_tokens.revoke_feed(current_user)
    flash("Your calendar feed is switched off.", "success")
    return redirect(url_for("scheduling.feed_settings"))
