"""Appointments, availability and booking links as the API answers and takes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from fieldwork.api.schemas import (
    Arguments,
    Choice,
    EmptyFiltersPageArguments,
    ErrorDetail,
    Id,
    Resource,
    RowId,
    StrictBoolean,
    UtcDateTime,
    WholeNumber,
    page_of,
)
from fieldwork.sampling.queries import MAX_SLUG_LENGTH
from fieldwork.sampling.schemas import ParticipantReference, Reference
from fieldwork.scheduling.checks import MAX_MINUTES, MAX_TRAVEL_MINUTES
from fieldwork.scheduling.links import BOOKING_LINK_DAYS
from fieldwork.scheduling.models import Appointment as AppointmentRow
from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus

#: The longest range of days the availability endpoint covers.
MAX_AVAILABILITY_DAYS = 62
_UTC = {"description": "UTC."}

# --- Answers ---------------------------------------------------------------------------------


class Appointment(Resource):
    """An interview booked with a participant; times in UTC, with the zone it was booked in."""

    id = Id()
    study = fields.String(attribute="study.slug", metadata={"description": "The study's slug."})
    participant = fields.Nested(ParticipantReference)
    interviewer = fields.Nested(Reference)
    starts_at = UtcDateTime(metadata=_UTC)
    ends_at = UtcDateTime(metadata=_UTC)
    timezone = fields.String(metadata={"description": "IANA zone it was booked in."})
    minutes = fields.Integer()
    mode = Choice(AppointmentMode)
    location = fields.String()
    video_link = fields.String()
    notes = fields.String()
    travel_minutes_before = fields.Integer()
    travel_minutes_after = fields.Integer()
    status = Choice(AppointmentStatus)
    ical_uid = fields.String(metadata={"description": "Stable iCalendar UID."})
    sequence = fields.Integer(metadata={"description": "iCalendar SEQUENCE."})
    cancel_reason = fields.String()
    actual_minutes = fields.Integer(allow_none=True)
    is_recorded = fields.Boolean(allow_none=True)
    url = fields.Method("page_url", metadata={"type": "string", "format": "uri"})
    ics_url = fields.Method("calendar_url", metadata={"type": "string", "format": "uri"})

    def page_url(self, appointment: AppointmentRow) -> str:
        return url_for("scheduling.appointment", appointment_id=appointment.id, _external=True)

    def calendar_url(self, appointment: AppointmentRow) -> str:
        return url_for("scheduling.appointment_ics", appointment_id=appointment.id, _external=True)


AppointmentPage = page_of(Appointment)


class BookingLink(Resource):
    """A private self-booking link; its URL is shown only in this answer."""

    id = Id()
    participant_id = Id()
    interviewer_id = Id()
    url = fields.String(metadata={"format": "uri"})
    expires_at = UtcDateTime(metadata=_UTC)
    mode = Choice(AppointmentMode)
    sent = fields.Boolean(metadata={"description": "Emailed to the participant too."})


class AvailabilityWindow(Resource):
    """A weekly window of free time, in its own zone."""

    id = Id()
    weekday = fields.Integer(metadata={"description": "0 is Monday."})
    starts_time = fields.Time(format="%H:%M")
    ends_time = fields.Time(format="%H:%M")
    timezone = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class BusyTime(Resource):
    """A time the interviewer is occupied (booked, travelling or busy in their calendar)."""

    starts_at = UtcDateTime(metadata=_UTC)
    ends_at = UtcDateTime(metadata=_UTC)


class Availability(Resource):
    """An interviewer's weekly windows, occupied times and free slots over a range."""

    interviewer = fields.Nested(Reference)
    starts_at = UtcDateTime(metadata=_UTC)
    ends_at = UtcDateTime(metadata=_UTC)
    windows = fields.List(fields.Nested(AvailabilityWindow))
    busy = fields.List(fields.Nested(BusyTime))
    free_slots = fields.List(UtcDateTime(), metadata={"description": "Start times, UTC."})


class BookingErrorDetail(ErrorDetail):
    """What went wrong with a booking, and what confirming would override."""

    warnings = fields.List(
        fields.String(),
        metadata={"description": 'Send "confirm": true to book despite these (may be empty).'},
    )


class BookingConflict(Resource):
    """A booking refused (409): a clash, or warnings to confirm; nothing was changed."""

    error = fields.Nested(BookingErrorDetail)


# --- Arguments and bodies --------------------------------------------------------------------


