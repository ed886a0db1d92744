"""Assignment and what an interviewer can do with their participants: booking assigns, a
coordinator assigns one or many, the interviewer opens their participant, records verbal consent
and marks the interview held; nothing of anyone else's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.recruitment.contacts import log_contact_attempt, next_working_day
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import Consent, ContactAttempt, ContactChannel
from fieldwork.sampling import assignment
from fieldwork.sampling.models import Participant, RecruitmentStatus
from fieldwork.scheduling.models import Appointment, AppointmentStatus
from tests.factories import make_frame, make_participant
from tests.recruitment.helpers import make_published_version
from tests.scheduling.conftest import NOW, at, book


def fresh(participant: Participant) -> Participant:
    db.session.expire_all()
    return db.session.get(Participant, participant.id)


def test_booking_assigns_the_participant_to_the_interviewer(world, clock):
    """Booking P1-005 (assigned to nobody) with Kathryn assigns them to her, as an audit event
    that reads as a sentence."""
    assert world["second"].interviewer_id is None
    book(world, at(2026, 3, 24, 10), participant=world["second"])
    assert fresh(world["second"]).interviewer_id == world["kathryn"].id
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "participant.assigned")
    ).one()
    assert event.after == {"interviewer": "Kathryn Interviewer"}


def test_a_coordinator_assigns_many_at_once_or_nothing(world, clock):
    """assign_interviewer assigns every participant named, with an event each; an unknown id or
    a participant of another study refuses the whole request and changes nothing."""
    people = [
        make_participant(
            world["study"], district=world["north"], organisation=world["jcp"], role=world["tppm"]
        )
        for _ in range(3)
    ]
    ids = [p.id for p in people]
    assert assignment.assign_interviewer(ids, world["other"].id, world["coordinator"]) == 3
    assert {fresh(p).interviewer_id for p in people} == {world["other"].id}
    assert assignment.assign_interviewer(ids, world["other"].id, world["coordinator"]) == 0
    elsewhere = make_participant(make_frame()["study"])
    with pytest.raises(assignment.AssignmentError):
        assignment.assign_interviewer(
            [*ids, elsewhere.id],
            world["kathryn"].id,
            world["coordinator"],
            study_id=world["study"].id,
        )
    with pytest.raises(assignment.AssignmentError):
        assignment.assign_interviewer([*ids, 999999], world["kathryn"].id, world["coordinator"])
    with pytest.raises(assignment.AssignmentError):
        assignment.assign_interviewer(ids, 999999, world["coordinator"])
    assert {fresh(p).interviewer_id for p in people} == {world["other"].id}
    assert assignment.assign_interviewer(ids[:1], None, world["coordinator"]) == 1
    assert fresh(people[0]).interviewer_id is None


def test_the_participant_page_assigns_one_and_says_so_at_the_top(world, client, auth, clock):
    """A coordinator assigns from the participant's page and the confirmation is the first
    thing on the page it returns to (no #fragment far below); an interviewer is refused."""
    auth.login(world["coordinator"])
    url = f"/participants/{world['second'].id}/interviewer"
    response = client.post(url, data={"interviewer_id": world["other"].id})
    assert response.status_code == 302 and "#" not in response.location
    html = client.get(response.location).get_data(as_text=True)
    assert "P1-005 is now assigned to Omar Interviewer." in html
    assert html.index("P1-005 is now assigned") < html.index("<h1")
    assert fresh(world["second"]).interviewer_id == world["other"].id
    assert client.post(url, data={"interviewer_id": "x1"}).status_code == 302
    assert fresh(world["second"]).interviewer_id == world["other"].id
    auth.logout()
    auth.login(world["kathryn"])
    assert client.post(url, data={"interviewer_id": world["kathryn"].id}).status_code == 403
    assert fresh(world["second"]).interviewer_id == world["other"].id


def test_the_interviewer_records_verbal_consent_and_marks_the_interview_held(
    world, client, auth, clock
):
    """Booked with P1-005, Kathryn opens their page (with the phone the telephone interview
    needs), records their verbal consent and marks the interview held; no dead end."""
    make_published_version(world["study"], world["coordinator"])
    world["second"].phone = "0161 496 0123"
    db.session.commit()
    item = book(world, at(2026, 3, 23, 10), participant=world["second"])
    clock.move(at(2026, 3, 23, 11, 30))
    auth.login(world["kathryn"])
    page = client.get(f"/participants/{world['second'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Telephone: 0161 496 0123" in html
    assert f'href="/participants/{world["second"].id}/consents/new"' in html
    refused = client.post(
        f"/appointments/{item.id}/outcome",
        data={"status": "held", "actual_minutes": "55", "is_recorded": "yes"},
    )
    assert refused.status_code == 422
    assert f"/participants/{world['second'].id}/consents/new" in refused.get_data(as_text=True)
    form = client.get(f"/participants/{world['second'].id}/consents/new")
    assert form.status_code == 200
    saved = client.post(
        f"/participants/{world['second'].id}/consents/new",
        data={
            "method": "verbal",
            "given_on": "2026-03-23",
            "item_take_part": "y",
            "item_audio_recording": "y",
        },
    )
    assert saved.status_code == 302 and "#" not in saved.location
    consent = db.session.scalars(select(Consent)).one()
    assert consent.method.value == "verbal" and consent.recorded_by_id == world["kathryn"].id
    held = client.post(
        f"/appointments/{item.id}/outcome",
        data={"status": "held", "actual_minutes": "55", "is_recorded": "yes"},
    )
    assert held.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, item.id).status == AppointmentStatus.HELD
    assert fresh(world["second"]).status == RecruitmentStatus.INTERVIEWED


def test_an_interviewer_cannot_record_consent_for_someone_elses_participant(
    world, client, auth, clock
):
    """Consent for a participant assigned to another interviewer answers 404 and saves nothing."""
    make_published_version(world["study"], world["coordinator"])
    assignment.assign_interviewer([world["second"].id], world["other"].id, world["coordinator"])
    auth.login(world["kathryn"])
    url = f"/participants/{world['second'].id}/consents/new"
    assert client.get(url).status_code == 404
    response = client.post(
        url, data={"method": "verbal", "given_on": "2026-03-20", "item_take_part": "y"}
    )
    assert response.status_code == 404
    assert db.session.scalars(select(Consent)).first() is None


def test_a_call_back_without_a_date_is_due_the_next_working_day_and_says_so(
    world, client, auth, clock
):
    """Friday's call back with no date is due on Monday (the next working day), the
    confirmation says so, and the person is on Monday's follow-ups."""
    auth.login(world["kathryn"])
    response = client.post(
        f"/participants/{world['first'].id}/contacts/new",
        data={
            "attempted_on": "2026-03-20",
            "attempted_time": "11:00",
            "channel": "telephone",
            "disposition": "call_back",
            "note": "",
        },
    )
    assert response.status_code == 302 and "#" not in response.location
    attempt = db.session.scalars(select(ContactAttempt)).one()
    assert attempt.next_action_on == dt.date(2026, 3, 23)
    html = client.get(response.location).get_data(as_text=True)
    assert "Next action due Monday 23 March 2026 (the next working day" in html
    assert next_working_day(dt.date(2026, 3, 23)) == dt.date(2026, 3, 24)
    log_contact_attempt(
        world["second"],
        world["coordinator"],
        attempted_at=NOW,
        channel=ContactChannel.EMAIL,
        disposition=Disposition.CALL_BACK,
        next_action_on=dt.date(2026, 3, 27),
    )
    latest = db.session.scalars(
        select(ContactAttempt).where(ContactAttempt.participant_id == world["second"].id)
    ).one()
    assert latest.next_action_on == dt.date(2026, 3, 27)
