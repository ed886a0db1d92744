"""GET /api/v1/coverage: the dashboard's figures as JSON, documented in the OpenAPI document."""

from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fieldwork.coverage import services
from tests.api import conftest as api_fixtures

# The API tests' fixtures: a client whose requests are separate, and bearer tokens.
api_client = api_fixtures.api_client
bearer = api_fixtures.bearer


def _validate(document: dict, body: dict, status: int) -> None:
    response = document["paths"]["/coverage"]["get"]["responses"][str(status)]
    pointer = (
        response["$ref"]
        if "$ref" in response
        else "#/paths/~1coverage/get/responses/" + str(status)
    )
    registry = Registry().with_resource(
        "urn:doc", Resource(contents=document, specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": "urn:doc" + pointer + "/content/application~1json/schema"},
        registry=registry,
        format_checker=FormatChecker(),
    )
    errors = list(validator.iter_errors(body))
    assert not errors, [e.message for e in errors]


def test_the_api_answers_every_cell_and_matches_the_document(hand_study, api_client, bearer):
    headers = bearer(hand_study["interviewer"])  # anyone logged in may read coverage
    document = api_client.get("/api/v1/openapi.json").json
    assert "/coverage" in document["paths"]
    response = api_client.get("/api/v1/coverage", query_string={"study": "hand"}, headers=headers)
    assert response.status_code == 200
    body = response.json
    _validate(document, body, 200)
    assert body["study"] == "hand" and body["total_target"] == 8
    assert [c["cell"] for c in body["cells"]].count("role_phase") == 4
    overall = body["cells"][-1]
    assert (overall["cell"], overall["participants"], overall["achieved"]) == ("overall", 18, 6)
    assert set(overall) == set(services.RECORD_FIELDS)
    assert [w["cumulative"] for w in body["weeks"]] == [4, 5, 6, 6, 6]
    assert {d["key"] for d in body["definitions"]} >= {"response_rate", "no_show_rate"}


def test_the_api_names_a_missing_study_and_refuses_strangers(hand_study, api_client, bearer):
    document = api_client.get("/api/v1/openapi.json").json
    headers = bearer(hand_study["coordinator"])
    missing = api_client.get("/api/v1/coverage", headers=headers)
    assert missing.status_code == 400 and "study" in missing.json["error"]["message"]
    _validate(document, missing.json, 400)
    unknown = api_client.get("/api/v1/coverage?study=nope", headers=headers)
    assert unknown.status_code == 404
    _validate(document, unknown.json, 404)
    anonymous = api_client.get("/api/v1/coverage?study=hand")
    assert anonymous.status_code == 401
    _validate(document, anonymous.json, 401)
