"""Appointment pages (list, calendar, one appointment, move, cancel, outcome) and topic guides.

The scheduling blueprint lives here; booking_views, availability_views and link_views add
their pages to it.

Who may do what: coordinators book, move and cancel anyone's interviews and send booking
links; interviewers see only their own appointments (404 for others'), record their outcomes,
and manage their own availability, busy calendars and feed.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fieldwork.accounts.access import coordinator_required
from fieldwork.accounts.models import User
from fieldwork.accounts.services import bookable_people, get_user
from fieldwork.audit.services import record_download
from fieldwork.core.downloads import csv_download, private_download
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.core.studies import require_study
from fieldwork.core.time import NonexistentTime, local, now_utc, to_utc, zone_label
from fieldwork.core.web import viewer_timezone
from fieldwork.outbox import services as outbox
from fieldwork.sampling.queries import get_role
from fieldwork.scheduling import calendar_view, messages
from fieldwork.scheduling.appointments import (
    APPOINTMENT_CSV_HEADER,
    AppointmentFilters,
    appointment_query,
    appointment_rows,
    get_appointment,
    get_appointment_with_history,
)
from fieldwork.scheduling.booking import (
    cancel_appointment,
    record_outcome,
    reschedule_appointment,
)
from fieldwork.scheduling.errors import ConsentMissing, NeedsConfirmation, SchedulingError
from fieldwork.scheduling.forms import (
    AppointmentFilterForm,
    CalendarFilterForm,
    CancelForm,
    OutcomeForm,
    RescheduleForm,
    TopicGuideForm,
)
from fieldwork.scheduling.models import AppointmentStatus
from fieldwork.scheduling.topic_guides import save_topic_guide, topic_guide_for_role

blueprint = Blueprint("scheduling", __name__)


def _own_appointment(appointment_id: int, with_history: bool = False):
    """The appointment if the viewer may see it; 404 otherwise (also for others' ones)."""
    getter = get_appointment_with_history if with_history else get_appointment
    appointment = getter(appointment_id, current_user)
    if appointment is None:
        abort(404)
    return appointment


def people_choices() -> list[tuple]:
    return [SelectChoice("", "Choose the interviewer")] + [
        SelectChoice(str(u.id), f"{u.name} ({u.role.value})") for u in bookable_people()
    ]


def interviewer_or_error(form_field) -> User | None:
    user = get_user(form_field.data) if form_field.data else None
    if user is None or not user.is_enabled:
        form_field.errors = [*form_field.errors, "Choose the interviewer."]
        return None
    return user


def start_from(form, zone_name: str) -> dt.datetime | None:
    try:
        return to_utc(form.starts_on.data, form.starts_time.data, zone_name)
    except NonexistentTime as error:
        form.starts_time.errors = [*form.starts_time.errors, str(error)]
        return None


# --- Appointments ----------------------------------------------------------------------------


def _appointment_filters() -> tuple[AppointmentFilterForm, AppointmentFilters]:
    form = AppointmentFilterForm(request.args)
    form.interviewer.choices = [SelectChoice("", "Any interviewer")] + [
        SelectChoice(str(u.id), u.name) for u in bookable_people()
    ]
    filters = AppointmentFilters()
    if form.validate():
        filters = AppointmentFilters(
            interviewer_id=form.interviewer.data,
            status=AppointmentStatus(form.status.data) if form.status.data else None,
            from_date=form.from_date.data,
            to_date=form.to_date.data,
        )
    return form, filters


@blueprint.get("/appointments")
def appointments():
    study = require_study()
    form, filters = _appointment_filters()
    page = paginate(
        appointment_query(study, filters, current_user, study.timezone),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
        bounded=True,
    )
    return render_template(
        "scheduling/appointments.html",
        study=study,
        form=form,
        page=page,
        zone=zone_label(study.timezone),
        is_filtered=any(request.args.get(k) for k in form.data),
    )


@blueprint.get("/appointments.csv")
@coordinator_required
def appointments_csv():
    """The filtered appointment list, all of it, times in the study's zone with the offset."""
    study = require_study()
    _form, filters = _appointment_filters()
    record_download(current_user, study.id, "the appointment list as CSV")
    return csv_download(
        f"appointments-{study.slug}",
        APPOINTMENT_CSV_HEADER,
        appointment_rows(study, filters, current_user),
    )


@blueprint.get("/appointments/calendar")
def calendar():
    """Week or month of interviews in the viewer's zone; interviewers see their own."""
    study = require_study()
    zone_name = viewer_timezone()
    view = request.args.get("view", "week")
    if view not in calendar_view.VIEWS:
        view = "week"
    today = local(now_utc(), zone_name).date()
    try:
        anchor = dt.date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        anchor = today
    if not 2000 <= anchor.year <= 2100:
        anchor = today
    form = CalendarFilterForm(request.args)
    form.interviewer.choices = [SelectChoice("", "Any interviewer")] + [
        SelectChoice(str(u.id), u.name) for u in bookable_people()
    ]
    interviewer_id, status = None, None
    if form.validate():
        interviewer_id = form.interviewer.data if current_user.is_coordinator else None
        status = AppointmentStatus(form.status.data) if form.status.data else None
    page = calendar_view.calendar_page(
        study,
        current_user,
        view=view,
        anchor=anchor,
        today=today,
        zone_name=zone_name,
        interviewer_id=interviewer_id,
        status=status,
    )
    return render_template(
        "scheduling/calendar.html",
        study=study,
        form=form,
        page=page,
        anchor=anchor,
        today=today,
        zone=zone_label(zone_name),
        is_filtered=bool(interviewer_id or status),
    )


def _calendar_links(appointment) -> dict:
    """'Add to calendar' links: the .ics download and a Google Calendar template link."""
    event = messages.calendar_event(appointment, for_interviewer=True)
    stamp = "%Y%m%dT%H%M%SZ"
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": event.summary,
            "dates": f"{event.start.astimezone(dt.UTC):{stamp}}/"
            f"{event.end.astimezone(dt.UTC):{stamp}}",
            "details": event.description,
            "location": event.location or event.url,
            "ctz": event.timezone,
        }
    )
    return {
        "ics": url_for("scheduling.appointment_ics", appointment_id=appointment.id),
        "google": google,
    }


