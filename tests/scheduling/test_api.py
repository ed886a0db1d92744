"""The appointments API: bearer-token writes, 400 per field, 409 naming clashes, 404 for
others' appointments."""

from __future__ import annotations

from fieldwork.accounts import services as accounts
from fieldwork.api.spec import document
from fieldwork.extensions import db
from fieldwork.scheduling.models import Appointment
from tests.scheduling.conftest import at, book


def _bearer(user) -> dict:
    _, token = accounts.create_api_token(user, "test")
    return {"Authorization": f"Bearer {token}"}


def test_a_coordinator_books_moves_and_cancels_through_the_api(world, client):
    headers = _bearer(world["coordinator"])
    response = client.post(
        "/api/v1/appointments",
        headers=headers,
        json={
            "participant_id": world["first"].id,
            "interviewer_id": world["kathryn"].id,
            "starts_at": "2026-03-30T10:00+01:00",
            "mode": "video",
            "video_link": "https://meet.example.org/abc",
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["starts_at"] == "2026-03-30T09:00:00Z" and body["minutes"] == 60
    assert body["timezone"] == "Europe/London" and body["sequence"] == 0
    moved = client.post(
        f"/api/v1/appointments/{body['id']}/reschedule",
        headers=headers,
        json={"starts_at": "2026-03-31T11:00:00Z"},
    )
    assert moved.status_code == 200 and moved.json["sequence"] == 1
    cancelled = client.post(
        f"/api/v1/appointments/{body['id']}/cancel",
        headers=headers,
        json={"reason": "No longer needed"},
    )
    assert cancelled.json["status"] == "cancelled" and cancelled.json["sequence"] == 2
    assert (
        client.post(f"/api/v1/appointments/{body['id']}/cancel", headers=headers).status_code == 422
    )


def test_a_clash_answers_409_naming_it(world, client):
    book(world, at(2026, 3, 23, 10), participant=world["second"])
    response = client.post(
        "/api/v1/appointments",
        headers=_bearer(world["coordinator"]),
        json={
            "participant_id": world["first"].id,
            "interviewer_id": world["kathryn"].id,
            "starts_at": "2026-03-23T10:30:00Z",
        },
    )
    assert response.status_code == 409
    assert "Kathryn Interviewer already has P1-005" in response.json["error"]["message"]


def test_bad_input_answers_400_with_a_message_per_field(world, client):
    headers = _bearer(world["coordinator"])
    response = client.post(
        "/api/v1/appointments",
        headers=headers,
        json={
            "participant_id": "one",
            "starts_at": "2026-03-23T10:30",
            "mode": "fax",
            "minutes": 0,
        },
    )
    assert response.status_code == 400
    fields = response.json["error"]["fields"]
    assert set(fields) >= {"participant_id", "interviewer_id", "starts_at", "mode", "minutes"}
    assert (
        client.post(
            "/api/v1/appointments",
            headers=headers,
            data="nonsense",
            content_type="application/json",
        ).status_code
        == 400
    )


def test_writes_need_a_bearer_token_and_a_coordinator(world, client, auth):
    payload = {
        "participant_id": world["first"].id,
        "interviewer_id": world["kathryn"].id,
        "starts_at": "2026-03-23T10:00:00Z",
    }
    assert client.post("/api/v1/appointments", json=payload).status_code == 401
    auth.login(world["coordinator"])
    assert client.post("/api/v1/appointments", json=payload).status_code == 401  # session only
    auth.logout()
    assert (
        client.post(
            "/api/v1/appointments", json=payload, headers=_bearer(world["kathryn"])
        ).status_code
        == 403
    )
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 0


def test_interviewers_read_only_their_own_appointments(world, client):
    mine = book(world, at(2026, 3, 23, 10))
    theirs = book(
        world, at(2026, 3, 23, 10), participant=world["second"], interviewer=world["other"]
    )
    headers = _bearer(world["kathryn"])
    listing = client.get("/api/v1/appointments", headers=headers).json
    assert [item["id"] for item in listing["items"]] == [mine.id]
    assert client.get(f"/api/v1/appointments/{theirs.id}", headers=headers).status_code == 404
    assert (
        client.get(
            f"/api/v1/availability?interviewer={world['other'].id}", headers=headers
        ).status_code
        == 404
    )
    assert client.get("/api/v1/appointments?status=bogus", headers=headers).status_code == 400


def test_availability_lists_windows_busy_times_and_free_slots(world, client):
    book(world, at(2026, 3, 23, 10))
    response = client.get(
        f"/api/v1/availability?interviewer={world['kathryn'].id}&from=2026-03-23&days=1",
        headers=_bearer(world["coordinator"]),
    )
    assert response.status_code == 200
    body = response.json
    assert len(body["windows"]) == 5
    assert body["busy"] == [
        {"starts_at": "2026-03-23T10:00:00Z", "ends_at": "2026-03-23T11:00:00Z"}
    ]
    assert "2026-03-23T10:00:00Z" not in body["free_slots"]
    assert "2026-03-23T09:00:00Z" in body["free_slots"]


def test_the_document_names_every_route_and_marks_the_old_paths_deprecated(app):
    paths = document()["paths"]
    current = {
        "/studies/{slug}/appointments": {"get", "post"},
        "/appointments/{appointment_id}": {"get"},
        "/appointments/{appointment_id}/reschedule": {"post"},
        "/appointments/{appointment_id}/cancel": {"post"},
        "/participants/{participant_id}/booking-links": {"post"},
        "/availability": {"get"},
    }
    for path, methods in current.items():
        assert {m for m in paths[path] if m != "parameters"} == methods, path
        assert not any(paths[path][m].get("deprecated") for m in methods), path
    assert paths["/appointments"]["get"]["deprecated"] is True
    assert paths["/appointments"]["post"]["deprecated"] is True


def test_a_studys_appointments_are_listed_and_booked_under_its_path(world, client):
    """The study's path lists what the old ?study= list did, and books there; a participant
    of another study cannot be booked under this one's path."""
    mine = book(world, at(2026, 3, 23, 10))
    headers = _bearer(world["coordinator"])
    slug = world["study"].slug
    current = client.get(f"/api/v1/studies/{slug}/appointments", headers=headers)
    old = client.get(f"/api/v1/appointments?study={slug}", headers=headers)
    assert current.status_code == old.status_code == 200
    assert [item["id"] for item in current.json["items"]] == [mine.id]
    assert current.json["items"] == old.json["items"]
    assert old.headers["Deprecation"] == "true" and "Deprecation" not in current.headers
    assert set(current.json) == {"items", "page", "per_page", "total", "pages", "next", "prev"}
    booked = client.post(
        f"/api/v1/studies/{slug}/appointments",
        headers=headers,
        json={
            "participant_id": world["second"].id,
            "interviewer_id": world["kathryn"].id,
            "starts_at": "2026-03-24T10:00:00Z",
        },
    )
    assert booked.status_code == 201, booked.json
    assert booked.headers["Location"].endswith(f"/api/v1/appointments/{booked.json['id']}")
    assert client.get("/api/v1/studies/nope/appointments", headers=headers).status_code == 404


def test_an_integration_makes_a_booking_link_and_the_participant_can_use_it(world, client):
    """POST /participants/{id}/booking-links answers the URL and expiry; "send" emails it."""
    from tests.scheduling.conftest import outbox_messages

    headers = _bearer(world["coordinator"])
    url = f"/api/v1/participants/{world['first'].id}/booking-links"
    response = client.post(url, headers=headers, json={})
    assert response.status_code == 201, response.json
    body = response.json
    # Kathryn is the participant's assigned interviewer; two weeks by default.
    assert body["interviewer_id"] == world["kathryn"].id and body["sent"] is False
    assert body["expires_at"] == "2026-04-03T12:00:00Z"
    assert client.get(body["url"].replace("http://localhost", "")).status_code == 200
    assert outbox_messages("other") == []

    sent = client.post(url, headers=headers, json={"send": True, "days": 3, "mode": "video"})
    assert sent.status_code == 201 and sent.json["sent"] is True
    (mail,) = outbox_messages("other")
    assert sent.json["url"] in mail.get_body(("plain",)).get_content()

    bad = client.post(url, headers=headers, json={"days": 0, "mode": "pigeon"})
    assert bad.status_code == 400 and set(bad.json["error"]["fields"]) == {"days", "mode"}
    assert client.post(url, json={}).status_code == 401
    assert client.post(url, headers=_bearer(world["kathryn"]), json={}).status_code == 403
    missing = "/api/v1/participants/999999/booking-links"
    assert client.post(missing, headers=headers, json={}).status_code == 404
