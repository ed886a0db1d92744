"""The OpenAPI document is valid, covers every endpoint, and matches what they really answer.

Real responses of every operation (successes and errors) are validated against the document's
own response schemas with `jsonschema`; the resource schemas forbid unlisted fields, so a
field added to a serializer without its schema fails here.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fieldwork.api.blueprint import BASE_PATH
from fieldwork.api.spec import document as document_of

DOCUMENT_URI = "urn:fieldwork:openapi"

#: The sample frame's endpoints (fieldwork/sampling/api.py).
FRAME_PATHS = {
    "/studies",
    "/studies/{slug}",
    "/studies/{slug}/phases",
    "/studies/{slug}/districts",
    "/studies/{slug}/organisations",
    "/studies/{slug}/roles",
    "/studies/{slug}/participants",
    "/participants/{participant_id}",
    "/districts/{district_id}",
    "/organisations/{organisation_id}",
    "/roles/{role_id}",
}


@pytest.fixture
def document(api_client) -> dict:
    response = api_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _validator(document: dict, pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        DOCUMENT_URI, Resource(contents=document, specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": DOCUMENT_URI + pointer}, registry=registry, format_checker=FormatChecker()
    )


def _response_schema_pointer(document: dict, path: str, status: int) -> str:
    """The JSON pointer of the schema the document promises for this path and status."""
    response = document["paths"][path]["get"]["responses"][str(status)]
    if "$ref" in response:
        pointer = response["$ref"]
    else:
        escaped = path.replace("~", "~0").replace("/", "~1")
        pointer = f"#/paths/{escaped}/get/responses/{status}"
    return pointer + "/content/application~1json/schema"


def _check(document: dict, path: str, response) -> None:
    """The response's status is documented for `path`, and its body fits the schema."""
    documented = document["paths"][path]["get"]["responses"]
    assert str(response.status_code) in documented, (path, response.status_code)
    assert response.mimetype == "application/json"
    validator = _validator(document, _response_schema_pointer(document, path, response.status_code))
    errors = sorted(validator.iter_errors(response.json), key=lambda e: list(e.path))
    assert not errors, f"{path} {response.status_code}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors
    )


def test_the_document_is_a_valid_openapi_3_1_document(document):
    assert document["openapi"] == "3.1.0"
    validate_spec(document)


def test_the_served_document_is_the_generated_one_with_the_apps_cookie(app, document):
    assert document == document_of(app)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert schemes["cookieAuth"]["name"] == app.config["SESSION_COOKIE_NAME"]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def test_every_component_schema_is_valid_json_schema_2020_12(document):
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert schema.get("description"), f"{name}: say what it is"


