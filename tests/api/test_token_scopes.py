"""Token scopes: a read token reads everything its owner may see and changes nothing; writes
need a read-and-write token (a session cookie alone never writes)."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldwork.accounts.models import TokenScope
from fieldwork.accounts.services import create_api_token
from fieldwork.extensions import db
from fieldwork.scheduling.models import Appointment


def _headers(user, scope: TokenScope) -> dict[str, str]:
    _, token = create_api_token(user, "scoped", scope)
    return {"Authorization": f"Bearer {token}"}


def _booking(frame) -> dict:
    return {
        "participant_id": frame["bob"].id,
        "interviewer_id": frame["alice"].id,
        "starts_at": "2030-03-04T10:00:00Z",
        "confirm": True,  # no availability is set: book anyway
    }


def test_a_read_token_reads(api_client, frame):
    headers = _headers(frame["coordinator"], TokenScope.READ)
    slug = frame["study"].slug
    assert (
        api_client.get(f"/api/v1/studies/{slug}/participants", headers=headers).status_code == 200
    )


def test_a_read_token_cannot_write_and_is_told_why_in_the_error_shape(api_client, frame):
    response = api_client.post(
        "/api/v1/appointments",
        json=_booking(frame),
        headers=_headers(frame["coordinator"], TokenScope.READ),
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == 403
    assert "may only read" in response.json["error"]["message"]
    assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_a_write_token_passes_the_scope_check(api_client, frame):
    response = api_client.post(
        "/api/v1/appointments",
        json=_booking(frame),
        headers=_headers(frame["coordinator"], TokenScope.WRITE),
    )
    assert response.status_code == 201, response.json


def test_a_session_cookie_alone_never_writes(api_client, api_auth, frame):
    api_auth.login(frame["coordinator"])
    response = api_client.post("/api/v1/appointments", json=_booking(frame))
    assert response.status_code == 401
    assert response.json["error"]["code"] == 401
    assert db.session.scalar(select(func.count(Appointment.id))) == 0
