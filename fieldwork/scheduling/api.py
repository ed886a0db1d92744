"""JSON API of appointments, availability and booking links: a study's appointments at
/api/v1/studies/{slug}/appointments (list and book), one at /api/v1/appointments/{id} (read,
reschedule, cancel); /api/v1/appointments (every study or ?study=, and booking there) is
deprecated.

Reads work with a bearer token or a logged-in session; writes need a bearer token (401
otherwise) and a coordinator (403). Interviewers read only their own appointments (404 for
others'). Bad input answers 400 with a message per field; a clash answers 409 naming it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, request, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from fieldwork.accounts.models import User
from fieldwork.accounts.services import get_user
from fieldwork.api.blueprint import ApiBlueprint, ApiError, found, page_of
from fieldwork.api.writes import FieldErrors, InvalidFields
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.sampling.api import study_or_404
from fieldwork.sampling.models import Participant, Study
from fieldwork.sampling.queries import get_study
from fieldwork.sampling.services import get_participant
from fieldwork.scheduling import appointments, availability, booking, links, schemas
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.errors import ClashError, NeedsConfirmation, SchedulingError
from fieldwork.scheduling.models import Appointment, AppointmentMode

blueprint = ApiBlueprint(
    "scheduling_api", __name__, description="Appointments, availability and booking links."
)


def _require_writer() -> User:
    """Writes need a bearer token (not a session cookie) and a coordinator."""
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        abort(401, "Send a bearer token to change appointments.")
    if not current_user.is_authenticated:
        abort(401, "Send a valid bearer token.")
    if not current_user.is_coordinator:
        abort(403, "Only coordinators can book, move or cancel appointments.")
    return current_user._get_current_object()


def _invalid(fields: dict[str, str]) -> InvalidFields:
    return InvalidFields(fields)


def _refused(error: SchedulingError) -> ApiError:
    """A booking the rules refuse: 409 for a clash or warnings to confirm, else 422."""
    if isinstance(error, NeedsConfirmation):
        return ApiError(
            409, error.args[0] + ' Send "confirm": true to book anyway.', warnings=error.warnings
        )
    if isinstance(error, ClashError):
        return ApiError(409, str(error), warnings=[])
    return ApiError(422, str(error))


def _appointment_or_404(appointment_id: int) -> Appointment:
    return found(appointments.get_appointment(appointment_id, current_user), "appointment")


def _writable_appointment(appointment_id: int) -> Appointment:
    _require_writer()
    return _appointment_or_404(appointment_id)


def _writable_participant(participant_id: int) -> Participant:
    _require_writer()
    return found(get_participant(participant_id, current_user), "participant")


def _writable_study(slug: str) -> Study:
    _require_writer()
    return study_or_404(slug)


def _filters(arguments: dict[str, Any]) -> appointments.AppointmentFilters:
    return appointments.AppointmentFilters(
        interviewer_id=arguments.get("interviewer"),
        participant_id=arguments.get("participant"),
        status=arguments.get("status"),
        from_date=arguments.get("from_"),
        to_date=arguments.get("to"),
    )


def _documents_write_errors(func):
    """400 with a message per field, 403, 409 with warnings, 422."""
    func = blueprint.alt_response(400, schema=FieldErrors, description="Invalid fields.")(func)
    func = blueprint.alt_response(403, response="FORBIDDEN")(func)
    func = blueprint.alt_response(
        409, schema=schemas.BookingConflict, description="A clash, or warnings to confirm."
    )(func)
    return blueprint.alt_response(422, response="UNPROCESSABLE_ENTITY")(func)


# --- Appointments ----------------------------------------------------------------------------


@blueprint.get("/studies/<slug>/appointments")
@blueprint.arguments(schemas.AppointmentArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.AppointmentPage)
def list_appointments(slug: str, **arguments: Any) -> dict:
    """List a study's appointments

    Soonest first; dates in UTC. Interviewers see only their own.
    """
    study = study_or_404(slug)
    statement = appointments.appointment_query_all(study, _filters(arguments), current_user)
    return page_of(statement, arguments)


@blueprint.get("/appointments")
@blueprint.deprecated
@blueprint.arguments(schemas.AppointmentStudyArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.AppointmentPage)
def list_appointments_by_query(**arguments: Any) -> dict:
    """List appointments (deprecated path)

    Use /studies/{slug}/appointments. Every study's, or one study's with `?study=`.
    """
    study = None
    if arguments.get("study"):
        study = get_study(arguments["study"])
        if study is None:  # a query argument: the reads' 400, without `fields`
            raise BadRequest("study: no study has that slug.")
    statement = appointments.appointment_query_all(study, _filters(arguments), current_user)
    return page_of(statement, arguments)


@blueprint.get("/appointments/<id:appointment_id>")
@blueprint.response(200, schemas.Appointment)
def get_appointment(appointment_id: int) -> Appointment:
    """Get an appointment

    404 also for another interviewer's appointment.
    """
    return _appointment_or_404(appointment_id)


def _book(study: Study | None, body: dict[str, Any]) -> tuple[Appointment, int, dict[str, str]]:
    """Book from a checked body; the study is the participant's (and must be `study`)."""
    actor = _require_writer()
    participant = get_participant(body["participant_id"], current_user)
    interviewer = get_user(body["interviewer_id"])
    errors: dict[str, str] = {}
    if participant is None or (study is not None and participant.study_id != study.id):
        errors["participant_id"] = "No participant has that id."
    if interviewer is None or not interviewer.is_enabled:
        errors["interviewer_id"] = "No active user has that id."
    if body["mode"] == AppointmentMode.IN_PERSON and not body["location"].strip():
        errors["location"] = "Give the place for an in-person interview."
    if errors:
        raise _invalid(errors)
    assert participant is not None and interviewer is not None  # refused above otherwise
    study = study or participant.study
    details = BookingRequest(
        starts_at=body["starts_at"],
        minutes=body.get("minutes") or study.interview_minutes,
        mode=body["mode"],
        location=body["location"],
        video_link=body["video_link"],
        notes=body["notes"],
        travel_minutes_before=body["travel_minutes_before"],
        travel_minutes_after=body["travel_minutes_after"],
    )
    try:
        appointment = booking.book_appointment(
            study, participant, interviewer, details, actor, confirmed=body["confirm"]
        )
    except SchedulingError as error:
        raise _refused(error) from error
    location = url_for(
        "scheduling_api.get_appointment", appointment_id=appointment.id, _external=True
    )
    return (
        found(appointments.get_appointment(appointment.id), "appointment"),
        201,
        {"Location": location},
    )


