"""Hand-written OpenAPI of the domains not yet moved to the toolkit, merged into the generated
document (`fieldwork.api.spec.document`) until each moves to its `schemas.py` and `api.py`.

A blueprint whose module defines `openapi_paths()` (and optionally `openapi_schemas()`,
`openapi_parameters()`, `openapi_responses()`) contributes; the generated document wins where
both name a component.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from flask import Flask

from fieldwork.api.schemas import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE

Schema = dict[str, Any]


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


def _schemas() -> dict[str, Schema]:
    return {
        "Page": _object(
            {
                "items": {"type": "array", "description": "This page's resources."},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0},
                "pages": {"type": "integer", "minimum": 1},
                "next": {"type": ["string", "null"], "format": "uri"},
                "prev": {"type": ["string", "null"], "format": "uri"},
            },
            "The envelope of every list.",
        ),
    }


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


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
        "slug": {
            "name": "slug",
            "in": "path",
            "required": True,
            "description": "The study's slug, e.g. pl-pathways.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 60},
        },
    }


def _responses() -> dict[str, Schema]:
    def error(description: str) -> Schema:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }

    return {
        "BadRequest": error("A query parameter is malformed; the message names it."),
        "Unauthorized": error("Neither a valid bearer token nor a logged-in session."),
        "NotFound": error("No such resource, or not one the caller may see."),
    }


def contributors(app: Flask) -> list[ModuleType]:
    """The modules of the app's blueprints that describe API endpoints of their own."""
    modules: list[ModuleType] = []
    for blueprint in app.blueprints.values():
        module = sys.modules.get(blueprint.import_name)
        if (
            module is not None
            and callable(getattr(module, "openapi_paths", None))
            and module not in modules
        ):
            modules.append(module)
    return modules


def merge_contributors(document: dict[str, Any], app: Flask) -> None:
    """Add the hand-written paths and components of `app`'s unconverted domains."""
    components = document.setdefault("components", {})
    for part, values in (
        ("schemas", _schemas()),
        ("parameters", _parameters()),
        ("responses", _responses()),
    ):
        for name, value in values.items():
            components.setdefault(part, {}).setdefault(name, value)
    for module in contributors(app):
        _merge(document["paths"], module.openapi_paths(), module.__name__)
        for part in ("schemas", "parameters", "responses"):
            describe = getattr(module, f"openapi_{part}", None)
            if describe is not None:
                for name, value in describe().items():
                    components.setdefault(part, {}).setdefault(name, value)
    known_tags = {tag["name"] for tag in document.setdefault("tags", [])}
    for item in document["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for tag in operation.get("tags", []):
                if tag not in known_tags:
                    document["tags"].append({"name": tag})
                    known_tags.add(tag)


def _merge(target: dict[str, Any], extra: dict[str, Any], source: str) -> None:
    for name, value in extra.items():
        if name in target and target[name] != value:
            raise ValueError(f"{source} describes {name!r} differently from the API document")
        target[name] = value
