"""Adding and changing participants through the API: the CSV import's rules field by field,
the study's coordinators only, audited, and safe to retry with an Idempotency-Key."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fieldwork.accounts.models import TokenScope
from fieldwork.accounts.services import create_api_token
from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.sampling.models import Participant, RecruitmentStatus
from tests.factories import make_district, make_study
from tests.race import race


@pytest.fixture
def writer(frame, bearer) -> dict[str, str]:
    return bearer(frame["coordinator"])


def _url(frame) -> str:
    return f"/api/v1/studies/{frame['study'].slug}/participants"


def _new(frame, **changes) -> dict:
    return {
        "name": "Eve Evans",
        "email": "Eve.Evans@example.org",
        "phone": "020 7946 0002",
        "job_title": "Contract manager",
        "role_id": frame["tppm"].id,
        "organisation_id": frame["jcp"].id,
        "district_id": frame["north"].id,
        "notes": "Met at the launch",
        "timezone": "Europe/Paris",
        "interviewer_id": frame["alice"].id,
        **changes,
    }


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Participant.id)))


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- Creating --------------------------------------------------------------------------------


def test_a_coordinator_adds_a_participant(api_client, frame, writer):
    response = api_client.post(_url(frame), json=_new(frame), headers=writer)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reference"] == "P1-003"  # ann and bob hold P1-001 and P1-002
    assert body["email"] == "eve.evans@example.org"
    assert body["timezone"] == "Europe/Paris"
    assert body["status"] == RecruitmentStatus.IDENTIFIED.value
    assert body["interviewer"] == {"id": frame["alice"].id, "name": "Alice Interviewer"}
    assert response.headers["Location"].endswith(f"/api/v1/participants/{body['id']}")
    assert api_client.get(response.headers["Location"], headers=writer).json == body
    [event] = _events("participant.created")
    assert event.subject_id == body["id"] and event.actor_id == frame["coordinator"].id
    assert event.after["email"] == "eve.evans@example.org"


def test_only_the_required_fields_are_needed(api_client, frame, writer):
    minimal = {
        "name": "Fay Fox",
        "role_id": frame["manager"].id,
        "organisation_id": frame["provider"].id,
        "district_id": frame["south"].id,
    }
    response = api_client.post(_url(frame), json=minimal, headers=writer)
    assert response.status_code == 201, response.json
    assert response.json["reference"] == "P2-003"
    assert response.json["email"] == "" and response.json["interviewer"] is None


def test_fields_of_the_wrong_type_are_all_named_at_once(api_client, frame, writer):
    response = api_client.post(
        _url(frame),
        json=_new(frame, name=5, role_id="one", district_id=1.5, nickname="Evie"),
        headers=writer,
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == 400
    assert set(response.json["error"]["fields"]) == {"name", "role_id", "district_id", "nickname"}
    assert _count() == 4


@pytest.mark.parametrize("body", [[1, 2], "a name", None])
def test_a_body_that_is_no_object_is_refused(api_client, frame, writer, body):
    response = api_client.post(_url(frame), json=body, headers=writer)
    assert response.status_code == 400
    assert _count() == 4


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "required"),
        ({"role_id": None}, "role_id", "may not be null"),
        ({"email": "not-an-address"}, "email", "email"),
        ({"email": "ANN@example.org"}, "email", "P1-001"),
        ({"phone": "call me maybe"}, "phone", "phone"),
        ({"role_id": 999999}, "role_id", "no role"),
        ({"role_id": "manager"}, "role_id", "integer"),
        ({"organisation_id": 2**107}, "organisation_id", "2147483647"),
        ({"interviewer_id": 13725800069}, "interviewer_id", "2147483647"),
        ({"district_id": 0}, "district_id", "greater than or equal to 1"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"job_title": "x" * 201}, "job_title", "200"),
    ],
)
def test_each_rule_of_the_import_is_named_beside_its_field(
    api_client, frame, writer, changes, field, words
):
    db.session.get(Participant, frame["ann"].id).email = "ann@example.org"
    db.session.commit()
    response = api_client.post(_url(frame), json=_new(frame, **changes), headers=writer)
    assert response.status_code == 400, response.json
    message = response.json["error"]["fields"][field]
    assert words.lower() in message.lower(), message
    assert _count() == 4


def test_a_change_naming_an_id_no_database_can_hold_is_refused_not_a_server_error(
    api_client, frame, writer
):
    """Schemathesis found this: an id beyond 32 bits overflowed SQLite and answered 500."""
    response = api_client.patch(
        f"/api/v1/participants/{frame['ann'].id}",
        json={"organisation_id": 154679886686115795384719462367232},
        headers=writer,
    )
    assert response.status_code == 400, response.json
    assert "organisation_id" in response.json["error"]["fields"]


def test_a_role_that_does_not_fit_the_organisation_is_refused(api_client, frame, writer):
    response = api_client.post(
        _url(frame), json=_new(frame, role_id=frame["manager"].id), headers=writer
    )
    assert response.status_code == 400
    assert "role_id" in response.json["error"]["fields"]


def test_the_interviewer_must_be_an_enabled_interviewer(api_client, frame, writer):
    response = api_client.post(
        _url(frame), json=_new(frame, interviewer_id=frame["coordinator"].id), headers=writer
    )
    assert response.status_code == 400
    assert "interviewer_id" in response.json["error"]["fields"]


def test_another_studys_district_is_refused(api_client, frame, writer):
    elsewhere = make_district(make_study(slug="other", name="Other study"), "East", phase=1)
    response = api_client.post(
        _url(frame), json=_new(frame, district_id=elsewhere.id), headers=writer
    )
    assert response.status_code == 400
    assert "district_id" in response.json["error"]["fields"]


def test_the_same_name_at_the_same_organisation_without_email_is_a_duplicate(
    api_client, frame, writer
):
    twin = _new(frame, name="Ann Adams", email=None)
    response = api_client.post(_url(frame), json=twin, headers=writer)
    assert response.status_code == 400
    assert "P1-001" in " ".join(response.json["error"]["fields"].values())


# --- Who may write ---------------------------------------------------------------------------


def test_interviewers_cannot_add_participants(api_client, frame, bearer):
    response = api_client.post(_url(frame), json=_new(frame), headers=bearer(frame["alice"]))
    assert response.status_code == 403
    assert response.json["error"]["code"] == 403
    assert _count() == 4


def test_a_read_token_cannot_add_participants(api_client, frame):
    _, token = create_api_token(frame["coordinator"], "reader", TokenScope.READ)
    response = api_client.post(
        _url(frame), json=_new(frame), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert _count() == 4


def test_a_session_cookie_alone_cannot_add_participants(api_client, api_auth, frame):
    api_auth.login(frame["coordinator"])
    response = api_client.post(_url(frame), json=_new(frame))
    assert response.status_code == 401
    assert _count() == 4


def test_an_unknown_study_answers_404(api_client, frame, writer):
    response = api_client.post(
        "/api/v1/studies/nope/participants", json=_new(frame), headers=writer
    )
    assert response.status_code == 404


# --- Changing --------------------------------------------------------------------------------


def test_a_change_touches_only_the_fields_sent_and_is_audited(api_client, frame, writer):
    ann = frame["ann"]
    response = api_client.patch(
        f"/api/v1/participants/{ann.id}",
        json={"phone": "020 7946 0003", "job_title": "Head of partnerships"},
        headers=writer,
    )
    assert response.status_code == 200, response.json
    assert response.json["phone"] == "020 7946 0003"
    assert response.json["job_title"] == "Head of partnerships"
    assert response.json["name"] == "Ann Adams"
    assert response.json["interviewer"]["id"] == frame["alice"].id
    [event] = _events("participant.updated")
    assert event.before == {"phone": "", "job_title": "Partnership manager"}
    assert event.after == {"phone": "020 7946 0003", "job_title": "Head of partnerships"}


def test_a_change_is_checked_whole_by_the_import_rules(api_client, frame, writer):
    """Moving someone to an organisation their role does not fit is refused."""
    response = api_client.patch(
        f"/api/v1/participants/{frame['ann'].id}",
        json={"organisation_id": frame["provider"].id},
        headers=writer,
    )
    assert response.status_code == 400
    assert "role_id" in response.json["error"]["fields"]


def test_a_change_to_another_participants_email_is_refused(api_client, frame, writer):
    db.session.get(Participant, frame["bob"].id).email = "bob@example.org"
    db.session.commit()
    response = api_client.patch(
        f"/api/v1/participants/{frame['ann'].id}", json={"email": "bob@example.org"}, headers=writer
    )
    assert response.status_code == 400
    assert "P1-002" in response.json["error"]["fields"]["email"]


def test_an_erased_participant_is_not_filled_in_again(api_client, frame, writer):
    erase_personal_data(db.session.get(Participant, frame["dan"].id), frame["coordinator"])
    response = api_client.patch(
        f"/api/v1/participants/{frame['dan'].id}", json={"name": "Dan Davies"}, headers=writer
    )
    assert response.status_code == 409
    assert "erased" in response.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Participant, frame["dan"].id).is_erased


def test_interviewers_cannot_change_even_their_own_participants(api_client, frame, bearer):
    response = api_client.patch(
        f"/api/v1/participants/{frame['ann'].id}",
        json={"notes": "mine"},
        headers=bearer(frame["alice"]),
    )
    assert response.status_code == 403


def test_changing_an_unknown_participant_answers_404(api_client, frame, writer):
    assert (
        api_client.patch("/api/v1/participants/999999", json={}, headers=writer).status_code == 404
    )


# --- Retries and races -----------------------------------------------------------------------


def test_a_retried_create_with_its_key_adds_one_participant(api_client, frame, writer):
    keyed = {**writer, "Idempotency-Key": "add-eve"}
    first = api_client.post(_url(frame), json=_new(frame), headers=keyed)
    again = api_client.post(_url(frame), json=_new(frame), headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = api_client.post(_url(frame), json=_new(frame, name="Eve Other"), headers=keyed)
    assert other.status_code == 422
    assert _count() == 5


def test_concurrent_creates_with_one_key_add_one_participant(app, frame, writer):
    statuses = race(
        app,
        "POST",
        _url(frame),
        json=_new(frame),
        headers={**writer, "Idempotency-Key": "k"},
        count=6,
    )
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, statuses
    assert _count() == 5


def test_concurrent_creates_of_one_email_without_keys_add_one_participant(app, frame, writer):
    """The check runs under the study's lock: two writers cannot both take one address."""
    statuses = race(app, "POST", _url(frame), json=_new(frame), headers=writer, count=6)
    assert statuses[201] == 1 and statuses[400] == 5, statuses
    assert _count() == 5