def test_every_api_route_is_in_the_document_and_no_more(app, document):
    """Every method and path under /api/v1, whichever domain serves it, is documented, and
    the document describes no route that does not exist (the HTML docs page aside)."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(BASE_PATH + "/") and rule.endpoint != "api_pages.docs":
            path = re.sub(r"<(?:id:)?(\w+)>", r"{\1}", rule.rule[len(BASE_PATH) :])
            routes.update(
                (method.lower(), path)
                for method in rule.methods
                if method not in ("HEAD", "OPTIONS")
            )
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert routes == documented


def test_path_parameters_are_described_once_per_path(document):
    """A path's parameters, e.g. {slug} and {participant_id}, are each described."""
    components = document["components"]

    def resolved(parameter: dict) -> dict:
        if "$ref" in parameter:
            return components["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        return parameter

    for path, item in document["paths"].items():
        named = set(re.findall(r"{(\w+)}", path))
        parameters = list(item.get("parameters", []))
        for method, operation in item.items():
            if method != "parameters":
                parameters += operation.get("parameters", [])
        described = {p["name"] for p in map(resolved, parameters) if p["in"] == "path"}
        assert named == described, path


def test_the_sample_frame_paths_are_all_there(document):
    assert set(document["paths"]) >= FRAME_PATHS


def test_list_schemas_share_the_page_envelope(document):
    """Every list answers the Page envelope, its items typed."""
    schemas = document["components"]["schemas"]
    envelope = schemas["Page"]
    for name in ("Study", "Phase", "District", "Organisation", "Role", "Participant"):
        page = schemas[f"{name}Page"]
        assert page["required"] == envelope["required"]
        assert page["additionalProperties"] is False
        assert {k: v for k, v in page["properties"].items() if k != "items"} == {
            k: v for k, v in envelope["properties"].items() if k != "items"
        }
        assert page["properties"]["items"] == {
            "type": "array",
            "items": {"$ref": f"#/components/schemas/{name}"},
        }
    assert set(schemas["Page"]["required"]) == {
        "items",
        "page",
        "per_page",
        "total",
        "pages",
        "next",
        "prev",
    }
    assert schemas["Error"]["required"] == ["error"]


def test_every_endpoint_answers_what_the_document_says(api_client, frame, bearer, document):
    """Call each documented operation for real, with filters, and validate the answers."""
    headers = bearer(frame["coordinator"])
    slug = frame["study"].slug
    calls = [
        ("/studies", "/api/v1/studies", {"q": "test", "per_page": 1}),
        ("/studies/{slug}", f"/api/v1/studies/{slug}", {}),
        ("/studies/{slug}/phases", f"/api/v1/studies/{slug}/phases", {"per_page": 1}),
        ("/studies/{slug}/districts", f"/api/v1/studies/{slug}/districts", {"phase": 2, "q": "s"}),
        (
            "/studies/{slug}/organisations",
            f"/api/v1/studies/{slug}/organisations",
            {"kind": "subcontractor", "district": frame["south"].id, "q": "small"},
        ),
        (
            "/studies/{slug}/organisations",
            f"/api/v1/studies/{slug}/organisations",
            {"per_page": 2, "page": 2},
        ),
        ("/studies/{slug}/roles", f"/api/v1/studies/{slug}/roles", {"kind": "jcp"}),
        (
            "/studies/{slug}/participants",
            f"/api/v1/studies/{slug}/participants",
            {"per_page": 2, "page": 2},
        ),
        (
            "/studies/{slug}/participants",
            f"/api/v1/studies/{slug}/participants",
            {
                "q": "a",
                "phase": 1,
                "district": frame["north"].id,
                "role": frame["tppm"].id,
                "kind": "jcp",
                "status": "approached",
                "interviewer": frame["alice"].id,
            },
        ),
        ("/participants/{participant_id}", f"/api/v1/participants/{frame['cat'].id}", {}),
        ("/participants/{participant_id}", f"/api/v1/participants/{frame['dan'].id}", {}),
        ("/districts/{district_id}", f"/api/v1/districts/{frame['north'].id}", {}),
        ("/organisations/{organisation_id}", f"/api/v1/organisations/{frame['sub'].id}", {}),
        ("/organisations/{organisation_id}", f"/api/v1/organisations/{frame['jcp'].id}", {}),
        ("/roles/{role_id}", f"/api/v1/roles/{frame['tppm'].id}", {}),
        ("/openapi.json", "/api/v1/openapi.json", {}),
    ]
    for path, url, query in calls:
        response = api_client.get(url, query_string=query, headers=headers)
        assert response.status_code == 200, (url, response.json)
        _check(document, path, response)
        body = response.json
        if "items" in body:
            assert body["items"], f"{url} {query}: validate a non-empty page"
            for link in (body["next"], body["prev"]):
                assert link is None or urlsplit(link).path == url
    assert {path for path, _, _ in calls} == FRAME_PATHS | {"/openapi.json"}


def test_every_documented_error_answers_the_error_schema(api_client, frame, bearer, document):
    headers = bearer(frame["coordinator"])
    slug = frame["study"].slug
    for path in FRAME_PATHS:
        responses = document["paths"][path]["get"]["responses"]
        concrete = BASE_PATH + re.sub(r"{\w+_id}", "2147483647", path.replace("{slug}", slug))
        if "401" in responses:
            _check(document, path, api_client.get(concrete))
        if "404" in responses:
            missing = BASE_PATH + re.sub(
                r"{\w+_id}", "2147483647", path.replace("{slug}", "missing")
            )
            response = api_client.get(missing, headers=headers)
            assert response.status_code == 404, missing
            _check(document, path, response)
        if "400" in responses:
            response = api_client.get(concrete, query_string={"per_page": "many"}, headers=headers)
            assert response.status_code == 400, concrete
            _check(document, path, response)


def test_the_date_time_format_is_checked(document):
    """Guard against the format checker silently not checking (it needs rfc3339-validator)."""
    validator = _validator(document, "#/components/schemas/Participant/properties/created_at")
    assert not validator.is_valid("2009-01-12 10:00")
    assert validator.is_valid(dt.datetime(2009, 1, 12, 10, tzinfo=dt.UTC).isoformat())


def test_every_documented_query_parameter_is_accepted(api_client, frame, bearer, document):
    """A valid value of each parameter the document lists answers 200, never 400."""
    headers = bearer(frame["coordinator"])
    samples = {
        "page": 1,
        "per_page": 200,
        "q": "x",
        "phase": 1,
        "district": 1,
        "role": 1,
        "kind": "dwp",
        "status": "withdrawn",
        "interviewer": 1,
    }
    for path in FRAME_PATHS:
        operation = document["paths"][path]
        url = BASE_PATH + re.sub(
            r"{\w+_id}", str(frame["ann"].id), path.replace("{slug}", frame["study"].slug)
        )
        for parameter in operation["get"].get("parameters", []):
            if parameter["in"] != "query":
                continue
            response = api_client.get(
                url, query_string={parameter["name"]: samples[parameter["name"]]}, headers=headers
            )
            assert response.status_code == 200, (url, parameter["name"], response.json)