@blueprint.get("/appointments/<int:appointment_id>")
def appointment(appointment_id: int):
    item = _own_appointment(appointment_id, with_history=True)
    return render_template(
        "scheduling/appointment.html",
        appointment=item,
        links=_calendar_links(item) if item.is_open else None,
        where=messages.where_text(item),
        can_record_outcome=item.status != AppointmentStatus.CANCELLED
        and item.starts_at <= now_utc(),
    )


@blueprint.get("/appointments/<int:appointment_id>.ics")
def appointment_ics(appointment_id: int):
    item = _own_appointment(appointment_id)
    return private_download(
        messages.appointment_calendar(item), "text/calendar", f"interview-{item.id}.ics"
    )


@blueprint.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@coordinator_required
def reschedule(appointment_id: int):
    item = _own_appointment(appointment_id)
    if not item.is_open:
        abort(409, "Only a booked appointment can be moved.")
    form = RescheduleForm()
    if request.method == "GET":
        start = local(item.starts_at, item.timezone)
        form.starts_on.data = start.date()
        form.starts_time.data = start.time().replace(tzinfo=None)
        form.minutes.data = item.minutes
    warnings: list[str] = []
    if form.validate_on_submit():
        starts_at = start_from(form, item.timezone)
        if starts_at:
            started = now_utc()
            try:
                reschedule_appointment(
                    item, starts_at, form.minutes.data, current_user, confirmed=form.confirm.data
                )
            except NeedsConfirmation as warning:
                warnings = warning.warnings
                form.confirm.errors = ["Tick “Book anyway” to move it despite the warning."]
            except SchedulingError as error:
                form.starts_time.errors = [*form.starts_time.errors, str(error)]
            else:
                flash("Interview moved. " + outbox.describe_queued(item.id, started), "success")
                return redirect(url_for("scheduling.appointment", appointment_id=item.id))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "scheduling/reschedule.html",
            form=form,
            appointment=item,
            zone=zone_label(item.timezone),
            warnings=warnings,
        ),
        status,
    )


@blueprint.route("/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
@coordinator_required
def cancel(appointment_id: int):
    item = _own_appointment(appointment_id)
    if not item.is_open:
        abort(409, "Only a booked appointment can be cancelled.")
    form = CancelForm()
    if form.validate_on_submit():
        started = now_utc()
        try:
            cancel_appointment(item, form.reason.data or "", current_user)
        except SchedulingError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash("Interview cancelled. " + outbox.describe_queued(item.id, started), "success")
            return redirect(url_for("scheduling.appointment", appointment_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template("scheduling/cancel.html", form=form, appointment=item), status


@blueprint.route("/appointments/<int:appointment_id>/outcome", methods=["GET", "POST"])
def outcome(appointment_id: int):
    item = _own_appointment(appointment_id)
    form = OutcomeForm()
    consent_missing = False
    if request.method == "GET" and item.status in (
        AppointmentStatus.HELD,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.CANCELLED_LATE,
    ):
        form.status.data = item.status.value
        form.actual_minutes.data = item.actual_minutes
        if item.is_recorded is not None:
            form.is_recorded.data = "yes" if item.is_recorded else "no"
    if form.validate_on_submit():
        try:
            record_outcome(
                item,
                AppointmentStatus(form.status.data),
                form.actual_minutes.data,
                form.is_recorded.data == "yes" if form.is_recorded.data else None,
                current_user,
            )
        except SchedulingError as error:
            form.status.errors = [*form.status.errors, str(error)]
            consent_missing = isinstance(error, ConsentMissing)
        else:
            flash("Outcome recorded.", "success")
            return redirect(url_for("scheduling.appointment", appointment_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "scheduling/outcome.html", form=form, appointment=item, consent_missing=consent_missing
    ), status


# --- Topic guides ----------------------------------------------------------------------------


@blueprint.route("/roles/<int:role_id>/topic-guide", methods=["GET", "POST"])
@coordinator_required
def topic_guide(role_id: int):
    role = get_role(role_id)
    if role is None:
        abort(404)
    guide = topic_guide_for_role(role.id)
    form = TopicGuideForm(obj=guide)
    if form.validate_on_submit():
        save_topic_guide(role, form.title.data, form.url.data)
        flash("Topic guide saved; interviewers' invitations will carry it.", "success")
        return redirect(url_for("scheduling.topic_guide", role_id=role.id))
    status = 422 if request.method == "POST" else 200
    return render_template("scheduling/topic_guide.html", form=form, role=role, guide=guide), status


@blueprint.post("/roles/<int:role_id>/topic-guide/remove")
@coordinator_required
def remove_topic_guide(role_id: int):
    role = get_role(role_id)
    if role is None:
        abort(404)
    save_topic_guide(role, "", "")
    flash("Topic guide removed.", "success")
    return redirect(url_for("scheduling.topic_guide", role_id=role.id))
