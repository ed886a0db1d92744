"""Who may call the API: a bearer token or a logged-in browser, nobody else."""

from __future__ import annotations

import pytest

from fieldwork.accounts.services import create_api_token, revoke_api_token, update_user
from fieldwork.extensions import db

STUDY_URLS = [
    "/api/v1/studies",
    "/api/v1/studies/{slug}",
    "/api/v1/studies/{slug}/phases",
    "/api/v1/studies/{slug}/districts",
    "/api/v1/studies/{slug}/organisations",
    "/api/v1/studies/{slug}/roles",
    "/api/v1/studies/{slug}/participants",
]


def _assert_401(response):
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"]["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("url", STUDY_URLS)
def test_without_credentials_every_endpoint_answers_401_json(api_client, frame, url):
    _assert_401(api_client.get(url.format(slug=frame["study"].slug)))


def test_without_credentials_single_resources_answer_401_not_404(api_client, frame):
    """Whether an id exists is not told to strangers."""
    for url in (
        f"/api/v1/participants/{frame['ann'].id}",
        "/api/v1/participants/999999",
        f"/api/v1/districts/{frame['north'].id}",
        f"/api/v1/organisations/{frame['jcp'].id}",
        f"/api/v1/roles/{frame['tppm'].id}",
    ):
        _assert_401(api_client.get(url))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer fw_not-a-real-token",
        "Bearer garbage",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "fw_" + "x" * 500,
    ],
)
def test_a_garbage_authorization_header_answers_401(api_client, frame, header):
    _assert_401(api_client.get("/api/v1/studies", headers={"Authorization": header}))


def test_a_revoked_token_answers_401(api_client, frame):
    row, token = create_api_token(frame["coordinator"], "script")
    headers = {"Authorization": f"Bearer {token}"}
    assert api_client.get("/api/v1/studies", headers=headers).status_code == 200
    revoke_api_token(frame["coordinator"], row.id)
    _assert_401(api_client.get("/api/v1/studies", headers=headers))


def test_a_disabled_users_token_answers_401(api_client, frame):
    user = frame["coordinator"]
    _, token = create_api_token(user)
    update_user(
        user,
        name=user.name,
        email=user.email,
        role=user.role,
        timezone=user.timezone,
        is_enabled=False,
    )
    _assert_401(api_client.get("/api/v1/studies", headers={"Authorization": f"Bearer {token}"}))


def test_a_bearer_token_opens_the_api_and_is_not_remembered(api_client, frame, bearer):
    """The token authenticates one request; it starts no session the next request could use."""
    response = api_client.get("/api/v1/studies", headers=bearer(frame["coordinator"]))
    assert response.status_code == 200
    assert [s["slug"] for s in response.json["items"]] == [frame["study"].slug]
    assert "Set-Cookie" not in response.headers
    _assert_401(api_client.get("/api/v1/studies"))


def test_a_bearer_token_records_when_it_was_last_used(api_client, frame, app):
    row, token = create_api_token(frame["coordinator"])
    assert row.last_used_at is None
    api_client.get("/api/v1/studies", headers={"Authorization": f"Bearer {token}"})
    db.session.refresh(row)
    assert row.last_used_at is not None


def test_the_scheme_name_is_case_insensitive(api_client, frame):
    _, token = create_api_token(frame["coordinator"])
    response = api_client.get("/api/v1/studies", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_a_logged_in_browser_session_opens_the_api_until_logout(api_client, api_auth, frame):
    api_auth.login(frame["coordinator"])
    response = api_client.get(f"/api/v1/studies/{frame['study'].slug}/participants")
    assert response.status_code == 200
    assert response.json["total"] == 4
    api_auth.logout()
    _assert_401(api_client.get(f"/api/v1/studies/{frame['study'].slug}/participants"))


def test_the_openapi_document_is_public(api_client):
    response = api_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.json["openapi"].startswith("3.")


def test_unknown_api_paths_answer_404_json(api_client, frame, bearer):
    response = api_client.get("/api/v1/nothing-here", headers=bearer(frame["coordinator"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == 404


def test_methods_a_resource_does_not_offer_answer_405(api_client, frame, bearer):
    """A participant is read (GET) and changed (PATCH, tests/api/test_writes_participants.py);
    other methods answer 405 JSON."""
    headers = bearer(frame["coordinator"])
    url = f"/api/v1/participants/{frame['ann'].id}"
    for method in ("post", "put", "delete"):
        response = getattr(api_client, method)(url, headers=headers)
        assert response.status_code == 405, method
        assert response.json["error"]["code"] == 405


# --- Writes need a bearer token ------------------------------------------------------------


def _write_url(frame) -> str:
    """A write endpoint, for an appointment that does not exist (the gate answers first)."""
    return "/api/v1/appointments/999999/cancel"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer x", "Bearer ", "bearer fw_not-a-real-token", "Basic Y29vcmQ6cGFzcw=="],
)
def test_a_session_cookie_never_authorises_a_write(api_client, api_auth, frame, header):
    """A logged-in coordinator's browser session, alone or with any Authorization header that
    is not a valid token, is refused with 401 JSON before the write is looked at."""
    api_auth.login(frame["coordinator"])
    headers = {"Authorization": header} if header is not None else {}
    response = api_client.post(_write_url(frame), json={"reason": "x"}, headers=headers)
    assert response.status_code == 401
    assert "bearer" in response.json["error"]["message"].lower()
    assert "browser session is not accepted" in response.json["error"]["message"]


def test_a_write_with_session_and_token_acts_for_the_tokens_owner(
    api_client, api_auth, frame, bearer
):
    """With a coordinator's session and an interviewer's token, the interviewer acts: the
    write is judged by the token, never by the cookie (403: interviewers do not cancel)."""
    api_auth.login(frame["coordinator"])
    response = api_client.post(
        _write_url(frame), json={"reason": "x"}, headers=bearer(frame["alice"])
    )
    assert response.status_code in (403, 404)
    coordinator_token = bearer(frame["coordinator"])
    response = api_client.post(_write_url(frame), json={"reason": "x"}, headers=coordinator_token)
    assert response.status_code == 404, "a coordinator's token passes the gate"
