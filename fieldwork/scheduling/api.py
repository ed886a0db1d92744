"""JSON API for appointments and availability, under /api/v1 (blueprint `scheduling_api`).

Reads work with a bearer token or a logged-in session; writes need a bearer token (401
otherwise) and a coordinator (403), so the blueprint is exempt from CSRF: a browser cannot
send the Authorization header cross-site. Interviewers read only their own appointments (404
for others'). Bad input answers 400 with a message per field; a clash answers 409 naming it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, jsonify, request, url_for
from flask_login import current_user

from fieldwork.accounts.models import User
from fieldwork.api.blueprint import BASE_PATH
from fieldwork.api.services import ParameterError, parse_page_request
from fieldwork.core.pagination import paginate
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling import appointments, availability, booking, links
from fieldwork.scheduling.checks import MAX_MINUTES, MAX_TRAVEL_MINUTES, BookingRequest
from fieldwork.scheduling.errors import ClashError, NeedsConfirmation, SchedulingError
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus

blueprint = Blueprint("scheduling_api", __name__, url_prefix=BASE_PATH)

MAX_AVAILABILITY_DAYS = 62


class FieldErrors(Exception):
    """Bad JSON input: a message per field."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _error(code: int, message: str, **extra: Any):
    response = jsonify(error={"code": code, "message": message, **extra})
    response.status_code = code
    return response


@blueprint.errorhandler(FieldErrors)
def field_errors(error: FieldErrors):
    return _error(400, "The request has invalid fields.", fields=error.fields)


@blueprint.errorhandler(ParameterError)
def bad_parameter(error: ParameterError):
    return _error(400, str(error))


def _require_writer() -> User:
    """Writes need a bearer token (not a session cookie) and a coordinator."""
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        abort(401, "Send a bearer token to change appointments.")
    if not current_user.is_authenticated:
        abort(401, "Send a valid bearer token.")
    if not current_user.is_coordinator:
        abort(403, "Only coordinators can book, move or cancel appointments.")
    return current_user._get_current_object()


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise FieldErrors({"body": "Send a JSON object (Content-Type: application/json)."})
    return data


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def serialize(appointment: Appointment) -> dict:
    """One appointment; times in UTC, with the zone it was booked in."""
    return {
        "id": appointment.id,
        "study": appointment.study.slug,
        "participant": {
            "id": appointment.participant.id,
            "reference": appointment.participant.reference,
        },
        "interviewer": {"id": appointment.interviewer.id, "name": appointment.interviewer.name},
        "starts_at": _iso(appointment.starts_at),
        "ends_at": _iso(appointment.ends_at),
        "timezone": appointment.timezone,
        "minutes": appointment.minutes,
        "mode": appointment.mode.value,
        "location": appointment.location,
        "video_link": appointment.video_link,
        "notes": appointment.notes,
        "travel_minutes_before": appointment.travel_minutes_before,
        "travel_minutes_after": appointment.travel_minutes_after,
        "status": appointment.status.value,
        "ical_uid": appointment.ical_uid,
        "sequence": appointment.sequence,
        "cancel_reason": appointment.cancel_reason,
        "actual_minutes": appointment.actual_minutes,
        "is_recorded": appointment.is_recorded,
        "url": url_for("scheduling.appointment", appointment_id=appointment.id, _external=True),
        "ics_url": url_for(
            "scheduling.appointment_ics", appointment_id=appointment.id, _external=True
        ),
    }


def _int(
    data: dict,
    name: str,
    errors: dict,
    *,
    required: bool = False,
    minimum: int = 0,
    maximum: int = 2**31 - 1,
    default: int | None = None,
) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = "Required."
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        errors[name] = f"Give a whole number from {minimum} to {maximum}."
        return None
    return value


