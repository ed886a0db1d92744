"""What every API write shares: errors by field (400) and by row and field (422) in the one
error shape, and the rule that only a study's coordinators write in it.

A write's body is read by its blueprint's `arguments` schema; every field that does not fit is
named at once (`InvalidFields`), and so is every rule a service refuses by field. A bulk write
refused by its rules names each row's problems (`InvalidRows`); nothing of it is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from marshmallow import fields
from werkzeug.exceptions import Forbidden

from fieldwork.api.schemas import ErrorDetail, Resource
from fieldwork.core.errors import roll_back

INVALID_FIELDS = "The request has invalid fields."


class InvalidFields(Exception):
    """400: what is wrong with each named field (`{"name": "Give a name."}`)."""

    def __init__(self, errors: Mapping[str, str], message: str = INVALID_FIELDS) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(errors)


def first_by_field(errors: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The first message for each field, in the order given."""
    by_field: dict[str, str] = {}
    for field, message in errors:
        by_field.setdefault(field, message)
    return by_field


class InvalidRows(Exception):
    """422: rows refused by the rules, each problem with its row (from 1; 0 for the whole
    request) and field ("" for a whole row)."""

    def __init__(self, rows: list[dict[str, Any]], message: str) -> None:
        super().__init__(message)
        self.message = message
        self.rows = rows


def require_coordinator_of(study_id: int) -> None:
    """403 unless the caller coordinates that study (interviewers read; they do not write
    through the API)."""
    if not current_user.is_authenticated or not current_user.is_coordinator_of(study_id):
        raise Forbidden("Only the study's coordinators can make changes through the API.")


# --- Shapes in the document ------------------------------------------------------------------


class FieldErrorDetail(ErrorDetail):
    """What went wrong, field by field."""

    # Named apart from marshmallow's own `Schema.fields`; answered as "fields".
    by_field = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        data_key="fields",
        metadata={"description": "For each field that is wrong, what is wrong with it."},
    )


class FieldErrors(Resource):
    """A write whose fields are wrong (400): nothing was changed."""

    error = fields.Nested(FieldErrorDetail)


class RowError(Resource):
    """One problem in one row."""

    row = fields.Integer(metadata={"description": "The row's position, from 1 (0: the request)."})
    field = fields.String(metadata={"description": "The column; empty for the whole row."})
    message = fields.String()


class RowErrorDetail(ErrorDetail):
    """What went wrong, row by row."""

    rows = fields.List(fields.Nested(RowError))


class RowErrors(Resource):
    """A bulk write whose rows break the rules (422): nothing was written."""

    error = fields.Nested(RowErrorDetail)


def _invalid_fields(error: InvalidFields) -> ResponseReturnValue:
    roll_back()
    return jsonify(error={"code": 400, "message": error.message, "fields": error.fields}), 400


def _invalid_rows(error: InvalidRows) -> ResponseReturnValue:
    roll_back()
    return jsonify(error={"code": 422, "message": error.message, "rows": error.rows}), 422


def init_app(app: Flask) -> None:
    app.register_error_handler(InvalidFields, _invalid_fields)
    app.register_error_handler(InvalidRows, _invalid_rows)
