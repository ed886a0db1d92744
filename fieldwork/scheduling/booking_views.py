"""The coordinator's booking form: an interviewer's free slots, or a typed time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

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

from fieldwork.accounts.access import coordinator_required
from fieldwork.accounts.models import User
from fieldwork.accounts.services import get_user
from fieldwork.core.studies import require_study
from fieldwork.core.time import local, now_utc, zone_label
from fieldwork.outbox import services as outbox
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import Study
from fieldwork.scheduling import availability
from fieldwork.scheduling import slots as slot_service
from fieldwork.scheduling.booking import (
    book_appointment,
)
from fieldwork.scheduling.checks import MAX_MINUTES, MAX_TRAVEL_MINUTES, BookingRequest
from fieldwork.scheduling.errors import NeedsConfirmation, SchedulingError
from fieldwork.scheduling.forms import (
    AppointmentForm,
)
from fieldwork.scheduling.models import AppointmentMode
from fieldwork.scheduling.views import blueprint, interviewer_or_error, people_choices, start_from


def _request_from(form: AppointmentForm, starts_at: dt.datetime) -> BookingRequest:
    """The booking the form asks for; only the fields of its mode are kept (a telephone
    interview has no address, a video call no place, travel only in person)."""
    mode = AppointmentMode(form.mode.data)
    return BookingRequest(
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
    if not minutes or not 5 <= minutes <= MAX_MINUTES:
        minutes = study.interview_minutes
    travel = 0
    if form.mode.data == AppointmentMode.IN_PERSON.value:
        travel = max(form.travel_minutes_before.data or 0, form.travel_minutes_after.data or 0)
        travel = min(max(travel, 0), MAX_TRAVEL_MINUTES)
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
    user = get_user(raw)
    return user if user is not None and user.is_enabled else None


def _participant_to_book(study: Study):
    """The participant named by ?participant=, of this study; a redirect when none is named."""
    raw = request.args.get("participant", "")
    if not raw:
        flash(
            "Choose the participant to book, then use “Book an interview” on their page.",
            "info",
        )
        return None, redirect(url_for("sampling.participants"))
    participant = sampling.get_participant(int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if participant is None or participant.study_id != study.id:
        abort(404, "Choose a participant of this study first (from their page).")
    return participant, None


def _book_from_form(form: AppointmentForm, study: Study, participant) -> tuple[Any, list[str]]:
    """Book what the valid form asks for: (the appointment, []) or (None, warnings to confirm);
    refusals land on the form's fields."""
    interviewer = interviewer_or_error(form.interviewer_id)
    starts_at = form.chosen_slot() if form.slot.data else start_from(form, study.timezone)
    time_field = form.slot if form.slot.data else form.starts_time
    if not (interviewer and starts_at):
        return None, []
    try:
        booked = book_appointment(
            study,
            participant,
            interviewer,
            _request_from(form, starts_at),
            current_user,
            confirmed=form.confirm.data,
            already_took_place=form.already_took_place.data,
        )
    except NeedsConfirmation as warning:
        form.confirm.errors = ["Tick “Book anyway” to book despite the warning."]
        return None, warning.warnings
    except SchedulingError as error:
        time_field.errors = [*time_field.errors, str(error)]
        return None, []
    return booked, []


@blueprint.route("/appointments/new", methods=["GET", "POST"])
@coordinator_required
def new_appointment():
    """Book from the interviewer's free slots or at a typed time; "Show free times" (a
    submit button, clicked by script when the interviewer changes) reloads the slots."""
    study = require_study()
    participant, elsewhere = _participant_to_book(study)
    if elsewhere is not None:
        return elsewhere
    form = AppointmentForm()
    form.interviewer_id.choices = people_choices()
    if request.method == "GET":
        form.minutes.data = study.interview_minutes
        if participant.interviewer_id:
            form.interviewer_id.data = participant.interviewer_id
    showing_slots = request.method == "POST" and "show_slots" in request.form
    interviewer = _chosen_person(form.interviewer_id.data)
    slot_days = _offer_slots(form, study, participant, interviewer)
    warnings: list[str] = []
    if not showing_slots and form.validate_on_submit():
        started = now_utc()
        booked, warnings = _book_from_form(form, study, participant)
        if booked is not None:
            if form.already_took_place.data:
                flash("Interview recorded; no invitations were sent.", "success")
            else:
                flash("Interview booked. " + outbox.describe_queued(booked.id, started), "success")
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