def _text(data: dict, name: str, errors: dict, maximum: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > maximum or "\x00" in value:
        errors[name] = f"Give text of at most {maximum} characters."
        return ""
    return value


def _datetime(data: dict, name: str, errors: dict) -> dt.datetime | None:
    value = data.get(name)
    if not isinstance(value, str) or len(value) > 40:
        errors[name] = (
            "Required: an ISO 8601 date-time with an offset, e.g. 2026-03-30T10:00+01:00."
        )
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors[name] = "Not an ISO 8601 date-time, e.g. 2026-03-30T10:00+01:00."
        return None
    if parsed.tzinfo is None:
        errors[name] = "Give the offset (e.g. +01:00 or Z): a time without one is ambiguous."
        return None
    if not 2000 <= parsed.year <= 2100:
        errors[name] = "Give a year between 2000 and 2100."
        return None
    return parsed.astimezone(dt.UTC)


def _bool(data: dict, name: str, errors: dict) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        errors[name] = "Give true or false."
        return False
    return value


def _scheduling_error(error: SchedulingError):
    if isinstance(error, NeedsConfirmation):
        return _error(
            409, error.args[0] + ' Send "confirm": true to book anyway.', warnings=error.warnings
        )
    if isinstance(error, ClashError):
        return _error(409, str(error))
    return _error(422, str(error))


def _appointment_or_404(appointment_id: int) -> Appointment:
    appointment = appointments.get_appointment(appointment_id, current_user)
    if appointment is None:
        abort(404, "There is no appointment with that id.")
    return appointment


@blueprint.get("/appointments")
def list_appointments():
    args = request.args
    errors: dict[str, str] = {}
    filters = appointments.AppointmentFilters()
    for name in ("interviewer", "participant"):
        raw = args.get(name)
        if raw:
            if not raw.isdigit() or len(raw) > 10:
                errors[name] = "Give an id."
            else:
                setattr(filters, f"{name}_id", int(raw))
    if args.get("status"):
        try:
            filters.status = AppointmentStatus(args["status"])
        except ValueError:
            errors["status"] = "One of " + ", ".join(s.value for s in AppointmentStatus) + "."
    for name, attribute in (("from", "from_date"), ("to", "to_date")):
        if args.get(name):
            try:
                setattr(filters, attribute, dt.date.fromisoformat(args[name]))
            except ValueError:
                errors[name] = "Give a date as YYYY-MM-DD."
    study = db.session.scalar(db.select(Study).where(Study.slug == args.get("study", "")))
    if args.get("study") and study is None:
        errors["study"] = "No study has that slug."
    if errors:
        raise FieldErrors(errors)
    paging = parse_page_request(args)
    statement = appointments.appointment_query_all(study, filters, current_user)
    page = paginate(statement, paging.page, paging.per_page)
    return jsonify(
        items=[serialize(a) for a in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
    )


@blueprint.get("/appointments/<int:appointment_id>")
def get_appointment(appointment_id: int):
    return jsonify(serialize(_appointment_or_404(appointment_id)))


@blueprint.post("/appointments")
def create_appointment():
    actor = _require_writer()
    data = _body()
    errors: dict[str, str] = {}
    participant_id = _int(data, "participant_id", errors, required=True, minimum=1)
    interviewer_id = _int(data, "interviewer_id", errors, required=True, minimum=1)
    starts_at = _datetime(data, "starts_at", errors)
    mode_raw = data.get("mode", AppointmentMode.TELEPHONE.value)
    try:
        mode = AppointmentMode(mode_raw)
    except ValueError:
        errors["mode"] = "One of " + ", ".join(m.value for m in AppointmentMode) + "."
        mode = AppointmentMode.TELEPHONE
    location = _text(data, "location", errors, 500)
    video_link = _text(data, "video_link", errors, 2000)
    if video_link and not video_link.lower().startswith(("http://", "https://")):
        errors["video_link"] = "Give an http or https address."
    notes = _text(data, "notes", errors, 4000)
    travel_before = _int(
        data, "travel_minutes_before", errors, maximum=MAX_TRAVEL_MINUTES, default=0
    )
    travel_after = _int(data, "travel_minutes_after", errors, maximum=MAX_TRAVEL_MINUTES, default=0)
    minutes = _int(data, "minutes", errors, minimum=5, maximum=MAX_MINUTES)
    confirm = _bool(data, "confirm", errors)
    participant = db.session.get(Participant, participant_id) if participant_id else None
    interviewer = db.session.get(User, interviewer_id) if interviewer_id else None
    if participant_id and participant is None:
        errors["participant_id"] = "No participant has that id."
    if interviewer_id and (interviewer is None or not interviewer.is_enabled):
        errors["interviewer_id"] = "No active user has that id."
    if mode == AppointmentMode.IN_PERSON and not location.strip() and "location" not in errors:
        errors["location"] = "Give the place for an in-person interview."
    if errors:
        raise FieldErrors(errors)
    study = db.session.get(Study, participant.study_id)
    request_ = BookingRequest(
        starts_at=starts_at,
        minutes=minutes or study.interview_minutes,
        mode=mode,
        location=location,
        video_link=video_link,
        notes=notes,
        travel_minutes_before=travel_before or 0,
        travel_minutes_after=travel_after or 0,
    )
    try:
        appointment = booking.book_appointment(
            study, participant, interviewer, request_, actor, confirmed=confirm
        )
    except SchedulingError as error:
        return _scheduling_error(error)
    response = jsonify(serialize(appointments.get_appointment(appointment.id)))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "scheduling_api.get_appointment", appointment_id=appointment.id, _external=True
    )
    return response


@blueprint.post("/appointments/<int:appointment_id>/reschedule")
def reschedule_appointment(appointment_id: int):
    actor = _require_writer()
    appointment = _appointment_or_404(appointment_id)
    data = _body()
    errors: dict[str, str] = {}
    starts_at = _datetime(data, "starts_at", errors)
    minutes = _int(data, "minutes", errors, minimum=5, maximum=MAX_MINUTES)
    confirm = _bool(data, "confirm", errors)
    if errors:
        raise FieldErrors(errors)
    try:
        booking.reschedule_appointment(
            appointment, starts_at, minutes or appointment.minutes, actor, confirmed=confirm
        )
    except SchedulingError as error:
        return _scheduling_error(error)
    return jsonify(serialize(appointments.get_appointment(appointment_id)))


@blueprint.post("/appointments/<int:appointment_id>/cancel")
def cancel_appointment(appointment_id: int):
    actor = _require_writer()
    appointment = _appointment_or_404(appointment_id)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise FieldErrors({"body": "Send a JSON object."})
    errors: dict[str, str] = {}
    reason = _text(data, "reason", errors, 1000)
    if errors:
        raise FieldErrors(errors)
    try:
        booking.cancel_appointment(appointment, reason, actor)
    except SchedulingError as error:
        return _scheduling_error(error)
    return jsonify(serialize(appointments.get_appointment(appointment_id)))


@blueprint.post("/participants/<int:participant_id>/booking-links")
def create_booking_link(participant_id: int):
    """A private self-booking link for a participant: its URL (shown once) and expiry;
    `"send": true` also emails it to the participant through the outbox."""
    actor = _require_writer()
    participant = db.session.get(Participant, participant_id)
    if participant is None:
        abort(404, "There is no participant with that id.")
    data = request.get_json(silent=True)
    if data is None and not request.get_data():
        data = {}
    if not isinstance(data, dict):
        raise FieldErrors({"body": "Send a JSON object (Content-Type: application/json)."})
    errors: dict[str, str] = {}
    interviewer_id = _int(data, "interviewer_id", errors, minimum=1)
    interviewer_id = interviewer_id or participant.interviewer_id
    interviewer = db.session.get(User, interviewer_id) if interviewer_id else None
    if interviewer is None or not interviewer.is_enabled:
        errors.setdefault(
            "interviewer_id", "Give an active interviewer (the participant has none assigned)."
        )
    mode_raw = data.get("mode", AppointmentMode.TELEPHONE.value)
    try:
        mode = AppointmentMode(mode_raw)
    except ValueError:
        errors["mode"] = "One of " + ", ".join(m.value for m in AppointmentMode) + "."
        mode = AppointmentMode.TELEPHONE
    location = _text(data, "location", errors, 500)
    video_link = _text(data, "video_link", errors, 2000)
    if video_link and not video_link.lower().startswith(("http://", "https://")):
        errors["video_link"] = "Give an http or https address."
    travel = _int(data, "travel_minutes", errors, maximum=MAX_TRAVEL_MINUTES, default=0)
    days = _int(data, "days", errors, minimum=1, maximum=90, default=links.BOOKING_LINK_DAYS)
    send = _bool(data, "send", errors)
    if send and not participant.email:
        errors["send"] = "The participant has no email address to send the link to."
    if errors:
        raise FieldErrors(errors)
    options = {
        "mode": mode,
        "location": location,
        "video_link": video_link,
        "travel_minutes": travel or 0,
        "days": days,
    }

    def url_of(token: str) -> str:
        return url_for("feeds.self_booking", token=token, _external=True)

    try:
        if send:
            link, token = links.send_booking_link(
                participant, interviewer, actor, url_of, **options
            )
        else:
            link, token = links.create_booking_link(participant, interviewer, actor, **options)
            db.session.commit()
    except SchedulingError as error:
        db.session.rollback()
        return _scheduling_error(error)
    response = jsonify(
        id=link.id,
        participant_id=participant.id,
        interviewer_id=interviewer.id,
        url=url_of(token),
        expires_at=_iso(link.expires_at),
        mode=link.mode.value,
        sent=send,
    )
    response.status_code = 201
    return response


@blueprint.get("/availability")
def get_availability():
    """An interviewer's weekly windows, occupied times and free slots over a range."""
    args = request.args
    errors: dict[str, str] = {}
    raw = args.get("interviewer", "")
    interviewer = None
    if not raw.isdigit() or len(raw) > 10:
        errors["interviewer"] = "Required: the interviewer's user id."
    else:
        interviewer = db.session.get(User, int(raw))
        if interviewer is None or (
            not current_user.is_coordinator and interviewer.id != current_user.id
        ):
            abort(404, "There is no interviewer with that id.")
    try:
        first = dt.date.fromisoformat(args["from"]) if args.get("from") else None
    except ValueError:
        errors["from"] = "Give a date as YYYY-MM-DD."
        first = None
    days_raw = args.get("days", "28")
    days = int(days_raw) if days_raw.isdigit() and len(days_raw) < 4 else 0
    if not 1 <= days <= MAX_AVAILABILITY_DAYS:
        errors["days"] = f"Give a number of days from 1 to {MAX_AVAILABILITY_DAYS}."
    minutes_raw = args.get("minutes", "60")
    minutes = int(minutes_raw) if minutes_raw.isdigit() and len(minutes_raw) < 4 else 0
    if not 5 <= minutes <= MAX_MINUTES:
        errors["minutes"] = f"Give a length from 5 to {MAX_MINUTES} minutes."
    if errors:
        raise FieldErrors(errors)
    starts_at = dt.datetime.combine(first, dt.time(), dt.UTC) if first else now_utc()
    ends_at = starts_at + dt.timedelta(days=days)
    windows = availability.windows_of(interviewer.id)
    busy, _ = availability.occupied_intervals(interviewer.id, None, starts_at, ends_at)
    return jsonify(
        interviewer={"id": interviewer.id, "name": interviewer.name},
        starts_at=_iso(starts_at),
        ends_at=_iso(ends_at),
        windows=[
            {
                "id": w.id,
                "weekday": w.weekday,
                "starts_time": w.starts_time.strftime("%H:%M"),
                "ends_time": w.ends_time.strftime("%H:%M"),
                "timezone": w.timezone,
                "valid_from": w.valid_from.isoformat() if w.valid_from else None,
                "valid_until": w.valid_until.isoformat() if w.valid_until else None,
            }
            for w in windows
        ],
        busy=[{"starts_at": _iso(a), "ends_at": _iso(b)} for a, b in sorted(busy)],
        free_slots=[
            _iso(slot)
            for slot in availability.free_slots(
                interviewer.id, None, minutes, 0, starts_at, ends_at
            )
        ],
    )


# --- OpenAPI ---------------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict:
    described = {
        "400": ("SchedulingFieldErrors", "Invalid input; `fields` names each bad field."),
        "401": ("SchedulingError", "No credentials; writes need a bearer token."),
        "403": ("SchedulingError", "Only coordinators may change appointments."),
        "404": ("SchedulingError", "No such appointment, or not one the caller may see."),
        "409": ("SchedulingError", "A clash (the message names it), or warnings to confirm."),
        "422": ("SchedulingError", "The change is not allowed (e.g. already cancelled)."),
    }
    return {code: _json(_ref(described[code][0]), described[code][1]) for code in codes}


def openapi_schemas() -> dict:
    """Schemas the lead merges into components.schemas."""
    nullable_int = {"type": ["integer", "null"]}
    error = {
        "type": "object",
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["code", "message"],
    }
    return {
        "SchedulingError": {
            "type": "object",
            "properties": {"error": error},
            "required": ["error"],
        },
        "SchedulingFieldErrors": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    "required": ["code", "message"],
                }
            },
            "required": ["error"],
        },
        "Appointment": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "id": {"type": "integer"},
                "study": {"type": "string", "description": "The study's slug."},
                "participant": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "reference": {"type": "string"}},
                },
                "interviewer": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                },
                "starts_at": {"type": "string", "format": "date-time", "description": "UTC."},
                "ends_at": {"type": "string", "format": "date-time", "description": "UTC."},
                "timezone": {"type": "string", "description": "IANA zone it was booked in."},
                "minutes": {"type": "integer"},
                "mode": {"type": "string", "enum": [m.value for m in AppointmentMode]},
                "location": {"type": "string"},
                "video_link": {"type": "string"},
                "notes": {"type": "string"},
                "travel_minutes_before": {"type": "integer"},
                "travel_minutes_after": {"type": "integer"},
                "status": {"type": "string", "enum": [s.value for s in AppointmentStatus]},
                "ical_uid": {"type": "string", "description": "Stable iCalendar UID."},
                "sequence": {"type": "integer", "description": "iCalendar SEQUENCE."},
                "cancel_reason": {"type": "string"},
                "actual_minutes": nullable_int,
                "is_recorded": {"type": ["boolean", "null"]},
                "url": {"type": "string", "format": "uri"},
                "ics_url": {"type": "string", "format": "uri"},
            },
        },
        "AppointmentList": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref("Appointment")},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {"type": "integer"},
                "pages": {"type": "integer"},
            },
        },
        "NewAppointment": {
            "type": "object",
            "required": ["participant_id", "interviewer_id", "starts_at"],
            "properties": {
                "participant_id": {"type": "integer"},
                "interviewer_id": {"type": "integer"},
                "starts_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "With an offset, e.g. 2026-03-30T10:00+01:00.",
                },
                "minutes": {"type": "integer", "description": "Default: the study's length."},
                "mode": {
                    "type": "string",
                    "enum": [m.value for m in AppointmentMode],
                    "default": "telephone",
                },
                "location": {"type": "string"},
                "video_link": {"type": "string"},
                "notes": {"type": "string"},
                "travel_minutes_before": {"type": "integer"},
                "travel_minutes_after": {"type": "integer"},
                "confirm": {
                    "type": "boolean",
                    "description": "Book despite warnings (outside windows, busy).",
                },
            },
        },
        "Reschedule": {
            "type": "object",
            "required": ["starts_at"],
            "properties": {
                "starts_at": {"type": "string", "format": "date-time"},
                "minutes": {"type": "integer"},
                "confirm": {"type": "boolean"},
            },
        },
        "Cancellation": {"type": "object", "properties": {"reason": {"type": "string"}}},
        "NewBookingLink": {
            "type": "object",
            "properties": {
                "interviewer_id": {
                    "type": "integer",
                    "description": "Whose free time it offers; default: the assigned one.",
                },
                "mode": {"type": "string", "enum": [m.value for m in AppointmentMode]},
                "location": {"type": "string", "maxLength": 500},
                "video_link": {"type": "string", "maxLength": 2000},
                "travel_minutes": {"type": "integer", "minimum": 0},
                "days": {"type": "integer", "minimum": 1, "maximum": 90},
                "send": {"type": "boolean", "description": "Email the link too."},
            },
        },
        "BookingLink": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "participant_id": {"type": "integer"},
                "interviewer_id": {"type": "integer"},
                "url": {"type": "string", "format": "uri"},
                "expires_at": {"type": "string", "format": "date-time"},
                "mode": {"type": "string"},
                "sent": {"type": "boolean"},
            },
            "required": ["id", "url", "expires_at", "sent"],
        },
        "Availability": {
            "type": "object",
            "properties": {
                "interviewer": {"type": "object"},
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
                "windows": {"type": "array", "items": {"type": "object"}},
                "busy": {"type": "array", "items": {"type": "object"}},
                "free_slots": {"type": "array", "items": {"type": "string", "format": "date-time"}},
            },
        },
    }


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_ID_PATH = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
    "description": "The appointment's id.",
}