@blueprint.post("/studies/<slug>/appointments")
@blueprint.checks_first(_writable_study)
@blueprint.arguments(schemas.NewAppointment)
@blueprint.response(201, schemas.Appointment)
@_documents_write_errors
def create_appointment(body: dict[str, Any], slug: str):
    """Book an appointment

    Needs a coordinator's bearer token. A clash answers 409 naming it; warnings (outside the
    interviewer's windows, busy in their calendar) answer 409 unless `confirm` is true.
    """
    return _book(study_or_404(slug), body)


@blueprint.post("/appointments")
@blueprint.deprecated
@blueprint.checks_first(_require_writer)
@blueprint.arguments(schemas.NewAppointment)
@blueprint.response(201, schemas.Appointment)
@_documents_write_errors
def create_appointment_by_participant(body: dict[str, Any]):
    """Book an appointment (deprecated path)

    Use /studies/{slug}/appointments; here the study is the participant's.
    """
    return _book(None, body)


@blueprint.post("/appointments/<id:appointment_id>/reschedule")
@blueprint.checks_first(_writable_appointment)
@blueprint.arguments(schemas.Reschedule)
@blueprint.response(200, schemas.Appointment)
@_documents_write_errors
def reschedule_appointment(body: dict[str, Any], appointment_id: int) -> Appointment:
    """Move an appointment

    Keeps its iCalendar UID and raises SEQUENCE; invitations go out again.
    """
    actor = _require_writer()
    appointment = _writable_appointment(appointment_id)
    try:
        booking.reschedule_appointment(
            appointment,
            body["starts_at"],
            body.get("minutes") or appointment.minutes,
            actor,
            confirmed=body["confirm"],
        )
    except SchedulingError as error:
        raise _refused(error) from error
    return found(appointments.get_appointment(appointment_id), "appointment")


