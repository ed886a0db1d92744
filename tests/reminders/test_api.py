"""The reminders and outbox API: coordinators only, paginated, filterable, documented."""

from __future__ import annotations

import datetime as dt

import jsonschema
import pytest

from fieldwork.accounts.services import create_api_token
from fieldwork.api.spec import document as document_for
from fieldwork.extensions import db
from fieldwork.reminders import jobs, services
from tests.reminders.conftest import NOW, make_appointment


@pytest.fixture
def reminders(world, clock):
    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    planned = services.plan_reminders(appointment)
    db.session.commit()
    clock.move(NOW + dt.timedelta(days=3, minutes=1))
    jobs.sweep_due_reminders()
    return planned


def _bearer(user) -> dict:
    _, token = create_api_token(user, "test")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _validate(app, body: dict, schema_name: str) -> None:
    document = document_for(app)
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


def test_coordinators_read_reminders_filtered_by_state(app, client, world, reminders):
    headers = _bearer(world["coordinator"])
    everything = client.get("/api/v1/reminders", headers=headers)
    assert everything.status_code == 200
    body = everything.get_json()
    assert body["total"] == 4
    _validate(app, body, "ReminderPage")
    pending = client.get(
        "/api/v1/reminders?state=pending&recipient=participant", headers=headers
    ).get_json()
    assert [item["offset_minutes"] for item in pending["items"]] == [120, 2880]  # latest first
    one = client.get(f"/api/v1/reminders/{reminders[0].id}", headers=headers)
    assert one.status_code == 200
    _validate(app, one.get_json(), "Reminder")
    assert one.get_json()["message_id"] == reminders[0].message_id


def test_coordinators_read_outbox_messages(app, client, world, reminders):
    headers = _bearer(world["coordinator"])
    body = client.get("/api/v1/outbox?kind=reminder", headers=headers).get_json()
    assert body["total"] == 2
    _validate(app, body, "OutboxMessagePage")
    message_id = body["items"][0]["id"]
    one = client.get(f"/api/v1/outbox/{message_id}", headers=headers).get_json()
    _validate(app, one, "OutboxMessage")
    assert one["state"] == "pending"
    assert "raw" not in one


def test_interviewers_get_403_and_strangers_401(client, world, reminders):
    headers = _bearer(world["kathryn"])
    for path in (
        "/api/v1/reminders",
        f"/api/v1/reminders/{reminders[0].id}",
        "/api/v1/outbox",
        "/api/v1/outbox/1",
    ):
        assert client.get(path, headers=headers).status_code == 403
        assert client.get(path).status_code == 401


def test_bad_parameters_answer_400_naming_them(client, world, reminders):
    headers = _bearer(world["coordinator"])
    for query, name in (
        ("state=exploded", "state"),
        ("appointment=-1", "appointment"),
        ("study=nope", "study"),
        ("per_page=0", "per_page"),
        ("kind=x", "kind"),
    ):
        path = "/api/v1/outbox" if name == "kind" else "/api/v1/reminders"
        response = client.get(f"{path}?{query}", headers=headers)
        assert response.status_code == 400, query
        assert name in response.get_json()["error"]["message"]
    assert client.get("/api/v1/reminders/999999", headers=headers).status_code == 404


def test_the_endpoints_are_in_the_openapi_document(app):
    paths = document_for(app)["paths"]
    current = {
        "/studies/{slug}/reminders",
        "/reminders/{reminder_id}",
        "/studies/{slug}/outbox",
        "/outbox/{message_id}",
    }
    assert current <= set(paths)
    for old in ("/reminders", "/outbox"):
        assert paths[old]["get"]["deprecated"] is True
    for path in current:
        assert "deprecated" not in paths[path]["get"]


def test_a_studys_lists_answer_what_the_old_paths_answer_for_it(app, client, world, reminders):
    """The lists under /studies/{slug}/ answer what /reminders?study= and /outbox?study= did;
    the old paths keep answering for one release, with a Deprecation header."""
    headers = _bearer(world["coordinator"])
    slug = world["study"].slug
    for new, old in (
        (f"/api/v1/studies/{slug}/reminders", f"/api/v1/reminders?study={slug}"),
        (f"/api/v1/studies/{slug}/outbox", f"/api/v1/outbox?study={slug}"),
    ):
        current, deprecated = client.get(new, headers=headers), client.get(old, headers=headers)
        assert current.status_code == deprecated.status_code == 200
        assert current.json["items"] == deprecated.json["items"]
        assert current.json["total"] >= 2
        assert "Deprecation" not in current.headers
        assert deprecated.headers["Deprecation"] == "true"
    assert client.get("/api/v1/studies/nope/reminders", headers=headers).status_code == 404


def test_the_document_with_these_endpoints_is_valid_openapi(app):
    from openapi_spec_validator import validate

    validate(document_for(app))