class OffsetDateTime(fields.Field):
    """An ISO 8601 date-time with its offset, read as UTC; a time without an offset is
    ambiguous and refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ma.ValidationError(
                "Required: an ISO 8601 date-time with an offset, e.g. 2026-03-30T10:00+01:00."
            )
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError(
                "Not an ISO 8601 date-time, e.g. 2026-03-30T10:00+01:00."
            ) from None
        if parsed.tzinfo is None:
            raise ma.ValidationError(
                "Give the offset (e.g. +01:00 or Z): a time without one is ambiguous."
            )
        if not 2000 <= parsed.year <= 2100:
            raise ma.ValidationError("Give a year between 2000 and 2100.")
        return parsed.astimezone(dt.UTC)


def _text(maximum: int, **kwargs: Any) -> fields.String:
    return fields.String(
        load_default="",
        validate=[
            validate.Length(max=maximum, error="Give text of at most {max} characters."),
            validate.Regexp("^[^\\x00]*$", error="Give text without NUL characters."),
        ],
        **kwargs,
    )


def _web_address() -> fields.String:
    return fields.String(
        load_default="",
        validate=[
            validate.Length(max=2000, error="Give text of at most {max} characters."),
            validate.Regexp(
                "^(|[Hh][Tt][Tt][Pp][Ss]?://.*)$", error="Give an http or https address."
            ),
        ],
    )


def _minutes(minimum: int, maximum: int, **kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(
            min=minimum, max=maximum, error="Give a whole number from {min} to {max}."
        ),
        **kwargs,
    )


_CONFIRM = {"description": "Book despite warnings (outside windows, busy)."}


class NewAppointment(Arguments):
    """A booking."""

    participant_id = RowId(required=True)
    interviewer_id = RowId(required=True)
    starts_at = OffsetDateTime(
        required=True, metadata={"description": "With an offset, e.g. 2026-03-30T10:00+01:00."}
    )
    mode = Choice(AppointmentMode, load_default=AppointmentMode.TELEPHONE)
    location = _text(500, metadata={"description": "Required for an in-person interview."})
    video_link = _web_address()
    notes = _text(4000)
    travel_minutes_before = _minutes(0, MAX_TRAVEL_MINUTES, load_default=0)
    travel_minutes_after = _minutes(0, MAX_TRAVEL_MINUTES, load_default=0)
    minutes = _minutes(5, MAX_MINUTES, metadata={"description": "Default: the study's length."})
    confirm = StrictBoolean(load_default=False, metadata=_CONFIRM)


class Reschedule(Arguments):
    """A new start (and length) for an appointment."""

    starts_at = OffsetDateTime(required=True)
    minutes = _minutes(5, MAX_MINUTES, metadata={"description": "Default: unchanged."})
    confirm = StrictBoolean(load_default=False, metadata=_CONFIRM)


class Cancellation(Arguments):
    """Why an appointment is cancelled (optional)."""

    reason = _text(1000)


class NewBookingLink(Arguments):
    """A self-booking link's options."""

    interviewer_id = RowId(
        metadata={"description": "Whose free time it offers; default: the assigned one."}
    )
    mode = Choice(AppointmentMode, load_default=AppointmentMode.TELEPHONE)
    location = _text(500)
    video_link = _web_address()
    travel_minutes = _minutes(0, MAX_TRAVEL_MINUTES, load_default=0)
    days = _minutes(1, 90, load_default=BOOKING_LINK_DAYS)
    send = StrictBoolean(load_default=False, metadata={"description": "Email it."})


class AppointmentArguments(EmptyFiltersPageArguments):
    interviewer = WholeNumber(metadata={"description": "Only this interviewer's, by user id."})
    participant = WholeNumber(metadata={"description": "Only this participant's, by id."})
    status = Choice(AppointmentStatus, metadata={"description": "Only this status."})
    from_ = fields.Date(data_key="from", metadata={"description": "From this day (YYYY-MM-DD)."})
    to = fields.Date(metadata={"description": "Up to this day (YYYY-MM-DD)."})


class AppointmentStudyArguments(AppointmentArguments):
    """The deprecated /appointments list: the study by `?study=`, or every study."""

    study = fields.String(
        validate=validate.Length(min=1, max=MAX_SLUG_LENGTH),
        metadata={"description": "Only this study, by slug."},
    )


class AvailabilityArguments(Arguments):
    interviewer = WholeNumber(required=True, metadata={"description": "The interviewer's id."})
    from_ = fields.Date(data_key="from", metadata={"description": "First day; default today."})
    days = WholeNumber(maximum=MAX_AVAILABILITY_DAYS, load_default=28)
    minutes = WholeNumber(minimum=5, maximum=MAX_MINUTES, load_default=60)