def openapi_paths() -> dict:
    """Paths (relative to /api/v1) the lead merges into the document's paths."""

    def body(name: str) -> dict:
        return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}

    return {
        "/appointments": {
            "get": {
                "operationId": "listAppointments",
                "tags": ["Appointments"],
                "summary": "List appointments",
                "description": "Soonest first. Interviewers see only their own.",
                "parameters": [
                    _query("study", {"type": "string"}, "A study's slug."),
                    _query("interviewer", {"type": "integer"}, "By user id."),
                    _query("participant", {"type": "integer"}, "By participant id."),
                    _query(
                        "status",
                        {"type": "string", "enum": [s.value for s in AppointmentStatus]},
                        "Status.",
                    ),
                    _query("from", {"type": "string", "format": "date"}, "From this date."),
                    _query("to", {"type": "string", "format": "date"}, "Until this date."),
                    _query("page", {"type": "integer", "minimum": 1}, "Page number."),
                    _query("per_page", {"type": "integer", "minimum": 1}, "Items per page."),
                ],
                "responses": {
                    "200": _json(_ref("AppointmentList"), "A page."),
                    **_errors("400", "401"),
                },
            },
            "post": {
                "operationId": "createAppointment",
                "tags": ["Appointments"],
                "summary": "Book an interview",
                "description": "Sends invitations. Bearer token of a coordinator required.",
                "requestBody": body("NewAppointment"),
                "responses": {
                    "201": _json(_ref("Appointment"), "Booked."),
                    **_errors("400", "401", "403", "409", "422"),
                },
            },
        },
        "/appointments/{id}": {
            "get": {
                "operationId": "getAppointment",
                "tags": ["Appointments"],
                "summary": "Get an appointment",
                "description": "404 for another's appointment.",
                "parameters": [_ID_PATH],
                "responses": {
                    "200": _json(_ref("Appointment"), "The appointment."),
                    **_errors("401", "404"),
                },
            }
        },
        "/appointments/{id}/reschedule": {
            "post": {
                "operationId": "rescheduleAppointment",
                "tags": ["Appointments"],
                "summary": "Move an interview",
                "description": "Same UID, SEQUENCE + 1; updated invitations sent.",
                "parameters": [_ID_PATH],
                "requestBody": body("Reschedule"),
                "responses": {
                    "200": _json(_ref("Appointment"), "Moved."),
                    **_errors("400", "401", "403", "404", "409", "422"),
                },
            }
        },
        "/appointments/{id}/cancel": {
            "post": {
                "operationId": "cancelAppointment",
                "tags": ["Appointments"],
                "summary": "Cancel an interview",
                "description": "METHOD:CANCEL sent to the interviewer and the participant.",
                "parameters": [_ID_PATH],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("Cancellation")}},
                },
                "responses": {
                    "200": _json(_ref("Appointment"), "Cancelled."),
                    **_errors("400", "401", "403", "404", "422"),
                },
            }
        },
        "/participants/{id}/booking-links": {
            "post": {
                "operationId": "createBookingLink",
                "tags": ["Appointments"],
                "summary": "Make a participant's self-booking link",
                "description": (
                    "Answers the link's URL (shown only here) and expiry; with "
                    '"send": true the link is also emailed to the participant. Bearer token '
                    "of a coordinator required."
                ),
                "parameters": [{**_ID_PATH, "description": "The participant's id."}],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("NewBookingLink")}},
                },
                "responses": {
                    "201": _json(_ref("BookingLink"), "The link."),
                    **_errors("400", "401", "403", "404", "422"),
                },
            }
        },
        "/availability": {
            "get": {
                "operationId": "getAvailability",
                "tags": ["Appointments"],
                "summary": "An interviewer's availability",
                "description": "Weekly windows, occupied times and free slots.",
                "parameters": [
                    {
                        "name": "interviewer",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer"},
                        "description": "The user id.",
                    },
                    _query("from", {"type": "string", "format": "date"}, "First day (UTC)."),
                    _query(
                        "days",
                        {"type": "integer", "minimum": 1, "maximum": MAX_AVAILABILITY_DAYS},
                        "How many days.",
                    ),
                    _query("minutes", {"type": "integer"}, "Slot length."),
                ],
                "responses": {
                    "200": _json(_ref("Availability"), "Availability."),
                    **_errors("400", "401", "404"),
                },
            }
        },
    }
