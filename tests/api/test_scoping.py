"""Interviewers see through the API only the participants assigned to them, as on the pages."""

from __future__ import annotations

PARTICIPANTS = "/api/v1/studies/{slug}/participants"


def _references(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["reference"] for item in response.json["items"]]


def test_an_interviewer_lists_only_their_own_participants(api_client, frame, bearer):
    url = PARTICIPANTS.format(slug=frame["study"].slug)
    assert _references(api_client.get(url, headers=bearer(frame["alice"]))) == ["P1-001", "P1-002"]
    assert _references(api_client.get(url, headers=bearer(frame["ben"]))) == ["P2-001"]
    assert api_client.get(url, headers=bearer(frame["ben"])).json["total"] == 1


def test_filters_cannot_widen_an_interviewers_view(api_client, frame, bearer):
    """Asking for another interviewer's caseload gives nothing, not their people."""
    url = PARTICIPANTS.format(slug=frame["study"].slug)
    headers = bearer(frame["alice"])
    assert (
        _references(
            api_client.get(url, query_string={"interviewer": frame["ben"].id}, headers=headers)
        )
        == []
    )
    assert _references(api_client.get(url, query_string={"phase": 2}, headers=headers)) == []
    assert _references(api_client.get(url, query_string={"q": "Cat"}, headers=headers)) == []


def test_an_interviewer_gets_404_for_someone_elses_participant(api_client, frame, bearer):
    headers = bearer(frame["alice"])
    assert (
        api_client.get(f"/api/v1/participants/{frame['ann'].id}", headers=headers).status_code
        == 200
    )
    for other in (frame["cat"], frame["dan"]):
        response = api_client.get(f"/api/v1/participants/{other.id}", headers=headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == 404
        assert "Clarke" not in response.get_data(as_text=True)


def test_an_interviewer_with_a_session_is_scoped_the_same(api_client, api_auth, frame):
    api_auth.login(frame["ben"])
    url = PARTICIPANTS.format(slug=frame["study"].slug)
    assert _references(api_client.get(url)) == ["P2-001"]
    assert api_client.get(f"/api/v1/participants/{frame['ann'].id}").status_code == 404


def test_a_coordinator_sees_everyone(api_client, frame, bearer):
    headers = bearer(frame["coordinator"])
    url = PARTICIPANTS.format(slug=frame["study"].slug)
    assert _references(api_client.get(url, headers=headers)) == [
        "P1-001",
        "P1-002",
        "P2-001",
        "P2-002",
    ]
    for person in ("ann", "cat", "dan"):
        assert (
            api_client.get(f"/api/v1/participants/{frame[person].id}", headers=headers).status_code
            == 200
        )


def test_interviewers_read_the_rest_of_the_frame(api_client, frame, bearer):
    """Districts, organisations and roles are not personal data: interviewers see them all."""
    headers = bearer(frame["alice"])
    slug = frame["study"].slug
    assert (
        api_client.get(f"/api/v1/studies/{slug}/organisations", headers=headers).json["total"] == 3
    )
    assert (
        api_client.get(f"/api/v1/districts/{frame['south'].id}", headers=headers).status_code == 200
    )
