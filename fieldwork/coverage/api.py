"""JSON API of coverage: GET /api/v1/coverage?study=<slug>, every figure of the dashboard.

Readable by everyone logged in (the figures are counts, no personal data); anonymous callers
get 401 from `fieldwork.accounts.access`. `openapi_paths`, `openapi_schemas`,
`openapi_parameters` and `openapi_responses` describe the endpoint for the document built by
`fieldwork.api.openapi`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from fieldwork.api.services import ParameterError
from fieldwork.coverage import services
from fieldwork.coverage.rates import DEFINITIONS
from fieldwork.sampling.queries import get_study

blueprint = Blueprint("coverage_api", __name__, url_prefix="/api/v1")


@blueprint.errorhandler(ParameterError)
def bad_parameter(error: ParameterError):
    response = jsonify(error={"code": 400, "message": str(error)})
    response.status_code = 400
    return response


@blueprint.get("/coverage")
def coverage():
    slug = request.args.get("study", "")
    if not slug.strip():
        raise ParameterError("study", "is required: the study's slug, e.g. pl-pathways.")
    study = get_study(slug)
    if study is None:
        abort(404, "There is no study with that slug.")
    board = services.dashboard(study)
    return jsonify(coverage_json(board))


def coverage_json(board: services.Dashboard) -> dict[str, Any]:
    """The dashboard as JSON: cells (the CSV's rows), weeks, definitions."""
    return {
        "study": board.study.slug,
        "generated_at": board.generated_at.isoformat(),
        "total_target": board.total_target,
        "cells": services.records(board),
        "weeks": [
            {
                "starts_on": week.starts_on.isoformat(),
                "held": week.held,
                "cumulative": week.cumulative,
                "booked": week.booked,
                "projected": week.projected,
                "is_future": week.is_future,
            }
            for week in board.weeks
        ],
        "definitions": [
            {"key": key, "name": name, "formula": formula} for key, name, formula in DEFINITIONS
        ],
    }


# --- OpenAPI ---------------------------------------------------------------------------------

Schema = dict[str, Any]

_COUNT = {"type": "integer", "minimum": 0}
_NULLABLE_COUNT = {"type": ["integer", "null"], "minimum": 0}
_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_NULLABLE_TEXT = {"type": ["string", "null"]}


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


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def openapi_schemas() -> dict[str, Schema]:
    """Component schemas of the coverage endpoint (merge into components.schemas)."""
    cell = _object(
        {
            "cell": {
                "type": "string",
                "enum": ["role_phase", "role_district", "kind_phase", "phase_total", "overall"],
                "description": "What the row is: a role × phase cell, a finer cell (role × "
                "district, organisation kind × phase), a phase's total or the overall total.",
            },
            "role": _described(_NULLABLE_TEXT, "The role's name, when the cell has one."),
            "phase": _described(_NULLABLE_TEXT, "The phase's name, when the cell has one."),
            "district": _described(_NULLABLE_TEXT, "For a role × district cell."),
            "organisation_kind": _described(_NULLABLE_TEXT, "For a kind × phase cell."),
            "target": _described(_NULLABLE_COUNT, "People to interview; null: no target."),
            "participants": _described(_COUNT, "People in the cell's sample."),
            "achieved": _described(
                _COUNT,
                "People with an interview held and consent to take part that stands (or was "
                "withdrawn with the data kept); each person once.",
            ),
            "booked": _described(_COUNT, "People not achieved with an interview booked ahead."),
            "pipeline": _described(
                _COUNT, "People who agreed, with no interview booked ahead (not achieved)."
            ),
            "approached": _described(_COUNT, "People contacted who have not agreed yet."),
            "not_approached": _described(_COUNT, "People never contacted."),
            "closed": _described(_COUNT, "Declined, ineligible or withdrawn (not achieved)."),
            "needed": _described(_NULLABLE_COUNT, "Target − achieved, at least 0."),
            "uncovered": _described(_NULLABLE_COUNT, "Target − achieved − booked, at least 0."),
            "cases_interview": _described(_COUNT, "AAPOR I."),
            "cases_refusal": _described(_COUNT, "AAPOR R (refusals and break-offs)."),
            "cases_non_contact": _described(_COUNT, "AAPOR NC."),
            "cases_other": _described(_COUNT, "AAPOR O (eligible, reached, no interview yet)."),
            "cases_unknown_eligibility": _described(_COUNT, "AAPOR U (never tried)."),
            "cases_not_eligible": _described(_COUNT, "AAPOR NE (left out of rates)."),
            "held_appointments": _described(_COUNT, "Appointments held."),
            "no_show_appointments": _described(_COUNT, "Appointments missed."),
            "late_cancellations": _described(_COUNT, "Appointments cancelled late."),
            **{
                key: _described(_RATE, f"{name}: {formula}; null when nothing to divide by.")
                for key, name, formula in DEFINITIONS
            },
        },
        "The figures of one cell of the sample.",
    )
    return {
        "CoverageCell": cell,
        "CoverageWeek": _object(
            {
                "starts_on": {"type": "string", "format": "date", "description": "A Monday."},
                "held": _described(_COUNT, "People first interviewed (achieved) that week."),
                "cumulative": _described(_COUNT, "Achieved by the end of the week."),
                "booked": _described(_COUNT, "Appointments booked ahead for that week."),
                "projected": _described(_COUNT, "Achieved plus booked up to that week."),
                "is_future": {"type": "boolean", "description": "After the current week."},
            },
            "One week of progress (weeks run Monday to Sunday, by UTC day).",
        ),
        "CoverageDefinition": _object(
            {"key": {"type": "string"}, "name": {"type": "string"}, "formula": {"type": "string"}},
            "How a rate is computed.",
        ),
        "Coverage": _object(
            {
                "study": {"type": "string", "description": "The study's slug."},
                "generated_at": {"type": "string", "format": "date-time"},
                "total_target": _described(_COUNT, "Sum of the role × phase targets."),
                "cells": {"type": "array", "items": _ref("CoverageCell")},
                "weeks": {"type": "array", "items": _ref("CoverageWeek")},
                "definitions": {"type": "array", "items": _ref("CoverageDefinition")},
            },
            "Quota coverage of a study: every figure of the dashboard.",
        ),
    }


def openapi_parameters() -> dict[str, Schema]:
    """The `study` query parameter (merge into components.parameters)."""
    return {
        "coverageStudy": {
            "name": "study",
            "in": "query",
            "required": True,
            "description": "The study's slug, e.g. pl-pathways.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 60},
        }
    }


def openapi_paths() -> dict[str, Schema]:
    """The coverage endpoint, relative to /api/v1 (merge into paths)."""
    return {
        "/coverage": {
            "get": {
                "operationId": "getCoverage",
                "tags": ["Coverage"],
                "summary": "Quota coverage of a study",
                "description": "Every figure of the coverage dashboard: one object per role × "
                "phase cell, finer cell, phase total and the overall total (the rows of "
                "/coverage.csv), progress by week, and the rates' definitions. Anyone logged "
                "in may read it.",
                "parameters": [{"$ref": "#/components/parameters/coverageStudy"}],
                "responses": {
                    "200": {
                        "description": "Success.",
                        "content": {"application/json": {"schema": _ref("Coverage")}},
                    },
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        }
    }
