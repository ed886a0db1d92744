"""The OpenAPI 3.1 document of the JSON API, built as a plain dict.

It is the API's contract: the tests validate it with openapi-spec-validator and check every
endpoint's real responses against the schemas below (which forbid unlisted fields), so the
document cannot drift from `fieldwork.api.serializers` unnoticed. The /api/v1/docs page is
rendered from it too.

Other domains describe their own endpoints: a blueprint whose module defines `openapi_paths()`
(and optionally `openapi_schemas()`, `openapi_parameters()`, `openapi_responses()`, each a dict
of components) is merged in by `document_for(app)`; a clash of names is an error, not an
override.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from flask import Flask

from fieldwork.api.services import (
    DEFAULT_PER_PAGE,
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_SEARCH_LENGTH,
)
from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
#: Where the paths below are mounted; the document's `servers` entry.
BASE_PATH = "/api/v1"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """JSON Schema 2020-12 (OpenAPI 3.1) spells 'or null' as a list of types."""
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: dict[str, Schema], description: str = "") -> Schema:
    """An object with exactly these fields, all of them always present."""
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
_DATE = {"type": "string", "format": "date"}
_DATETIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset."}
_KIND = {"type": "string", "enum": [kind.value for kind in OrganisationKind]}
_STATUS = {"type": "string", "enum": [status.value for status in RecruitmentStatus]}


def _reference() -> Schema:
    return _object({"id": _ID, "name": _TEXT})


def _schemas() -> dict[str, Schema]:
    phase_summary = _object(
        {"number": {"type": "integer"}, "name": _TEXT, "go_live_on": _nullable(_DATE)},
        "A phase as other resources name it.",
    )
    schemas: dict[str, Schema] = {
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {"type": "integer", "description": "The HTTP status code."},
                        "message": {
                            "type": "string",
                            "description": "What went wrong, for people.",
                        },
                    }
                )
            },
            "Every error answer: 400 names the bad parameter, 401 asks for credentials.",
        ),
        "Page": _object(
            {
                "items": {"type": "array", "description": "This page's resources."},
                "page": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "This page's number (a page past the end answers the "
                    "last page).",
                },
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0, "description": "Matches on all pages."},
                "pages": {"type": "integer", "minimum": 1},
                "next": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "Absolute URL of the next page, or null on the last.",
                },
                "prev": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "Absolute URL of the previous page, or null on the first.",
                },
            },
            "The envelope of every list.",
        ),
        "PhaseSummary": phase_summary,
        "Study": _object(
            {
                "id": _ID,
                "slug": _TEXT,
                "name": _TEXT,
                "description": _TEXT,
                "timezone": {"type": "string", "description": "IANA zone the study books in."},
                "fieldwork_starts_on": _nullable(_DATE),
                "fieldwork_ends_on": _nullable(_DATE),
                "organiser_name": _TEXT,
                "organiser_email": _TEXT,
                "interview_minutes": {"type": "integer"},
                "created_at": _DATETIME,
                "phases": {"type": "array", "items": _ref("PhaseSummary")},
            },
            "A study; phases in number order.",
        ),
        "Phase": _object(
            {
                "id": _ID,
                "study_id": _ID,
                "number": {"type": "integer"},
                "name": _TEXT,
                "go_live_on": _nullable(_DATE),
            },
            "A wave of districts that went live together.",
        ),
        "District": _object(
            {
                "id": _ID,
                "study_id": _ID,
                "name": _TEXT,
                "phase": _ref("PhaseSummary"),
                "is_placeholder": {
                    "type": "boolean",
                    "description": "True when public sources could not identify the district.",
                },
                "source": {"type": "string", "description": "Where the facts come from."},
            },
            "A sampled area, in one phase.",
        ),
        "Reference": _object({"id": _ID, "name": _TEXT}, "Another resource, by id and name."),
        "Organisation": _object(
            {
                "id": _ID,
                "study_id": _ID,
                "name": _TEXT,
                "kind": _KIND,
                "kind_label": {"type": "string", "description": "The kind, for people."},
                "lead_provider": {
                    "oneOf": [_ref("Reference"), {"type": "null"}],
                    "description": "A sub-contractor's lead provider.",
                },
                "district_ids": {
                    "type": "array",
                    "items": _ID,
                    "description": "The districts it covers, by id, ascending.",
                },
                "notes": _TEXT,
            },
            "A public body or provider whose staff are sampled.",
        ),
        "Role": _object(
            {
                "id": _ID,
                "study_id": _ID,
                "name": _TEXT,
                "organisation_kind": _KIND,
                "description": _TEXT,
            },
            "A stakeholder role to interview, tied to a kind of organisation.",
        ),
        "Participant": _object(
            {
                "id": _ID,
                "reference": {"type": "string", "description": "Stable pseudonym, e.g. P1-017."},
                "name": _TEXT,
                "job_title": _TEXT,
                "email": {"type": "string", "description": "Lower-case; empty when unknown."},
                "phone": _TEXT,
                "notes": _TEXT,
                "status": _STATUS,
                "study": {"type": "string", "description": "The study's slug."},
                "role": _ref("Reference"),
                "organisation": _object({"id": _ID, "name": _TEXT, "kind": _KIND}),
                "district": _ref("Reference"),
                "phase": _object({"number": {"type": "integer"}, "name": _TEXT}),
                "interviewer": {
                    "oneOf": [_ref("Reference"), {"type": "null"}],
                    "description": "The interviewer assigned, if any.",
                },
                "created_at": _DATETIME,
                "updated_at": _DATETIME,
            },
            "A person in the sample frame.",
        ),
    }
    for name in ("Study", "Phase", "District", "Organisation", "Role", "Participant"):
        schemas[f"{name}Page"] = {
            "allOf": [
                _ref("Page"),
                {"type": "object", "properties": {"items": {"type": "array", "items": _ref(name)}}},
            ],
            "description": f"One page of {name.lower()} resources.",
        }
    return schemas


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_ID_PARAMETER = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _parameters() -> dict[str, Schema]:
    return {
        "page": _query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "Page number, from 1.",
        ),
        "per_page": _query(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
            f"Items per page, 1 to {MAX_PER_PAGE}.",
        ),
        "q": _query(
            "q",
            {"type": "string", "maxLength": MAX_SEARCH_LENGTH, "pattern": "^[^\\u0000]*$"},
            "Search text, case-insensitive, matched anywhere in the name.",
        ),
        "phase": _query("phase", _ID_PARAMETER, "Only this phase, by its number (1, 2, ...)."),
        "district": _query("district", _ID_PARAMETER, "Only this district, by id."),
        "role": _query("role", _ID_PARAMETER, "Only this role, by id."),
        "kind": _query("kind", _KIND, "Only this kind of organisation."),
        "status": _query("status", _STATUS, "Only this recruitment status."),
        "interviewer": _query(
            "interviewer", _ID_PARAMETER, "Only people assigned to this interviewer, by user id."
        ),
        "slug": {
            "name": "slug",
            "in": "path",
            "required": True,
            "description": "The study's slug, e.g. pl-pathways.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 60},
        },
        "id": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "The id.",
            "schema": _ID_PARAMETER,
        },
    }


def _responses() -> dict[str, Schema]:
    def error(description: str) -> Schema:
        return {
            "description": description,
            "content": {"application/json": {"schema": _ref("Error")}},
        }

    return {
        "BadRequest": error("A query parameter is malformed; the message names it."),
        "Unauthorized": error("Neither a valid bearer token nor a logged-in session."),
        "NotFound": error("No such resource, or not one the caller may see."),
    }


def _parameter_refs(names: list[str]) -> list[Schema]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    result: str,
    parameters: list[str],
    *,
    is_list: bool,
    has_parent: bool = True,
) -> Schema:
    responses: Schema = {
        "200": {
            "description": "Success.",
            "content": {"application/json": {"schema": _ref(result)}},
        }
    }
    if is_list:
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
    if has_parent:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    return {
        "get": {
            "operationId": operation_id,
            "tags": [tag],
            "summary": summary,
            "description": description,
            "parameters": _parameter_refs(parameters),
            "responses": responses,
        }
    }


_PAGING = ["page", "per_page"]


def core_paths() -> dict[str, Schema]:
    """The sample frame's endpoints (this package's own), relative to BASE_PATH."""
    return {
        "/studies": _operation(
            "listStudies",
            "Studies",
            "List studies",
            "Every study in the installation, by name; q searches name and slug.",
            "StudyPage",
            ["q", *_PAGING],
            is_list=True,
            has_parent=False,
        ),
        "/studies/{slug}": _operation(
            "getStudy",
            "Studies",
            "Get a study",
            "One study with its phases.",
            "Study",
            ["slug"],
            is_list=False,
        ),
        "/studies/{slug}/phases": _operation(
            "listPhases",
            "Studies",
            "List a study's phases",
            "In number order.",
            "PhasePage",
            ["slug", *_PAGING],
            is_list=True,
        ),
        "/studies/{slug}/districts": _operation(
            "listDistricts",
            "Districts",
            "List a study's districts",
            "In phase, then name order; q searches the name.",
            "DistrictPage",
            ["slug", "phase", "q", *_PAGING],
            is_list=True,
        ),
        "/studies/{slug}/organisations": _operation(
            "listOrganisations",
            "Organisations",
            "List a study's organisations",
            "By name; district keeps those covering that district; q searches the name.",
            "OrganisationPage",
            ["slug", "kind", "district", "q", *_PAGING],
            is_list=True,
        ),
        "/studies/{slug}/roles": _operation(
            "listRoles",
            "Roles",
            "List a study's stakeholder roles",
            "By name; kind keeps roles for that kind of organisation; q searches the name.",
            "RolePage",
            ["slug", "kind", "q", *_PAGING],
            is_list=True,
        ),
        "/studies/{slug}/participants": _operation(
            "listParticipants",
            "Participants",
            "List a study's participants",
            "By reference. q searches name, reference, email and job title. Interviewers see "
            "only the participants assigned to them; coordinators see everyone.",
            "ParticipantPage",
            ["slug", "q", "phase", "district", "role", "kind", "status", "interviewer", *_PAGING],
            is_list=True,
        ),
        "/participants/{id}": _operation(
            "getParticipant",
            "Participants",
            "Get a participant",
            "404 also when an interviewer asks for someone not assigned to them.",
            "Participant",
            ["id"],
            is_list=False,
        ),
        "/districts/{id}": _operation(
            "getDistrict",
            "Districts",
            "Get a district",
            "One district with its phase.",
            "District",
            ["id"],
            is_list=False,
        ),
        "/organisations/{id}": _operation(
            "getOrganisation",
            "Organisations",
            "Get an organisation",
            "One organisation with its lead provider and districts.",
            "Organisation",
            ["id"],
            is_list=False,
        ),
        "/roles/{id}": _operation(
            "getRole", "Roles", "Get a role", "One stakeholder role.", "Role", ["id"], is_list=False
        ),
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "tags": ["Documentation"],
                "summary": "This document",
                "description": "Readable without credentials.",
                "security": [],
                "parameters": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def build_document(
    session_cookie_name: str = "session", contributors: Iterable[ModuleType] = ()
) -> dict[str, Any]:
    """The document of this package's endpoints plus those of `contributors`."""
    document = _core_document(session_cookie_name)
    for module in contributors:
        _merge(document["paths"], module.openapi_paths(), module.__name__)
        for part in ("schemas", "parameters", "responses"):
            describe = getattr(module, f"openapi_{part}", None)
            if describe is not None:
                _merge(document["components"][part], describe(), module.__name__)
    known_tags = {tag["name"] for tag in document["tags"]}
    for item in document["paths"].values():
        for operation in item.values():
            for tag in operation.get("tags", []):
                if tag not in known_tags:
                    document["tags"].append({"name": tag})
                    known_tags.add(tag)
    return document


