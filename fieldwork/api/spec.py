"""The app's flask-smorest `Api`: it collects every domain's API blueprint and generates the
OpenAPI 3.1 document from their routes and schemas.

One `Api` per app (kept in `app.extensions`), so that apps built side by side (the tests build
several) never share a document.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from fieldwork.api import schemas
from fieldwork.api.blueprint import BASE_PATH, IdConverter, id_parameter_schema
from fieldwork.core.errors import http_error
from fieldwork.extensions import csrf

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

_DESCRIPTION = (
    "Fieldwork's studies, their sample frame and fieldwork. Send a personal token "
    "(`flask --app app create-token EMAIL`, or the account page) as "
    "`Authorization: Bearer <token>`, or read from a logged-in browser (writes need the "
    "token). Lists are paginated and answer one envelope; errors answer one shape. A "
    "malformed query parameter (an empty one too: leave out a filter you do not use) answers "
    "400 with a message naming it."
)


class _Converter(OpenAPIConverter):
    """apispec leaves `additionalProperties` out of a schema that has a description (an
    `elif` in `schema2jsonschema`); ours all have one, and answers allow no other field."""

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema = super().schema2jsonschema(schema)
        unknown = resolve_schema_instance(schema).unknown
        if unknown != marshmallow.EXCLUDE:
            jsonschema["additionalProperties"] = unknown == marshmallow.INCLUDE
        return jsonschema

    def init_parameter_attribute_functions(self) -> None:
        super().init_parameter_attribute_functions()
        self.add_parameter_attribute_function(_empty_filter)


def _empty_filter(converter: OpenAPIConverter, field: Any, **kwargs: Any) -> dict[str, Any]:
    """The lists that take an empty filter as no filter (`EmptyFiltersPageArguments`) say so
    in the document (`allowEmptyValue`), the exception to the rule in its description."""
    paging = schemas.PageArguments._declared_fields
    if isinstance(field.parent, schemas.EmptyFiltersPageArguments) and field.name not in paging:
        return {"allowEmptyValue": True}
    return {}


class _MarshmallowPlugin(MarshmallowPlugin):
    Converter = _Converter


class FieldworkApi(flask_smorest.Api):
    """flask-smorest's `Api`, answering errors in the app's one shape."""

    ERROR_SCHEMA = schemas.Error

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        """flask-smorest registers this for every HTTP error in the app: answer as the rest of
        the app does (JSON `{"error": {"code", "message"}}` under /api/, pages elsewhere)."""
        return http_error(error)


def init_app(app: Flask) -> FieldworkApi:
    """Build the app's `Api`; domains then add their blueprints with `register`."""
    api = FieldworkApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": _MarshmallowPlugin(),
            "title": "Fieldwork API",
            "version": API_VERSION,
            "openapi_version": OPENAPI_VERSION,
            "info": {
                "description": _DESCRIPTION,
                "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
            },
            "servers": [{"url": BASE_PATH, "description": "This installation."}],
            "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        },
    )
    api.register_field(schemas.Choice, "string", None)
    api.spec.components.schema("Page", schema=schemas.Page)
    app.url_map.converters["id"] = IdConverter
    api.register_converter(IdConverter, id_parameter_schema)
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A personal API token (starts fw_)."},
    )
    api.spec.components.security_scheme(
        "cookieAuth",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config["SESSION_COOKIE_NAME"],
            "description": "The session cookie of a logged-in browser (reads only).",
        },
    )
    return api


def api_of(app: Flask) -> FieldworkApi:
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]


def register(app: Flask, blueprint: flask_smorest.Blueprint) -> None:
    """Mount a domain's API blueprint on `app` and describe its routes in the document.

    The API is exempt from CSRF: a write needs a bearer token, which a cross-site form cannot
    send, and a session cookie alone never authorises one (`fieldwork.accounts.access`).
    """
    csrf.exempt(blueprint)
    api_of(app).register_blueprint(blueprint)


def document(app: Flask | None = None) -> dict[str, Any]:
    """The OpenAPI document of `app` (the current app by default), paths relative to
    BASE_PATH as its `servers` entry says."""
    app = app or current_app
    spec = api_of(app).spec.to_dict()
    spec["paths"] = {
        path.removeprefix(BASE_PATH): item
        for path, item in spec["paths"].items()
        if path.startswith(BASE_PATH + "/")
    }
    # flask-smorest's own pagination (an X-Pagination header) is not used: lists answer the
    # page envelope, so its schema would only confuse a reader.
    spec["components"]["schemas"].pop("PaginationMetadata", None)
    return spec


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its `$ref` points at within `document`."""
    while "$ref" in node:
        _, kind, name = node["$ref"].removeprefix("#/").split("/")
        node = document["components"][kind][name]
    return node


def _schema_name(content: dict[str, Any]) -> str:
    schema = content.get("application/json", {}).get("schema", {})
    return schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else ""


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation with its references resolved, in document order (for the docs page)."""
    result = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            responses = {
                code: _resolve(document, response)
                for code, response in operation["responses"].items()
            }
            success = next((r for code, r in responses.items() if code.startswith("2")), {})
            result.append(
                {
                    "method": method.upper(),
                    "path": BASE_PATH + path,
                    "id": operation["operationId"],
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "is_public": operation.get("security") == [],
                    "is_deprecated": operation.get("deprecated", False),
                    "parameters": [_resolve(document, p) for p in operation.get("parameters", [])],
                    "responses": [(code, r["description"]) for code, r in responses.items()],
                    "result": _schema_name(success.get("content", {})),
                    "request": _schema_name(operation.get("requestBody", {}).get("content", {})),
                }
            )
    return result
