"""Idempotency-Key on API writes: a retried write never acts twice.

Shown on the appointments write (any API write behaves the same: the key is handled before
and after every write, whatever the endpoint)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from fieldwork.accounts.models import UserRole
from fieldwork.api import idempotency
from fieldwork.api.models import IdempotencyKey
from fieldwork.core.jobs import registered_jobs
from fieldwork.core.time import now_utc, set_clock
from fieldwork.extensions import db
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.scheduling.models import Appointment
from tests.api.conftest import make_quick_user
from tests.race import race

URL = "/api/v1/appointments"


def _booking(frame, **changes) -> dict:
    return {
        "participant_id": frame["bob"].id,
        "interviewer_id": frame["alice"].id,
        "starts_at": "2030-03-04T10:00:00Z",
        "confirm": True,  # no availability is set: book anyway
        **changes,
    }


def _appointments() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Appointment.id)))


@pytest.fixture
def writer(frame, bearer) -> dict[str, str]:
    return bearer(frame["coordinator"])


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_retry_with_the_same_key_replays_the_answer_without_acting_again(
    api_client, frame, writer
):
    first = api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "k-1"))
    again = api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "k-1"))
    assert first.status_code == 201, first.json
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _appointments() == 1


def test_the_same_key_with_another_body_is_refused_and_acts_not(api_client, frame, writer):
    api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "k-2"))
    other = api_client.post(
        URL, json=_booking(frame, starts_at="2030-03-05T10:00:00Z"), headers=_keyed(writer, "k-2")
    )
    assert other.status_code == 422
    assert other.json["error"]["code"] == 422
    assert "different request" in other.json["error"]["message"]
    assert _appointments() == 1


def test_the_same_key_on_another_path_is_refused(api_client, frame, writer):
    api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "k-3"))
    link = api_client.post(
        f"/api/v1/participants/{frame['bob'].id}/booking-links",
        json=_booking(frame),
        headers=_keyed(writer, "k-3"),
    )
    assert link.status_code == 422


def test_keys_belong_to_their_user(api_client, frame, writer, bearer):
    """The same user's key replays whichever of their tokens sends it; another user's
    identical key is another key, and acts."""
    api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "shared"))
    second = bearer(frame["coordinator"])  # the same user, another token: still a replay
    replay = api_client.post(URL, json=_booking(frame), headers=_keyed(second, "shared"))
    assert replay.headers.get("Idempotent-Replayed") == "true"
    cat = _booking(frame, participant_id=frame["cat"].id, interviewer_id=frame["ben"].id)
    colleague = make_quick_user(UserRole.COORDINATOR, "Cole Coordinator")
    acted = api_client.post(URL, json=cat, headers=_keyed(bearer(colleague), "shared"))
    assert acted.status_code == 201 and "Idempotent-Replayed" not in acted.headers
    assert _appointments() == 2


def test_a_refused_write_keeps_no_answer_so_a_corrected_retry_acts(api_client, frame, writer):
    """Only successful answers are stored: a refused request changed nothing."""
    bad = _booking(frame, starts_at="not a time")
    assert api_client.post(URL, json=bad, headers=_keyed(writer, "k-4")).status_code == 400
    again = api_client.post(URL, json=bad, headers=_keyed(writer, "k-4"))
    assert again.status_code == 400 and "Idempotent-Replayed" not in again.headers
    fixed = api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "k-4"))
    assert fixed.status_code == 201
    assert _appointments() == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "clé"])
def test_a_key_that_cannot_be_one_is_refused(api_client, frame, writer, key):
    response = api_client.post(URL, json=_booking(frame), headers=_keyed(writer, key))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json["error"]["message"]
    assert _appointments() == 0


def test_without_a_key_nothing_is_stored(api_client, frame, writer):
    assert api_client.post(URL, json=_booking(frame), headers=writer).status_code == 201
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0


def test_reads_ignore_the_header(api_client, frame, writer):
    slug = frame["study"].slug
    listing = api_client.get(f"/api/v1/studies/{slug}/participants", headers=_keyed(writer, "read"))
    assert listing.status_code == 200
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0


def test_a_retry_while_the_first_is_in_progress_gets_409(api_client, frame, writer, monkeypatch):
    """The first request's claim has no answer yet: the retry waits briefly, then says so."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    body = _booking(frame)
    claimed = api_client.post(URL, json=body, headers=_keyed(writer, "slow"))
    db.session.expire_all()
    record = db.session.scalars(select(IdempotencyKey)).one()
    record.status_code = None  # as if the first request were still being handled
    db.session.commit()
    assert claimed.status_code == 201
    waiting = api_client.post(URL, json=body, headers=_keyed(writer, "slow"))
    assert waiting.status_code == 409
    assert "still being handled" in waiting.json["error"]["message"]
    assert _appointments() == 1


def test_concurrent_requests_with_one_key_act_exactly_once(app, frame, writer):
    """Requests sent together: the unique key lets one act; the others wait for its answer
    (replayed) or are told it is still in progress."""
    statuses = race(app, "POST", URL, json=_booking(frame), headers=_keyed(writer, "race"), count=8)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] >= 1
    assert _appointments() == 1
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_keys_expire_after_a_day_and_are_swept(api_client, frame, writer):
    start = now_utc()
    set_clock(lambda: start)
    api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "old"))
    set_clock(lambda: start + dt.timedelta(hours=23))
    assert idempotency.sweep_expired_keys() == 0
    set_clock(lambda: start + dt.timedelta(hours=24, seconds=1))
    assert idempotency.sweep_expired_keys() == 1
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0


def test_an_expired_key_not_yet_swept_acts_again(api_client, frame, writer):
    start = now_utc()
    set_clock(lambda: start)
    api_client.post(URL, json=_booking(frame), headers=_keyed(writer, "reuse"))
    set_clock(lambda: start + dt.timedelta(days=2))
    later = _booking(frame, starts_at="2030-03-06T10:00:00Z")
    response = api_client.post(URL, json=later, headers=_keyed(writer, "reuse"))
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert _appointments() == 2


def test_erasure_removes_the_person_from_stored_answers(api_client, frame, writer):
    """A stored answer that names an erased person is replaced by 410; the key stays, so a
    retry still does not act."""
    body = _booking(frame, notes="Bob Brown asks for a call first")
    api_client.post(URL, json=body, headers=_keyed(writer, "named"))
    erase_personal_data(frame["bob"], frame["coordinator"])
    db.session.expire_all()
    stored = db.session.scalars(select(IdempotencyKey)).one()
    assert "Bob Brown" not in stored.response_body
    replay = api_client.post(URL, json=body, headers=_keyed(writer, "named"))
    assert replay.status_code == 410
    assert _appointments() == 1


def test_the_sweep_is_a_periodic_job_of_the_api(app):
    [job] = [job for job in registered_jobs(app) if job.name == "idempotency-sweep"]
    assert job.run is idempotency.sweep_expired_keys
    assert job.every == "SCHEDULER_IDEMPOTENCY_SWEEP_SECONDS"