def contributors(app: Flask) -> list[ModuleType]:
    """The modules of the app's blueprints that describe API endpoints of their own."""
    modules: list[ModuleType] = []
    for blueprint in app.blueprints.values():
        module = sys.modules.get(blueprint.import_name)
        if (
            module is not None
            and module.__name__ != "fieldwork.api.views"
            and callable(getattr(module, "openapi_paths", None))
            and module not in modules
        ):
            modules.append(module)
    return modules


def document_for(app: Flask) -> dict[str, Any]:
    """The document as `app` serves it: its session cookie's name, every domain's endpoints."""
    return build_document(app.config["SESSION_COOKIE_NAME"], contributors(app))


def _merge(target: dict[str, Any], extra: dict[str, Any], source: str) -> None:
    for name, value in extra.items():
        if name in target and target[name] != value:
            raise ValueError(f"{source} describes {name!r} differently from the API document")
        target[name] = value


def _core_document(session_cookie_name: str) -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Fieldwork API",
            "version": API_VERSION,
            "description": (
                "Read the sample frame of Fieldwork's studies. Send a personal token "
                "(`flask --app app create-token EMAIL`, or the account page) as "
                "`Authorization: Bearer <token>`, or call from a logged-in browser. "
                "Lists are paginated and answer the same envelope; a malformed query "
                "parameter (an empty one too: leave out a filter you do not use) answers 400 "
                "with a message naming it."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": BASE_PATH, "description": "This installation."}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "tags": [
            {"name": name}
            for name in (
                "Studies",
                "Districts",
                "Organisations",
                "Roles",
                "Participants",
                "Documentation",
            )
        ],
        "paths": core_paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": _responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (starts fw_).",
                },
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": session_cookie_name,
                    "description": "The session cookie of a logged-in browser.",
                },
            },
        },
    }


def _component_name(reference: dict[str, Any]) -> str:
    return reference["$ref"].rsplit("/", 1)[1]


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation with its references resolved, in document order (for the docs page)."""
    components = document["components"]
    result = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            responses = [
                (
                    code,
                    response["description"]
                    if "description" in response
                    else components["responses"][_component_name(response)]["description"],
                )
                for code, response in operation["responses"].items()
            ]
            success = next(
                (r for code, r in operation["responses"].items() if code.startswith("2")), {}
            )
            body = success.get("content", {}).get("application/json", {}).get("schema", {})
            request = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            result.append(
                {
                    "method": method.upper(),
                    "path": BASE_PATH + path,
                    "id": operation["operationId"],
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "is_public": operation.get("security") == [],
                    "parameters": [
                        components["parameters"][_component_name(p)] if "$ref" in p else p
                        for p in operation.get("parameters", [])
                    ],
                    "responses": responses,
                    "result": _component_name(body) if "$ref" in body else "",
                    "request": _component_name(request) if "$ref" in request else "",
                }
            )
    return result
