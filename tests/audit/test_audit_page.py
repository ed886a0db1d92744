"""The audit trail page: coordinators browse and filter every event."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from fieldwork.audit import services as audit
from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import UTC, set_clock
from fieldwork.extensions import db
from tests.factories import make_frame, make_participant, make_user


@pytest.fixture
def trail(app):
    frame = make_frame()
    cora = make_user("coordinator", name="Cora Coordinator")
    dev = make_user("coordinator", name="Dev Coordinator")
    ann = make_participant(frame["study"], district=frame["north"], reference="P1-001")
    bob = make_participant(frame["study"], district=frame["north"], reference="P1-002")
    # Making the users wrote "user.created" events; the trail here holds only the three below.
    db.session.execute(delete(AuditEvent))
    for day, actor, person, action in (
        (1, cora, ann, "participant.status_changed"),
        (5, dev, bob, "consent.recorded"),
        (9, cora, bob, "participant.withdrawn"),
    ):
        set_clock(lambda day=day: dt.datetime(2008, 5, day, 12, tzinfo=UTC))
        audit.record_event(
            action,
            actor=actor,
            study_id=frame["study"].id,
            subject_type="participant",
            subject_id=person.id,
            participant_id=person.id,
            before={"status": "identified"},
            after={"status": "approached <b>"},
        )
    set_clock(None)
    db.session.commit()
    return {**frame, "cora": cora, "dev": dev, "ann": ann, "bob": bob}


def rows(client, query: str = "") -> list[str]:
    page = client.get("/audit" + query).get_data(as_text=True)
    return [chunk.split('"', 1)[0] for chunk in page.split('data-action="')[1:]]


def test_the_page_lists_events_newest_first_and_escapes_values(trail, client, auth):
    auth.login(trail["cora"])
    assert rows(client) == [
        "participant.withdrawn",
        "consent.recorded",
        "participant.status_changed",
    ]
    page = client.get("/audit").get_data(as_text=True)
    assert "approached &lt;b&gt;" in page


def test_filters_by_action_reference_actor_and_dates(trail, client, auth):
    auth.login(trail["cora"])
    assert rows(client, "?action=consent.recorded") == ["consent.recorded"]
    assert rows(client, "?reference=p1-002") == ["participant.withdrawn", "consent.recorded"]
    assert rows(client, f"?actor={trail['dev'].id}") == ["consent.recorded"]
    assert rows(client, "?date_from=2008-05-04&date_to=2008-05-08") == ["consent.recorded"]
    assert rows(client, "?date_to=2008-05-01") == ["participant.status_changed"]


def test_bad_filters_are_named_not_a_500(trail, client, auth):
    auth.login(trail["cora"])
    response = client.get("/audit?date_from=2008-05-09&date_to=2008-05-01&actor=abc")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The end date must be on or after the start date." in page
    assert client.get("/audit?date_from=yesterday").status_code == 400


def test_the_page_is_paginated(trail, client, auth, app):
    app.config["PAGE_SIZE"], size = 2, app.config["PAGE_SIZE"]
    try:
        auth.login(trail["cora"])
        assert len(rows(client)) == 2
        assert rows(client, "?page=2") == ["participant.status_changed"]
    finally:
        app.config["PAGE_SIZE"] = size


def test_interviewers_cannot_see_the_audit_trail(trail, client, auth):
    auth.login(make_user("interviewer"))
    assert client.get("/audit").status_code == 403


def test_scrubbing_replaces_erased_values_inside_events(trail):
    scrubbed = audit.scrub_values(
        {"note": "Called Ann Smith", "list": ["ann@x.org", 3]}, ["ann smith", "ANN@x.org"]
    )
    assert scrubbed == {"note": "[erased]", "list": ["[erased]", 3]}
