"""The recruitment API: coordinators only, in the list envelope, with documented shapes."""

from __future__ import annotations

import pytest

from fieldwork.accounts.services import create_api_token
from fieldwork.api.spec import document
from fieldwork.core.time import now_utc
from fieldwork.recruitment.consent import record_consent
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ConsentMethod, ContactChannel
from tests.recruitment.helpers import all_yes, make_published_version

ENDPOINTS = ["contact-attempts", "consents", "audit-events"]


def bearer(user) -> dict[str, str]:
    _, token = create_api_token(user, "tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def history(world):
    ann, cora = world["ann"], world["cora"]
    log_contact_attempt(
        ann,
        cora,
        attempted_at=now_utc(),
        channel=ContactChannel.EMAIL,
        disposition=Disposition.LEFT_MESSAGE,
        note="Sent info sheet",
    )
    record_consent(
        ann,
        make_published_version(world["study"], cora),
        method=ConsentMethod.WRITTEN,
        answers=all_yes(),
        actor=cora,
    )
    return world


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_coordinators_read_interviewers_are_refused_anonymous_must_log_in(
    history, fresh_client, endpoint
):
    url = f"/api/v1/studies/{history['study'].slug}/{endpoint}"
    assert fresh_client.get(url).status_code == 401
    refused = fresh_client.get(url, headers=bearer(history["ivy"]))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == 403
    response = fresh_client.get(url, headers=bearer(history["cora"]))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "page", "per_page", "total", "pages", "next", "prev"}
    assert body["total"] >= 1


def _check_against_schema(item: dict, schema_name: str) -> None:
    """Every field the schema lists is present and nothing else (additionalProperties)."""
    schema = document()["components"]["schemas"][schema_name]
    assert set(item) == set(schema["properties"]), schema_name


def test_the_shapes_match_the_documented_schemas(history, fresh_client):
    slug, headers = history["study"].slug, bearer(history["cora"])
    attempts = fresh_client.get(
        f"/api/v1/studies/{slug}/contact-attempts", headers=headers
    ).get_json()["items"]
    _check_against_schema(attempts[0], "ContactAttempt")
    assert attempts[0]["disposition"] == "left_message"
    assert attempts[0]["aapor_category"] == "non_contact"
    assert attempts[0]["participant"] == {"id": history["ann"].id, "reference": "P1-001"}
    consents = fresh_client.get(f"/api/v1/studies/{slug}/consents", headers=headers).get_json()[
        "items"
    ]
    _check_against_schema(consents[0], "Consent")
    assert [a["key"] for a in consents[0]["answers"]] == [
        "take_part",
        "audio_recording",
        "anonymised_quotes",
        "archiving",
    ]
    events = fresh_client.get(
        f"/api/v1/studies/{slug}/audit-events?action=consent.recorded", headers=headers
    ).get_json()["items"]
    assert len(events) == 1
    _check_against_schema(events[0], "AuditEvent")


def test_filters_and_bad_parameters(history, fresh_client):
    slug, headers = history["study"].slug, bearer(history["cora"])
    base = f"/api/v1/studies/{slug}"
    assert (
        fresh_client.get(f"{base}/contact-attempts?disposition=agreed", headers=headers).get_json()[
            "total"
        ]
        == 0
    )
    assert (
        fresh_client.get(
            f"{base}/consents?participant={history['bob'].id}", headers=headers
        ).get_json()["total"]
        == 0
    )
    for query in ("disposition=pigeon", "participant=abc", "page=0", "per_page=9999"):
        response = fresh_client.get(f"{base}/contact-attempts?{query}", headers=headers)
        assert response.status_code == 400, query
    assert fresh_client.get("/api/v1/studies/nope/consents", headers=headers).status_code == 404


def test_the_document_names_every_endpoint_and_its_page_schema(app):
    paths = {path: item for path, item in document()["paths"].items() if "{slug}/" in path}
    for endpoint, schema in zip(
        ENDPOINTS, ["ContactAttempt", "Consent", "AuditEvent"], strict=True
    ):
        operation = paths[f"/studies/{{slug}}/{endpoint}"]["get"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok == f"#/components/schemas/{schema}Page"
        assert set(operation["responses"]) >= {"200", "400", "401", "403", "404"}
