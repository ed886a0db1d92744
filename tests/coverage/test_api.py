"""GET /api/v1/studies/{slug}/coverage: the dashboard's figures as JSON, documented in the
OpenAPI document; the old GET /api/v1/coverage?study= still answers, marked deprecated."""

from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fieldwork.coverage import records
from tests.api import conftest as api_fixtures

# The API tests' fixtures: a client whose requests are separate, and bearer tokens.
api_client = api_fixtures.api_client
bearer = api_fixtures.bearer


def _validate(document: dict, body: dict, status: int, path: str = "/studies/{slug}/coverage"):
    response = document["paths"][path]["get"]["responses"][str(status)]
    escaped = path.replace("~", "~0").replace("/", "~1")
    pointer = response.get("$ref", f"#/paths/{escaped}/get/responses/{status}")
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
    assert "/studies/{slug}/coverage" in document["paths"]
    response = api_client.get("/api/v1/studies/hand/coverage", headers=headers)
    assert response.status_code == 200
    assert "Deprecation" not in response.headers
    body = response.json
    _validate(document, body, 200)
    assert body["study"] == "hand" and body["total_target"] == 8
    assert [c["cell"] for c in body["cells"]].count("role_phase") == 4
    overall = body["cells"][-1]
    assert (overall["cell"], overall["participants"], overall["achieved"]) == ("overall", 18, 6)
    assert set(overall) == set(records.RECORD_FIELDS)
    assert [w["cumulative"] for w in body["weeks"]] == [4, 5, 6, 6, 6]
    assert {d["key"] for d in body["definitions"]} >= {"response_rate", "no_show_rate"}


def test_the_api_names_a_missing_study_and_refuses_strangers(hand_study, api_client, bearer):
    document = api_client.get("/api/v1/openapi.json").json
    headers = bearer(hand_study["coordinator"])
    unknown = api_client.get("/api/v1/studies/nope/coverage", headers=headers)
    assert unknown.status_code == 404
    _validate(document, unknown.json, 404)
    anonymous = api_client.get("/api/v1/studies/hand/coverage")
    assert anonymous.status_code == 401
    _validate(document, anonymous.json, 401)


def test_the_old_path_answers_the_same_marked_deprecated(hand_study, api_client, bearer):
    """/coverage?study= keeps answering for one release: the same body, a Deprecation header,
    and `deprecated: true` in the document."""
    document = api_client.get("/api/v1/openapi.json").json
    old = "/coverage"
    assert document["paths"][old]["get"]["deprecated"] is True
    assert "deprecated" not in document["paths"]["/studies/{slug}/coverage"]["get"]
    headers = bearer(hand_study["coordinator"])
    response = api_client.get("/api/v1/coverage?study=hand", headers=headers)
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "true"
    _validate(document, response.json, 200, old)
    current = api_client.get("/api/v1/studies/hand/coverage", headers=headers).json
    assert {**response.json, "generated_at": None} == {**current, "generated_at": None}
    missing = api_client.get("/api/v1/coverage", headers=headers)
    assert missing.status_code == 400 and missing.json["error"]["message"].startswith("study:")
    _validate(document, missing.json, 400, old)
    unknown = api_client.get("/api/v1/coverage?study=nope", headers=headers)
    assert unknown.status_code == 404
    _validate(document, unknown.json, 404, old)
    anonymous = api_client.get("/api/v1/coverage?study=hand")
    assert anonymous.status_code == 401
    _validate(document, anonymous.json, 401, old)
