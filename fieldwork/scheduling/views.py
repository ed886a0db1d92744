"""Pages for appointments, availability, busy calendars, feeds settings and booking links.

Who may do what: coordinators book, move and cancel anyone's interviews and send booking
links; interviewers see only their own appointments (404 for others'), record their outcomes,
and manage their own availability, busy calendars and feed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
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
from fieldwork.core.downloads import csv_download, record_download
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.core.time import now_utc
from fieldwork.core.web import viewer_timezone
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import Role, Study
from fieldwork.sampling.views import require_study
from fieldwork.scheduling import availability, busy, calendar_view, messages, services
from fieldwork.scheduling import slots as slot_service
from fieldwork.scheduling.forms import (
    AppointmentFilterForm,
    AppointmentForm,
    BookingLinkForm,
    BusyCalendarForm,
    CalendarFilterForm,
    CancelForm,
    OutcomeForm,
    RescheduleForm,
    TopicGuideForm,
    WindowForm,
)
from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus
from fieldwork.scheduling.timeutil import NonexistentTime, local, to_utc, zone_label

blueprint = Blueprint("scheduling", __name__)


def _own_appointment(appointment_id: int, with_history: bool = False):
    """The appointment if the viewer may see it; 404 otherwise (also for others' ones)."""
    getter = services.get_appointment_with_history if with_history else services.get_appointment
    appointment = getter(appointment_id, current_user)
    if appointment is None:
        abort(404)
    return appointment


def _people_choices() -> list[tuple]:
    return [SelectChoice("", "Choose the interviewer")] + [
        SelectChoice(str(u.id), f"{u.name} ({u.role.value})") for u in services.bookable_people()
    ]


def _interviewer_or_error(form_field) -> User | None:
    user = db.session.get(User, form_field.data) if form_field.data else None
    if user is None or not user.is_enabled:
        form_field.errors = [*form_field.errors, "Choose the interviewer."]
        return None
    return user


def _start_from(form, zone_name: str) -> dt.datetime | None:
    try:
        return to_utc(form.starts_on.data, form.starts_time.data, zone_name)
    except NonexistentTime as error:
        form.starts_time.errors = [*form.starts_time.errors, str(error)]
        return None


# --- Appointments ----------------------------------------------------------------------------


def _appointment_filters() -> tuple[AppointmentFilterForm, services.AppointmentFilters]:
    form = AppointmentFilterForm(request.args)
    form.interviewer.choices = [SelectChoice("", "Any interviewer")] + [
        SelectChoice(str(u.id), u.name) for u in services.bookable_people()
    ]
    filters = services.AppointmentFilters()
    if form.validate():
        filters = services.AppointmentFilters(
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
        services.appointment_query(study, filters, current_user, study.timezone),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
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
        services.APPOINTMENT_CSV_HEADER,
        services.appointment_rows(study, filters, current_user),
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
        SelectChoice(str(u.id), u.name) for u in services.bookable_people()
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
        zone_info=ZoneInfo(zone_name),
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
    return Response(
        messages.appointment_calendar(item),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="interview-{item.id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


def _request_from(form: AppointmentForm, starts_at: dt.datetime) -> services.BookingRequest:
    """The booking the form asks for; only the fields of its mode are kept (a telephone
    interview has no address, a video call no place, travel only in person)."""
    mode = AppointmentMode(form.mode.data)
    return services.BookingRequest(
        starts_at=starts_at,
        minutes=form.minutes.data,
        mode=mode,
        location=(form.location.data or "") if mode == AppointmentMode.IN_PERSON else "",
        video_link=(form.video_link.data or "") if mode == AppointmentMode.VIDEO else "",
        notes=form.notes.data or "",
        travel_minutes_before=form.travel_minutes_before.data or 0,
        travel_minutes_after=form.travel_minutes_after.data or 0,
    )


@dataclass(frozen=True)
class SlotDay:
    """One day of free slots on the booking form: its label and the slots' radio indices."""

    label: str
    indices: list[int]


def _offer_slots(
    form: AppointmentForm, study: Study, participant, interviewer: User | None
) -> list[SlotDay]:
    """Fill the form's slot choices with the interviewer's free slots, grouped by day."""
    form.slot.choices = []
    if interviewer is None:
        return []
    minutes = form.minutes.data if isinstance(form.minutes.data, int) else None
    if not minutes or not 5 <= minutes <= services.MAX_MINUTES:
        minutes = study.interview_minutes
    travel = 0
    if form.mode.data == AppointmentMode.IN_PERSON.value:
        travel = max(form.travel_minutes_before.data or 0, form.travel_minutes_after.data or 0)
        travel = min(max(travel, 0), services.MAX_TRAVEL_MINUTES)
    # The same slot service as the participant's link, under the study's booking rules,
    # from now (no notice) over the form's fortnight.
    slots = slot_service.bookable_slots(
        study,
        interviewer.id,
        participant.id,
        minutes=minutes,
        travel_minutes=travel,
        min_notice_hours=0,
        max_days_ahead=availability.BOOKING_FORM_DAYS,
    )
    days: list[SlotDay] = []
    for index, slot in enumerate(slots):
        moment = local(slot, study.timezone)
        label = f"{moment:%A} {moment.day} {moment:%B %Y}"
        form.slot.choices.append(
            SelectChoice(slot.isoformat(), f"{moment:%H:%M} {moment.tzname()}")
        )
        if not days or days[-1].label != label:
            days.append(SlotDay(label, []))
        days[-1].indices.append(index)
    return days


def _chosen_person(raw) -> User | None:
    if not raw:
        return None
    user = db.session.get(User, raw)
    return user if user is not None and user.is_enabled else None


@blueprint.route("/appointments/new", methods=["GET", "POST"])
@coordinator_required
def new_appointment():
    """Book from the interviewer's free slots or at a typed time; "Show free times" (a
    submit button, clicked by script when the interviewer changes) reloads the slots."""
    study = require_study()
    raw = request.args.get("participant", "")
    participant = sampling.get_participant(int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if not raw:
        flash(
            "Choose the participant to book, then use “Book an interview” on their page.",
            "info",
        )
        return redirect(url_for("sampling.participants"))
    if participant is None or participant.study_id != study.id:
        abort(404, "Choose a participant of this study first (from their page).")
    form = AppointmentForm()
    form.interviewer_id.choices = _people_choices()
    if request.method == "GET":
        form.minutes.data = study.interview_minutes
        if participant.interviewer_id:
            form.interviewer_id.data = participant.interviewer_id
    showing_slots = request.method == "POST" and "show_slots" in request.form
    interviewer = _chosen_person(form.interviewer_id.data)
    slot_days = _offer_slots(form, study, participant, interviewer)
    warnings: list[str] = []
    if not showing_slots and form.validate_on_submit():
        interviewer = _interviewer_or_error(form.interviewer_id)
        starts_at = form.chosen_slot() if form.slot.data else _start_from(form, study.timezone)
        time_field = form.slot if form.slot.data else form.starts_time
        if interviewer and starts_at:
            started = now_utc()
            try:
                booked = services.book_appointment(
                    study,
                    participant,
                    interviewer,
                    _request_from(form, starts_at),
                    current_user,
                    confirmed=form.confirm.data,
                    already_took_place=form.already_took_place.data,
                )
            except services.NeedsConfirmation as warning:
                warnings = warning.warnings
                form.confirm.errors = ["Tick “Book anyway” to book despite the warning."]
            except services.SchedulingError as error:
                time_field.errors = [*time_field.errors, str(error)]
            else:
                if form.already_took_place.data:
                    flash("Interview recorded; no invitations were sent.", "success")
                else:
                    flash(
                        "Interview booked. " + outbox.describe_queued(booked.id, started),
                        "success",
                    )
                return redirect(url_for("scheduling.appointment", appointment_id=booked.id))
    status = 422 if request.method == "POST" and not showing_slots else 200
    return (
        render_template(
            "scheduling/appointment_form.html",
            form=form,
            participant=participant,
            study=study,
            interviewer=interviewer,
            slot_days=slot_days,
            slot_options=list(form.slot),
            slot_range_days=availability.BOOKING_FORM_DAYS,
            zone=zone_label(study.timezone),
            warnings=warnings,
        ),
        status,
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
        starts_at = _start_from(form, item.timezone)
        if starts_at:
            started = now_utc()
            try:
                services.reschedule_appointment(
                    item, starts_at, form.minutes.data, current_user, confirmed=form.confirm.data
                )
            except services.NeedsConfirmation as warning:
                warnings = warning.warnings
                form.confirm.errors = ["Tick “Book anyway” to move it despite the warning."]
            except services.SchedulingError as error:
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
            services.cancel_appointment(item, form.reason.data or "", current_user)
        except services.SchedulingError as error:
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
            services.record_outcome(
                item,
                AppointmentStatus(form.status.data),
                form.actual_minutes.data,
                form.is_recorded.data == "yes" if form.is_recorded.data else None,
                current_user,
            )
        except services.SchedulingError as error:
            form.status.errors = [*form.status.errors, str(error)]
            consent_missing = isinstance(error, services.ConsentMissing)
        else:
            flash("Outcome recorded.", "success")
            return redirect(url_for("scheduling.appointment", appointment_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "scheduling/outcome.html", form=form, appointment=item, consent_missing=consent_missing
    ), status


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
    people = services.bookable_people()
    if raw and raw.isdigit():
        for person in people:
            if person.id == int(raw):
                return person
    interviewers = [p for p in people if not p.is_coordinator]
    return (interviewers or people or [None])[0]


@blueprint.get("/availability")
def week():
    study = require_study()
    interviewer = _chosen_interviewer(request.args.get("interviewer"))
    monday = _monday(request.args.get("week"), study.timezone)
    days = services.week_view(interviewer, monday, study.timezone) if interviewer else []
    return render_template(
        "scheduling/week.html",
        study=study,
        interviewer=interviewer,
        people=services.bookable_people() if current_user.is_coordinator else [],
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
        field.choices = _people_choices()
    else:
        field.choices = [SelectChoice(str(current_user.id), current_user.name)]
        if request.method == "GET":
            field.data = current_user.id


def _may_manage(user_id: int | None) -> User | None:
    user = db.session.get(User, user_id) if user_id else None
    if user is None or (not current_user.is_coordinator and user.id != current_user.id):
        return None
    return user


@blueprint.route("/availability/windows", methods=["GET", "POST"])
def windows():
    study = require_study()
    form = WindowForm()
    _own_choices(form.interviewer_id)
    if form.validate_on_submit():
        interviewer = _may_manage(form.interviewer_id.data)
        if interviewer is None:
            form.interviewer_id.errors = [*form.interviewer_id.errors, "Choose who."]
        else:
            try:
                services.add_window(
                    interviewer,
                    form.weekday.data,
                    form.starts_time.data,
                    form.ends_time.data,
                    study.timezone,
                    form.valid_from.data,
                    form.valid_until.data,
                )
            except services.SchedulingError as error:
                form.ends_time.errors = [*form.ends_time.errors, str(error)]
            else:
                flash("Available time added.", "success")
                return redirect(url_for("scheduling.windows"))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "scheduling/windows.html",
            form=form,
            windows=services.windows_for_viewer(current_user),
            zone=zone_label(study.timezone),
        ),
        status,
    )


@blueprint.post("/availability/windows/<int:window_id>/delete")
def delete_window(window_id: int):
    if not services.delete_window(window_id, current_user):
        abort(404)
    flash("Available time removed.", "success")
    return redirect(url_for("scheduling.windows"))


@blueprint.route("/availability/busy-calendars", methods=["GET", "POST"])
def busy_calendars():
    form = BusyCalendarForm()
    _own_choices(form.interviewer_id)
    if form.validate_on_submit():
        interviewer = _may_manage(form.interviewer_id.data)
        if interviewer is None:
            form.interviewer_id.errors = [*form.interviewer_id.errors, "Choose who."]
        else:
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
        feed=services.feed_of(current_user),
        new_url=None,
    )


@blueprint.post("/calendar-feed/regenerate")
def regenerate_feed():
    token = services.regenerate_feed_token(current_user)
    flash("A new feed address was made; the old one no longer works.", "success")
    return render_template(
        "scheduling/feed_settings.html",
        feed=services.feed_of(current_user),
        new_url=url_for("feeds.interviewer_feed", token=token, _external=True),
    )


@blueprint.post("/calendar-feed/revoke")
def revoke_feed():
    services.revoke_feed(current_user)
    flash("Your calendar feed is switched off.", "success")
    return redirect(url_for("scheduling.feed_settings"))


# --- Booking links ---------------------------------------------------------------------------


@blueprint.route("/participants/<int:participant_id>/booking-links", methods=["GET", "POST"])
@coordinator_required
def booking_links(participant_id: int):
    participant = sampling.get_participant(participant_id)
    if participant is None:
        abort(404)
    study = db.session.get(Study, participant.study_id)
    form = BookingLinkForm()
    form.interviewer_id.choices = _people_choices()
    if request.method == "GET":
        form.interviewer_id.data = participant.interviewer_id
    new_url = None
    if form.validate_on_submit():
        interviewer = _interviewer_or_error(form.interviewer_id)
        if interviewer is not None:
            try:
                _link, token = services.send_booking_link(
                    participant,
                    interviewer,
                    current_user,
                    lambda token: url_for("feeds.self_booking", token=token, _external=True),
                    mode=AppointmentMode(form.mode.data),
                    location=form.location.data or "",
                    video_link=form.video_link.data or "",
                    travel_minutes=form.travel_minutes.data or 0,
                    days=form.days.data,
                )
            except services.SchedulingError as error:
                form.interviewer_id.errors = [*form.interviewer_id.errors, str(error)]
            else:
                new_url = url_for("feeds.self_booking", token=token, _external=True)
                flash(f"Booking link emailed to {participant.email}.", "success")
                form = BookingLinkForm(formdata=None)
                form.interviewer_id.choices = _people_choices()
    status = 422 if request.method == "POST" and new_url is None else 200
    return (
        render_template(
            "scheduling/booking_links.html",
            participant=participant,
            study=study,
            form=form,
            links=services.booking_links_of(participant),
            new_url=new_url,
            now=now_utc(),
        ),
        status,
    )


@blueprint.post("/participants/<int:participant_id>/booking-links/<int:link_id>/revoke")
@coordinator_required
def revoke_booking_link(participant_id: int, link_id: int):
    participant = sampling.get_participant(participant_id)
    if participant is None or services.revoke_booking_link(link_id, participant) is None:
        abort(404)
    flash("The booking link no longer works.", "success")
    return redirect(url_for("scheduling.booking_links", participant_id=participant_id))


# --- Topic guides ----------------------------------------------------------------------------


@blueprint.route("/roles/<int:role_id>/topic-guide", methods=["GET", "POST"])
@coordinator_required
def topic_guide(role_id: int):
    role = db.session.get(Role, role_id)
    if role is None:
        abort(404)
    guide = services.topic_guide_for_role(role.id)
    form = TopicGuideForm(obj=guide)
    if form.validate_on_submit():
        services.save_topic_guide(role, form.title.data, form.url.data)
        flash("Topic guide saved; interviewers' invitations will carry it.", "success")
        return redirect(url_for("scheduling.topic_guide", role_id=role.id))
    status = 422 if request.method == "POST" else 200
    return render_template("scheduling/topic_guide.html", form=form, role=role, guide=guide), status


@blueprint.post("/roles/<int:role_id>/topic-guide/remove")
@coordinator_required
def remove_topic_guide(role_id: int):
    role = db.session.get(Role, role_id)
    if role is None:
        abort(404)
    services.save_topic_guide(role, "", "")
    flash("Topic guide removed.", "success")
    return redirect(url_for("scheduling.topic_guide", role_id=role.id))
