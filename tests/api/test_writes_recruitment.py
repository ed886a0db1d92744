"""Recording contact attempts and consent, and making consent links, through the API: the
recruitment services' rules, the study's coordinators only, erased and withdrawn people
respected, audited, and safe to retry with an Idempotency-Key."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.recruitment.models import Consent, ConsentLink, ContactAttempt, DataHandling
from fieldwork.sampling.models import Participant, RecruitmentStatus
from tests.race import race
from tests.recruitment.helpers import all_yes, make_published_version


@pytest.fixture
def writer(frame, bearer) -> dict[str, str]:
    return bearer(frame["coordinator"])


@pytest.fixture
def version(frame):
    return make_published_version(frame["study"], frame["coordinator"])


def _url(frame, person: str, what: str) -> str:
    return f"/api/v1/participants/{frame[person].id}/{what}"


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def _status(frame, person: str) -> RecruitmentStatus:
    db.session.expire_all()
    return db.session.get(Participant, frame[person].id).status


def _audited(action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


# --- Contact attempts ------------------------------------------------------------------------


def test_a_contact_attempt_is_recorded_and_moves_the_status(api_client, frame, writer):
    when = (now_utc() - dt.timedelta(hours=1)).replace(microsecond=0)
    response = api_client.post(
        _url(frame, "bob", "contact-attempts"),
        json={
            "channel": "telephone",
            "disposition": "agreed",
            "attempted_at": when.isoformat(),
            "note": "Happy to talk in March",
        },
        headers=writer,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["participant"] == {"id": frame["bob"].id, "reference": "P1-002"}
    assert body["disposition"] == "agreed" and body["channel"] == "telephone"
    assert dt.datetime.fromisoformat(body["attempted_at"]) == when
    assert body["recorded_by"]["id"] == frame["coordinator"].id
    assert _status(frame, "bob") == RecruitmentStatus.AGREED
    assert _audited("contact_attempt.logged") == 1


def test_a_contact_attempt_without_a_time_happened_now(api_client, frame, writer):
    response = api_client.post(
        _url(frame, "bob", "contact-attempts"),
        json={"channel": "email", "disposition": "no_answer"},
        headers=writer,
    )
    assert response.status_code == 201, response.json
    moment = dt.datetime.fromisoformat(response.json["attempted_at"])
    assert abs(moment - now_utc()) < dt.timedelta(minutes=1)


def test_contact_attempt_fields_are_all_named_at_once(api_client, frame, writer):
    response = api_client.post(
        _url(frame, "bob", "contact-attempts"),
        json={"channel": "pigeon", "attempted_at": "yesterday", "colour": "red"},
        headers=writer,
    )
    assert response.status_code == 400
    assert set(response.json["error"]["fields"]) == {
        "channel",
        "disposition",
        "attempted_at",
        "colour",
    }
    assert _count(ContactAttempt) == 0


def test_a_contact_attempt_in_the_future_is_refused(api_client, frame, writer):
    later = (now_utc() + dt.timedelta(days=1)).isoformat()
    response = api_client.post(
        _url(frame, "bob", "contact-attempts"),
        json={"channel": "email", "disposition": "no_answer", "attempted_at": later},
        headers=writer,
    )
    assert response.status_code == 422
    assert "future" in response.json["error"]["message"]
    assert _count(ContactAttempt) == 0


# --- Consent ---------------------------------------------------------------------------------


def test_verbal_consent_is_recorded_and_the_participant_agrees(api_client, frame, writer, version):
    response = api_client.post(
        _url(frame, "bob", "consents"),
        json={"version_id": version.id, "method": "verbal", "answers": all_yes()},
        headers=writer,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["method"] == "verbal" and body["version"] == version.number
    assert [a["key"] for a in body["answers"]][0] == "take_part"
    assert all(a["is_agreed"] for a in body["answers"])
    assert _status(frame, "bob") == RecruitmentStatus.AGREED
    assert _audited("consent.recorded") == 1


def test_consent_without_a_required_item_is_refused(api_client, frame, writer, version):
    answers = {**all_yes(), "take_part": False}
    response = api_client.post(
        _url(frame, "bob", "consents"),
        json={"version_id": version.id, "method": "written", "answers": answers},
        headers=writer,
    )
    assert response.status_code == 422
    assert "no consent to record" in response.json["error"]["message"]
    assert _count(Consent) == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"method": "verbal", "answers": {}}, {"version_id"}),
        ({"version_id": 999999, "method": "verbal", "answers": {}}, {"version_id"}),
        (
            {"version_id": "1", "method": "sung", "answers": {"take_part": "yes"}},
            {"version_id", "method", "answers"},
        ),
        ({"version_id": "VERSION", "method": "online", "answers": {}}, {"method"}),
    ],
)
def test_consent_fields_that_do_not_fit_are_named(api_client, frame, writer, version, body, fields):
    body = {k: (version.id if v == "VERSION" else v) for k, v in body.items()}
    response = api_client.post(_url(frame, "bob", "consents"), json=body, headers=writer)
    assert response.status_code == 400, response.json
    named = {name.split(".")[0] for name in response.json["error"]["fields"]}  # answers.take_part
    assert fields <= named
    assert _count(Consent) == 0


def test_a_withdrawn_participant_gives_no_new_consent(api_client, frame, writer, version):
    bob = db.session.get(Participant, frame["bob"].id)
    withdraw(bob, frame["coordinator"], data_handling=DataHandling.KEEP_ANONYMISED)
    response = api_client.post(
        _url(frame, "bob", "consents"),
        json={"version_id": version.id, "method": "verbal", "answers": all_yes()},
        headers=writer,
    )
    assert response.status_code == 422
    assert "withdrawn" in response.json["error"]["message"]


def test_another_studys_consent_form_is_not_found(api_client, frame, writer):
    from tests.factories import make_study

    elsewhere = make_published_version(make_study(slug="other", name="Other"), None)
    response = api_client.post(
        _url(frame, "bob", "consents"),
        json={"version_id": elsewhere.id, "method": "verbal", "answers": all_yes()},
        headers=writer,
    )
    assert response.status_code == 400
    assert "version_id" in response.json["error"]["fields"]


# --- Consent links ---------------------------------------------------------------------------


def test_a_consent_link_answers_its_url_once(api_client, frame, writer, version):
    response = api_client.post(
        _url(frame, "bob", "consent-links"), json={"version_id": version.id}, headers=writer
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["sent"] is False and body["version_id"] == version.id
    assert "/consent/" in body["url"]
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=13) < expires - now_utc() <= dt.timedelta(days=14)
    assert api_client.get(body["url"]).status_code == 200  # the participant's page opens
    assert _audited("consent_link.created") == 1


def test_a_consent_link_can_be_emailed_through_the_outbox(api_client, frame, writer, version):
    db.session.get(Participant, frame["bob"].id).email = "bob@example.org"
    db.session.commit()
    response = api_client.post(
        _url(frame, "bob", "consent-links"),
        json={"version_id": version.id, "send": True, "days": 3},
        headers=writer,
    )
    assert response.status_code == 201, response.json
    assert response.json["sent"] is True
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert "bob@example.org" in message.recipients
    assert _count(ConsentLink) == 1


def test_emailing_a_link_needs_an_address(api_client, frame, writer, version):
    db.session.get(Participant, frame["bob"].id).email = ""
    db.session.commit()
    response = api_client.post(
        _url(frame, "bob", "consent-links"),
        json={"version_id": version.id, "send": True},
        headers=writer,
    )
    assert response.status_code == 400
    assert "send" in response.json["error"]["fields"]
    assert _count(ConsentLink) == 0


@pytest.mark.parametrize("days", [0, 91, "7"])
def test_a_link_lasts_one_to_ninety_days(api_client, frame, writer, version, days):
    response = api_client.post(
        _url(frame, "bob", "consent-links"),
        json={"version_id": version.id, "days": days},
        headers=writer,
    )
    assert response.status_code == 400
    assert "days" in response.json["error"]["fields"]


# --- Who may write, erased people, retries ----------------------------------------------------


def _valid_body(what: str, version) -> dict:
    return {
        "contact-attempts": {"channel": "email", "disposition": "no_answer"},
        "consents": {"version_id": version.id, "method": "verbal", "answers": all_yes()},
        "consent-links": {"version_id": version.id},
    }[what]


@pytest.mark.parametrize("what", ["contact-attempts", "consents", "consent-links"])
def test_interviewers_cannot_write_even_for_their_own_participants(
    api_client, frame, bearer, version, what
):
    response = api_client.post(
        _url(frame, "ann", what), json=_valid_body(what, version), headers=bearer(frame["alice"])
    )
    assert response.status_code == 403


@pytest.mark.parametrize("what", ["contact-attempts", "consents", "consent-links"])
def test_a_session_cookie_alone_cannot_write(api_client, api_auth, frame, what):
    api_auth.login(frame["coordinator"])
    assert api_client.post(_url(frame, "bob", what), json={}).status_code == 401


@pytest.mark.parametrize("what", ["contact-attempts", "consents", "consent-links"])
def test_nothing_is_recorded_for_an_erased_participant(api_client, frame, writer, version, what):
    erase_personal_data(db.session.get(Participant, frame["dan"].id), frame["coordinator"])
    body = _valid_body(what, version)
    response = api_client.post(_url(frame, "dan", what), json=body, headers=writer)
    assert response.status_code == 409
    assert "erased" in response.json["error"]["message"]


def test_an_unknown_participant_answers_404(api_client, frame, writer):
    response = api_client.post(
        "/api/v1/participants/999999/contact-attempts",
        json={"channel": "email", "disposition": "no_answer"},
        headers=writer,
    )
    assert response.status_code == 404


def test_a_retried_contact_attempt_with_its_key_is_recorded_once(api_client, frame, writer):
    keyed = {**writer, "Idempotency-Key": "call-1"}
    body = {"channel": "telephone", "disposition": "no_answer"}
    first = api_client.post(_url(frame, "bob", "contact-attempts"), json=body, headers=keyed)
    again = api_client.post(_url(frame, "bob", "contact-attempts"), json=body, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = api_client.post(
        _url(frame, "bob", "contact-attempts"),
        json={**body, "disposition": "refused"},
        headers=keyed,
    )
    assert other.status_code == 422
    assert _count(ContactAttempt) == 1


def test_concurrent_consents_with_one_key_record_one(app, frame, writer, version):
    body = {"version_id": version.id, "method": "verbal", "answers": all_yes()}
    statuses = race(
        app,
        "POST",
        _url(frame, "bob", "consents"),
        json=body,
        headers={**writer, "Idempotency-Key": "consent-1"},
        count=6,
    )
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, statuses
    assert _count(Consent) == 1


def test_a_retried_link_replays_the_same_url_without_a_second_link(
    api_client, frame, writer, version
):
    keyed = {**writer, "Idempotency-Key": "link-1"}
    body = {"version_id": version.id}
    first = api_client.post(_url(frame, "bob", "consent-links"), json=body, headers=keyed)
    again = api_client.post(_url(frame, "bob", "consent-links"), json=body, headers=keyed)
    assert again.json["url"] == first.json["url"]
    assert _count(ConsentLink) == 1
