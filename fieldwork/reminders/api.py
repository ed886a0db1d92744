"""JSON API for reminders and outbox messages, under /api/v1 (blueprint `reminders_api`).

Read-only and for coordinators only: a message holds participants' names and addresses, so an
interviewer's token answers 403. The stored MIME text is not served; the outbox page shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.api.blueprint import BASE_PATH
from fieldwork.api.services import (
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
    ParameterError,
    parse_page_request,
)
from fieldwork.core.pagination import paginate
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState
from fieldwork.reminders.models import Reminder, ReminderRecipient, ReminderState
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment

blueprint = Blueprint("reminders_api", __name__, url_prefix=BASE_PATH)


def _error(code: int, message: str):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = code
    return response


@blueprint.errorhandler(ParameterError)
def bad_parameter(error: ParameterError):
    return _error(400, str(error))


@blueprint.before_request
def coordinators_only():
    if not current_user.is_authenticated:
        return None  # the login check answers 401 first
    if not current_user.is_coordinator:
        return _error(403, "Only coordinators can read reminders and outbox messages.")
    return None


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _choice(args: Mapping[str, str], name: str, enum_type):
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ParameterError(name, f"must be one of {allowed}.") from None


def _id(args: Mapping[str, str], name: str) -> int | None:
    raw = args.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise ParameterError(name, f"must be a whole number from 1 to {MAX_ID}.")
    return int(text)


def _study(args: Mapping[str, str]) -> Study | None:
    slug = args.get("study")
    if slug is None:
        return None
    study = db.session.scalar(select(Study).where(Study.slug == slug[:60]))
    if study is None:
        raise ParameterError("study", "no study has that slug.")
    return study


def _page_url(number: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(number)
    return request.base_url + "?" + urlencode(args)


def _list(statement, serialize):
    paging = parse_page_request(request.args)
    page = paginate(statement, paging.page, paging.per_page)
    return jsonify(
        items=[serialize(item) for item in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
        next=_page_url(page.page + 1) if page.has_next else None,
        prev=_page_url(page.page - 1) if page.has_prev else None,
    )


def serialize_reminder(reminder: Reminder) -> dict:
    return {
        "id": reminder.id,
        "appointment_id": reminder.appointment_id,
        "study_id": reminder.appointment.study_id,
        "recipient": reminder.recipient.value,
        "offset_minutes": reminder.offset_minutes,
        "due_at": _iso(reminder.due_at),
        "state": reminder.state.value,
        "is_interrupted": reminder.outbox_message is not None
        and outbox.is_interrupted(reminder.outbox_message),
        "attempts": reminder.attempts,
        "last_error": reminder.last_error,
        "message_id": reminder.message_id,
        "outbox_message_id": reminder.outbox_message_id,
        "created_at": _iso(reminder.created_at),
        "settled_at": _iso(reminder.settled_at),
    }


def serialize_message(message: OutboxMessage) -> dict:
    return {
        "id": message.id,
        "study_id": message.study_id,
        "appointment_id": message.appointment_id,
        "kind": message.kind.value,
        "subject": message.subject,
        "sender": message.sender,
        "recipients": message.recipient_list,
        "message_id": message.message_id,
        "state": message.state.value,
        "is_interrupted": outbox.is_interrupted(message),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "due_at": _iso(message.due_at),
        "next_attempt_at": _iso(message.next_attempt_at),
        "claimed_at": _iso(message.claimed_at),
        "sent_at": _iso(message.sent_at),
        "created_at": _iso(message.created_at),
    }


def _reminder_statement():
    return select(Reminder).options(
        joinedload(Reminder.appointment), joinedload(Reminder.outbox_message)
    )


@blueprint.get("/reminders")
def list_reminders():
    args = request.args
    state = _choice(args, "state", ReminderState)
    recipient = _choice(args, "recipient", ReminderRecipient)
    appointment_id = _id(args, "appointment")
    study = _study(args)
    statement = _reminder_statement().order_by(Reminder.due_at.desc(), Reminder.id.desc())
    if state is not None:
        statement = statement.where(Reminder.state == state)
    if recipient is not None:
        statement = statement.where(Reminder.recipient == recipient)
    if appointment_id is not None:
        statement = statement.where(Reminder.appointment_id == appointment_id)
    if study is not None:
        statement = statement.where(
            Reminder.appointment_id.in_(
                select(Appointment.id).where(Appointment.study_id == study.id)
            )
        )
    return _list(statement, serialize_reminder)


@blueprint.get("/reminders/<int:reminder_id>")
def get_reminder(reminder_id: int):
    reminder = (
        db.session.scalars(_reminder_statement().where(Reminder.id == reminder_id))
        .unique()
        .one_or_none()
    )
    if reminder is None:
        abort(404, "There is no reminder with that id.")
    return jsonify(serialize_reminder(reminder))


@blueprint.get("/outbox")
def list_outbox_messages():
    args = request.args
    state = _choice(args, "state", OutboxState)
    kind = _choice(args, "kind", OutboxKind)
    appointment_id = _id(args, "appointment")
    study = _study(args)
    statement = select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    if state is not None:
        statement = statement.where(OutboxMessage.state == state)
    if kind is not None:
        statement = statement.where(OutboxMessage.kind == kind)
    if appointment_id is not None:
        statement = statement.where(OutboxMessage.appointment_id == appointment_id)
    if study is not None:
        statement = statement.where(OutboxMessage.study_id == study.id)
    return _list(statement, serialize_message)


@blueprint.get("/outbox/<int:message_id>")
def get_outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404, "There is no outbox message with that id.")
    return jsonify(serialize_message(message))


# --- OpenAPI ---------------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_TIME = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601."}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time", "description": "UTC."}
_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_PAGING = [
    _query(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        "Page number, from 1.",
    ),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        f"Items per page, 1 to {MAX_PER_PAGE}.",
    ),
]
_STUDY = _query(
    "study", {"type": "string", "minLength": 1, "maxLength": 60}, "Only this study, by slug."
)
_APPOINTMENT = _query("appointment", _ID_SCHEMA, "Only this appointment, by id.")


def _object(properties: dict, description: str) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "description": description,
    }


def _errors(*codes: str) -> dict:
    described = {
        "400": "A query parameter is malformed; the message names it.",
        "401": "Neither a valid bearer token nor a logged-in session.",
        "403": "Only coordinators may read reminders and outbox messages.",
        "404": "No such resource.",
    }
    return {code: _json(_ref("ReminderApiError"), described[code]) for code in codes}


def openapi_schemas() -> dict:
    """Schemas merged into components.schemas."""
    page = {
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "total": {"type": "integer"},
        "pages": {"type": "integer"},
        "next": {"type": ["string", "null"]},
        "prev": {"type": ["string", "null"]},
    }
    return {
        "ReminderApiError": _object(
            {
                "error": _object(
                    {"code": {"type": "integer"}, "message": {"type": "string"}}, "The error."
                )
            },
            "An error answer.",
        ),
        "Reminder": _object(
            {
                "id": {"type": "integer"},
                "appointment_id": {"type": "integer"},
                "study_id": {"type": "integer"},
                "recipient": {"type": "string", "enum": [r.value for r in ReminderRecipient]},
                "offset_minutes": {"type": "integer", "description": "Minutes before the start."},
                "due_at": _TIME,
                "state": {
                    "type": "string",
                    "enum": [s.value for s in ReminderState],
                    "description": "pending until the mail server accepted it; missed when "
                    "no scheduler ran before the interview started.",
                },
                "is_interrupted": {
                    "type": "boolean",
                    "description": "Its send was interrupted: it may or may not have arrived.",
                },
                "attempts": {"type": "integer"},
                "last_error": {"type": "string"},
                "message_id": {"type": "string", "description": "The stable Message-ID header."},
                "outbox_message_id": {"type": ["integer", "null"]},
                "created_at": _TIME,
                "settled_at": _NULLABLE_TIME,
            },
            "One planned reminder for one appointment and recipient.",
        ),
        "ReminderPage": _object(
            {"items": {"type": "array", "items": _ref("Reminder")}, **page},
            "One page of reminders.",
        ),
        "OutboxMessage": _object(
            {
                "id": {"type": "integer"},
                "study_id": {"type": ["integer", "null"]},
                "appointment_id": {"type": ["integer", "null"]},
                "kind": {"type": "string", "enum": [k.value for k in OutboxKind]},
                "subject": {"type": "string"},
                "sender": {"type": "string"},
                "recipients": {"type": "array", "items": {"type": "string"}},
                "message_id": {"type": "string"},
                "state": {"type": "string", "enum": [s.value for s in OutboxState]},
                "is_interrupted": {"type": "boolean"},
                "attempts": {"type": "integer"},
                "last_error": {"type": "string"},
                "due_at": _TIME,
                "next_attempt_at": _TIME,
                "claimed_at": _NULLABLE_TIME,
                "sent_at": _NULLABLE_TIME,
                "created_at": _TIME,
            },
            "One message the tool sends (the MIME text is not served).",
        ),
        "OutboxMessagePage": _object(
            {"items": {"type": "array", "items": _ref("OutboxMessage")}, **page},
            "One page of outbox messages.",
        ),
    }


def openapi_paths() -> dict:
    """Paths (relative to /api/v1) merged into the document."""
    id_path = {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The id.",
        "schema": _ID_SCHEMA,
    }

    def operation(operation_id, summary, description, result, parameters, codes):
        return {
            "get": {
                "operationId": operation_id,
                "tags": ["Reminders"],
                "summary": summary,
                "description": description,
                "parameters": parameters,
                "responses": {"200": _json(_ref(result), "Success."), **_errors(*codes)},
            }
        }

    return {
        "/reminders": operation(
            "listReminders",
            "List reminders",
            "Latest due first. Coordinators only.",
            "ReminderPage",
            [
                _query(
                    "state",
                    {"type": "string", "enum": [s.value for s in ReminderState]},
                    "Only this state.",
                ),
                _query(
                    "recipient",
                    {"type": "string", "enum": [r.value for r in ReminderRecipient]},
                    "Only reminders to this kind of recipient.",
                ),
                _APPOINTMENT,
                _STUDY,
                *_PAGING,
            ],
            ("400", "401", "403"),
        ),
        "/reminders/{id}": operation(
            "getReminder",
            "Get a reminder",
            "Coordinators only.",
            "Reminder",
            [id_path],
            ("401", "403", "404"),
        ),
        "/outbox": operation(
            "listOutboxMessages",
            "List outbox messages",
            "Newest first: invitations, updates, cancellations, reminders, digests. "
            "Coordinators only.",
            "OutboxMessagePage",
            [
                _query(
                    "state",
                    {"type": "string", "enum": [s.value for s in OutboxState]},
                    "Only this state.",
                ),
                _query(
                    "kind",
                    {"type": "string", "enum": [k.value for k in OutboxKind]},
                    "Only this kind.",
                ),
                _APPOINTMENT,
                _STUDY,
                *_PAGING,
            ],
            ("400", "401", "403"),
        ),
        "/outbox/{id}": operation(
            "getOutboxMessage",
            "Get an outbox message",
            "Coordinators only.",
            "OutboxMessage",
            [id_path],
            ("401", "403", "404"),
        ),
    }