@blueprint.post("/appointments/<id:appointment_id>/cancel")
@blueprint.checks_first(_writable_appointment)
@blueprint.arguments(schemas.Cancellation, required=False)  # every field has a default
@blueprint.response(200, schemas.Appointment)
@_documents_write_errors
def cancel_appointment(body: dict[str, Any], appointment_id: int) -> Appointment:
    """Cancel an appointment

    Cancellations go out (METHOD:CANCEL); cancelling twice answers 422.
    """
    actor = _require_writer()
    appointment = _appointment_or_404(appointment_id)
    try:
        booking.cancel_appointment(appointment, body["reason"], actor)
    except SchedulingError as error:
        raise _refused(error) from error
    return found(appointments.get_appointment(appointment_id), "appointment")


# --- Booking links ---------------------------------------------------------------------------


@blueprint.post("/participants/<id:participant_id>/booking-links")
@blueprint.checks_first(_writable_participant)
@blueprint.arguments(schemas.NewBookingLink, required=False)  # every field has a default
@blueprint.response(201, schemas.BookingLink)
@_documents_write_errors
def create_booking_link(body: dict[str, Any], participant_id: int) -> dict[str, Any]:
    """Make a booking link

    A private self-booking link for a participant: its URL (shown once) and expiry;
    `"send": true` also emails it to the participant through the outbox.
    """
    actor = _require_writer()
    participant = _writable_participant(participant_id)
    interviewer_id = body.get("interviewer_id") or participant.interviewer_id
    interviewer = get_user(interviewer_id) if interviewer_id else None
    errors: dict[str, str] = {}
    if interviewer is None or not interviewer.is_enabled:
        errors["interviewer_id"] = "Give an active interviewer (the participant has none assigned)."
    if body["send"] and not participant.email:
        errors["send"] = "The participant has no email address to send the link to."
    if errors:
        raise _invalid(errors)
    assert interviewer is not None  # refused above otherwise
    options = {
        "mode": body["mode"],
        "location": body["location"],
        "video_link": body["video_link"],
        "travel_minutes": body["travel_minutes"],
        "days": body["days"],
    }

    def url_of(token: str) -> str:
        return url_for("feeds.self_booking", token=token, _external=True)

    try:
        if body["send"]:  # creates, queues the email and commits, in one transaction
            link, token = links.send_booking_link(
                participant, interviewer, actor, url_of, **options
            )
        else:
            with transaction():
                link, token = links.create_booking_link(participant, interviewer, actor, **options)
    except SchedulingError as error:
        raise _refused(error) from error
    return {
        "id": link.id,
        "participant_id": participant.id,
        "interviewer_id": interviewer.id,
        "url": url_of(token),
        "expires_at": link.expires_at,
        "mode": link.mode,
        "sent": body["send"],
    }


# --- Availability ----------------------------------------------------------------------------


@blueprint.get("/availability")
@blueprint.arguments(schemas.AvailabilityArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.Availability)
@blueprint.alt_response(404, response="NOT_FOUND")
def get_availability(**arguments: Any) -> dict[str, Any]:
    """An interviewer's availability

    Weekly windows, occupied times and free slots over a range (default 28 days from now).
    Interviewers may ask only for their own.
    """
    interviewer = get_user(arguments["interviewer"])
    if interviewer is None or (
        not current_user.is_coordinator and interviewer.id != current_user.id
    ):
        abort(404, "There is no interviewer with that id.")
    first = arguments.get("from_")
    starts_at = dt.datetime.combine(first, dt.time(), dt.UTC) if first else now_utc()
    ends_at = starts_at + dt.timedelta(days=arguments["days"])
    busy, _ = availability.occupied_intervals(interviewer.id, None, starts_at, ends_at)
    return {
        "interviewer": interviewer,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "windows": availability.windows_of(interviewer.id),
        "busy": [{"starts_at": start, "ends_at": end} for start, end in sorted(busy)],
        "free_slots": availability.free_slots(
            interviewer.id, None, arguments["minutes"], 0, starts_at, ends_at
        ),
    }
