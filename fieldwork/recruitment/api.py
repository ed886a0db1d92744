"""JSON API of recruitment: contact attempts, consents and audit events, for coordinators.

Read-only lists under /api/v1/studies/<slug>/..., in the API's list envelope. Interviewers get
403 JSON; anonymous callers 401 (from `fieldwork.accounts.access`). `openapi_paths`,
`openapi_schemas`, `openapi_parameters` and `openapi_responses` describe the endpoints for
the document built by `fieldwork.api.openapi`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from fieldwork.api.services import (
    MAX_ID,
    ParameterError,
    parse_page_request,
)
from fieldwork.audit.models import AuditEvent
from fieldwork.core.pagination import paginate
from fieldwork.recruitment.dispositions import AaporCategory, Disposition
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentFormVersion,
    ConsentMethod,
    ContactAttempt,
    ContactChannel,
    DataHandling,
)
from fieldwork.sampling.models import Participant, Study
from fieldwork.sampling.queries import get_study

blueprint = Blueprint("recruitment_api", __name__, url_prefix="/api/v1")

#: Longest action name accepted as a filter.
MAX_ACTION_LENGTH = 60


@blueprint.errorhandler(ParameterError)
def bad_parameter(error: ParameterError):
    response = jsonify(error={"code": 400, "message": str(error)})
    response.status_code = 400
    return response


@blueprint.before_request
def coordinators_only():
    """Anonymous callers were answered 401 already; interviewers are refused here."""
    if current_user.is_authenticated and not current_user.is_coordinator:
        abort(403, "Only coordinators can read recruitment records.")


# --- Parsing ---------------------------------------------------------------------------------


def _id(args: Mapping[str, str], name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ParameterError(name, f"must be a whole number from 1 to {MAX_ID}.")
    return int(raw)


def _choice(args: Mapping[str, str], name: str, enum_type):
    raw = args.get(name)
    if not raw:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ParameterError(name, f"must be one of {allowed}.")


def _study_or_404(slug: str) -> Study:
    study = get_study(slug)
    if study is None:
        abort(404, "There is no study with that slug.")
    return study


def _page_url(number: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(number)
    return request.base_url + "?" + urlencode(args)


def _list(statement: Select, serialize: Callable[[Any], dict]):
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


# --- Serializers -----------------------------------------------------------------------------


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _person(participant: Participant | None) -> dict | None:
    return {"id": participant.id, "reference": participant.reference} if participant else None


def _user(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user else None


def contact_attempt_json(item: ContactAttempt) -> dict[str, Any]:
    """Needs participant and recorded_by loaded."""
    return {
        "id": item.id,
        "participant": _person(item.participant),
        "attempted_at": _when(item.attempted_at),
        "channel": item.channel.value,
        "disposition": item.disposition.value,
        "aapor_category": item.disposition.category.value,
        "note": item.note or "",
        "next_action_on": _when(item.next_action_on),
        "recorded_by": _user(item.recorded_by),
        "created_at": _when(item.created_at),
    }


def consent_json(item: Consent) -> dict[str, Any]:
    """Needs participant, version (with form), recorded_by and answers (with item) loaded."""
    return {
        "id": item.id,
        "participant": _person(item.participant),
        "form": {"id": item.version.form.id, "title": item.version.form.title},
        "version": item.version.number,
        "method": item.method.value,
        "given_at": _when(item.given_at),
        "recorded_by": _user(item.recorded_by),
        "typed_name": item.typed_name or "",
        "answers": [
            {"key": answer.item.key, "text": answer.item.text, "is_agreed": answer.is_agreed}
            for answer in sorted(item.answers, key=lambda a: a.item.position)
        ],
        "withdrawn_at": _when(item.withdrawn_at),
        "withdrawal_reason": item.withdrawal_reason or "",
        "data_handling": item.data_handling.value if item.data_handling else None,
    }


def audit_event_json(item: AuditEvent) -> dict[str, Any]:
    """Needs actor and participant loaded."""
    return {
        "id": item.id,
        "created_at": _when(item.created_at),
        "action": item.action,
        "actor": _user(item.actor),
        "subject_type": item.subject_type,
        "subject_id": item.subject_id,
        "participant": _person(item.participant),
        "before": item.before,
        "after": item.after,
    }


# --- Endpoints -------------------------------------------------------------------------------


@blueprint.get("/studies/<slug>/contact-attempts")
def contact_attempts(slug: str):
    study = _study_or_404(slug)
    participant_id = _id(request.args, "participant")
    disposition = _choice(request.args, "disposition", Disposition)
    statement = (
        select(ContactAttempt)
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(Participant.study_id == study.id)
        .options(joinedload(ContactAttempt.participant), joinedload(ContactAttempt.recorded_by))
        .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc())
    )
    if participant_id:
        statement = statement.where(ContactAttempt.participant_id == participant_id)
    if disposition:
        statement = statement.where(ContactAttempt.disposition == disposition)
    return _list(statement, contact_attempt_json)


@blueprint.get("/studies/<slug>/consents")
def consents(slug: str):
    study = _study_or_404(slug)
    participant_id = _id(request.args, "participant")
    method = _choice(request.args, "method", ConsentMethod)
    statement = (
        select(Consent)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(Participant.study_id == study.id)
        .options(
            joinedload(Consent.participant),
            joinedload(Consent.recorded_by),
            joinedload(Consent.version).joinedload(ConsentFormVersion.form),
            joinedload(Consent.answers).joinedload(ConsentAnswer.item),
        )
        .order_by(Consent.given_at.desc(), Consent.id.desc())
    )
    if participant_id:
        statement = statement.where(Consent.participant_id == participant_id)
    if method:
        statement = statement.where(Consent.method == method)
    return _list(statement, consent_json)


@blueprint.get("/studies/<slug>/audit-events")
def audit_events(slug: str):
    study = _study_or_404(slug)
    participant_id = _id(request.args, "participant")
    action = (request.args.get("action") or "").strip()
    if len(action) > MAX_ACTION_LENGTH or "\x00" in action:
        raise ParameterError("action", f"must be at most {MAX_ACTION_LENGTH} characters.")
    statement = (
        select(AuditEvent)
        .where(AuditEvent.study_id == study.id)
        .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.participant))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if participant_id:
        statement = statement.where(AuditEvent.participant_id == participant_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return _list(statement, audit_event_json)


# --- OpenAPI ---------------------------------------------------------------------------------

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], description: str = "") -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


_ID = {"type": "integer", "minimum": 1}
_TEXT = {"type": "string"}
_DATETIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset."}
_NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}


def _enum(enum_type) -> Schema:
    return {"type": "string", "enum": [member.value for member in enum_type]}


def _nullable_ref(name: str) -> Schema:
    return {"oneOf": [_ref(name), {"type": "null"}]}


def openapi_schemas() -> dict[str, Schema]:
    """Component schemas of the recruitment endpoints (merge into components.schemas)."""
    schemas: dict[str, Schema] = {
        "ParticipantReference": _object(
            {"id": _ID, "reference": {"type": "string", "description": "e.g. P1-017"}},
            "A participant by id and pseudonymous reference.",
        ),
        "UserReference": _object({"id": _ID, "name": _TEXT}, "A user by id and name."),
        "ContactAttempt": _object(
            {
                "id": _ID,
                "participant": _ref("ParticipantReference"),
                "attempted_at": _DATETIME,
                "channel": _enum(ContactChannel),
                "disposition": {
                    **_enum(Disposition),
                    "description": "The outcome (AAPOR-style disposition code).",
                },
                "aapor_category": {
                    **_enum(AaporCategory),
                    "description": "The code's AAPOR category, for rates.",
                },
                "note": _TEXT,
                "next_action_on": {"type": ["string", "null"], "format": "date"},
                "recorded_by": _nullable_ref("UserReference"),
                "created_at": _DATETIME,
            },
            "One try to reach a participant, with its outcome.",
        ),
        "ConsentAnswer": _object(
            {
                "key": {"type": "string", "description": "e.g. take_part, audio_recording"},
                "text": _TEXT,
                "is_agreed": {"type": "boolean"},
            },
            "The participant's answer to one item of the form.",
        ),
        "Consent": _object(
            {
                "id": _ID,
                "participant": _ref("ParticipantReference"),
                "form": _object({"id": _ID, "title": _TEXT}),
                "version": {"type": "integer", "minimum": 1},
                "method": _enum(ConsentMethod),
                "given_at": _DATETIME,
                "recorded_by": {
                    **_nullable_ref("UserReference"),
                    "description": "Null when given online by the participant.",
                },
                "typed_name": {"type": "string", "description": "Empty after erasure."},
                "answers": {"type": "array", "items": _ref("ConsentAnswer")},
                "withdrawn_at": _NULLABLE_DATETIME,
                "withdrawal_reason": _TEXT,
                "data_handling": {
                    "type": ["string", "null"],
                    "enum": [d.value for d in DataHandling] + [None],
                },
            },
            "A participant's answers to one consent form version.",
        ),
        "AuditEvent": _object(
            {
                "id": _ID,
                "created_at": _DATETIME,
                "action": {"type": "string", "description": "e.g. participant.status_changed"},
                "actor": {
                    **_nullable_ref("UserReference"),
                    "description": "Null for the participant (online) or the system.",
                },
                "subject_type": _TEXT,
                "subject_id": {"type": ["integer", "null"]},
                "participant": {"oneOf": [_ref("ParticipantReference"), {"type": "null"}]},
                "before": {"type": ["object", "null"]},
                "after": {"type": ["object", "null"]},
            },
            "Who changed what, when, with the values before and after.",
        ),
    }
    for name in ("ContactAttempt", "Consent", "AuditEvent"):
        schemas[f"{name}Page"] = {
            "allOf": [
                _ref("Page"),
                {"type": "object", "properties": {"items": {"type": "array", "items": _ref(name)}}},
            ],
            "description": f"One page of {name} resources.",
        }
    return schemas


def openapi_parameters() -> dict[str, Schema]:
    """Query parameters the recruitment endpoints add (merge into components.parameters)."""

    def query(name: str, schema: Schema, description: str) -> Schema:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema,
        }

    return {
        "participant": query(
            "participant",
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "Only this participant, by id.",
        ),
        "disposition": query("disposition", _enum(Disposition), "Only this outcome."),
        "method": query("method", _enum(ConsentMethod), "Only consents given this way."),
        "action": query(
            "action",
            {"type": "string", "maxLength": MAX_ACTION_LENGTH},
            "Only this action, e.g. consent.recorded.",
        ),
    }


def openapi_responses() -> dict[str, Schema]:
    """Responses the recruitment endpoints add (merge into components.responses)."""
    return {
        "Forbidden": {
            "description": "The caller is not a coordinator.",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    }


def _operation(
    operation_id: str, summary: str, description: str, result: str, parameters: list[str]
) -> Schema:
    return {
        "get": {
            "operationId": operation_id,
            "tags": ["Recruitment"],
            "summary": summary,
            "description": description + " Coordinators only.",
            "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
            "responses": {
                "200": {
                    "description": "Success.",
                    "content": {"application/json": {"schema": _ref(result)}},
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        }
    }


def openapi_paths() -> dict[str, Schema]:
    """Paths of the recruitment endpoints, relative to /api/v1 (merge into paths)."""
    paging = ["page", "per_page"]
    return {
        "/studies/{slug}/contact-attempts": _operation(
            "listContactAttempts",
            "List a study's contact attempts",
            "Newest first.",
            "ContactAttemptPage",
            ["slug", "participant", "disposition", *paging],
        ),
        "/studies/{slug}/consents": _operation(
            "listConsents",
            "List a study's consents",
            "Newest first, with each item's answer.",
            "ConsentPage",
            ["slug", "participant", "method", *paging],
        ),
        "/studies/{slug}/audit-events": _operation(
            "listAuditEvents",
            "List a study's audit events",
            "Newest first.",
            "AuditEventPage",
            ["slug", "participant", "action", *paging],
        ),
    }
