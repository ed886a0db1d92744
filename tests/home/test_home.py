"""The home page per role: what a coordinator and an interviewer need first, each a link to act,
built from registered panels, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork import home
from fieldwork.extensions import db
from fieldwork.home import services as home_services
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ContactChannel
from fieldwork.sampling.models import RecruitmentStatus
from fieldwork.scheduling.booking import book_appointment, cancel_appointment, record_outcome
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus
from tests.factories import make_participant
from tests.scheduling.conftest import NOW, at, book, give_consent


def outbox_message(world, state: OutboxState, due: dt.datetime) -> OutboxMessage:
    """An invitation of the world's study in `state`, due at `due` (not yet added)."""
    return OutboxMessage(
        study_id=world["study"].id,
        kind=OutboxKind.INVITE,
        subject="Interview",
        sender="a@example.org",
        recipients="b@example.org",
        message_id=f"<{state}@example.org>",
        raw=b"",
        state=state,
        due_at=due,
        next_attempt_at=due,
    )


def page(client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_coordinator_sees_todays_interviews_with_who_where_and_the_zone_named(
    world, client, auth, clock
):
    """Today's interview shows the time in the viewer's zone with the zone named, the
    participant, the interviewer and where (the phone number for a telephone interview), and
    links to the appointment; later ones this week are listed under the rest of the week."""
    world["first"].phone = "0161 496 0000"
    db.session.commit()
    today = book(world, at(2026, 3, 20, 14))
    later = book(world, at(2026, 3, 24, 10), participant=world["second"], confirmed=True)
    auth.login(world["coordinator"])
    html = page(client)
    assert f'href="/appointments/{today.id}"' in html
    assert "14:00 GMT: P1-004" in html
    assert "with Kathryn Interviewer" in html
    assert "Telephone: 0161 496 0000" in html
    assert f'href="/appointments/{later.id}"' in html and "Tue 24 Mar 10:00 GMT" in html
    assert 'href="/study"' in html, "the study summary is one click away"


def test_a_past_interview_without_outcome_is_listed_until_recorded(world, client, auth, clock):
    """An interview whose time is over but which has no outcome is listed with a link to record
    it; once the outcome is recorded it leaves the list."""
    give_consent(world, world["first"])
    item = book(world, at(2026, 3, 23, 10))
    clock.move(at(2026, 3, 23, 12))
    auth.login(world["coordinator"])
    assert f'href="/appointments/{item.id}/outcome"' in page(client)
    record_outcome(item, AppointmentStatus.HELD, 60, True, world["coordinator"])
    html = page(client)
    assert f'href="/appointments/{item.id}/outcome"' not in html
    assert "Every past interview has its outcome." in html


@pytest.mark.parametrize("outcome", [AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED_LATE])
def test_a_no_show_or_late_cancellation_puts_the_person_back_to_rebook(
    world, client, auth, clock, outcome
):
    """After a no-show or a late cancellation the participant is no longer Scheduled (back to
    Agreed) and is listed under "To rebook" until they are booked again."""
    item = book(world, at(2026, 3, 23, 10))
    clock.move(at(2026, 3, 23, 12))
    record_outcome(item, outcome, None, None, world["coordinator"])
    assert db.session.get(type(world["first"]), world["first"].id).status == (
        RecruitmentStatus.AGREED
    )
    auth.login(world["coordinator"])
    html = page(client)
    rebook = html[html.index('id="panel-rebook"') :]
    assert f'href="/participants/{world["first"].id}"' in rebook.split("</section>")[0]
    assert outcome.label in rebook.split("</section>")[0]
    book(world, at(2026, 3, 25, 10))
    html = page(client)
    assert "Nobody is waiting to be booked again." in html


def test_follow_ups_due_and_failed_or_late_messages_link_to_act(world, client, auth, clock):
    """A follow-up due today links to logging the contact; a failed message and one pending
    well past its due time link to the outbox, filtered."""
    log_contact_attempt(
        world["second"],
        world["coordinator"],
        attempted_at=NOW - dt.timedelta(days=2),
        channel=ContactChannel.TELEPHONE,
        disposition=Disposition.NO_ANSWER,
        note="",
        next_action_on=dt.date(2026, 3, 20),
    )
    for state, due in (
        (OutboxState.FAILED, NOW),
        (OutboxState.PENDING, NOW - dt.timedelta(hours=1)),
    ):
        db.session.add(outbox_message(world, state, due))
    db.session.commit()
    auth.login(world["coordinator"])
    html = page(client)
    assert f'href="/participants/{world["second"].id}/contacts/new"' in html
    assert "1 message could not be sent" in html
    assert 'href="/outbox?state=failed"' in html
    assert "1 message is waiting longer than it should" in html
    assert 'href="/outbox?state=pending"' in html


def test_changes_since_the_last_visit_list_what_others_did(world, client, auth, clock):
    """Bookings, cancellations and consents made by others since the coordinator's previous
    visit are listed as sentences; their own actions and older ones are not."""
    colleague = world["other"]
    auth.login(world["coordinator"])
    page(client)  # the first visit
    clock.move(NOW + dt.timedelta(hours=3))
    item = book_appointment(
        world["study"],
        world["second"],
        world["kathryn"],
        BookingRequest(starts_at=at(2026, 3, 24, 10), minutes=60, mode=AppointmentMode.TELEPHONE),
        colleague,
    )
    book(world, at(2026, 3, 25, 10))  # by the coordinator: not news to them
    clock.move(NOW + dt.timedelta(hours=5))
    html = page(client)
    changes = html[html.index('id="panel-changes"') :].split("</section>")[0]
    assert "Omar booked P1-005 with Kathryn for Tue 24 Mar 10:00 GMT" in changes
    assert "P1-004" not in changes
    cancel_appointment(item, "Ill", colleague)
    html = page(client)  # same visit (within the hour): the window has not moved
    changes = html[html.index('id="panel-changes"') :].split("</section>")[0]
    assert "Omar cancelled P1-005&#39;s interview of Tue 24 Mar 10:00 GMT" in changes


def test_a_visit_starts_after_an_hour_away(world, clock):
    """Reloads within an hour keep the same "since"; a visit after a longer gap starts from
    the previous visit's start."""
    user, study = world["coordinator"], world["study"]
    first = home_services.record_visit(user, study)
    assert first == NOW - home_services.FIRST_VISIT_LOOKBACK
    clock.move(NOW + dt.timedelta(minutes=30))
    assert home_services.record_visit(user, study) == first
    clock.move(NOW + dt.timedelta(hours=2))
    assert home_services.record_visit(user, study) == NOW


def test_the_interviewer_sees_only_their_own_interviews_outcomes_and_people(
    world, client, auth, clock
):
    """Kathryn sees her next interviews, the outcome she owes and the people assigned to her
    to contact; Omar's interview and participant are not on her page."""
    mine = book(world, at(2026, 3, 23, 10))
    clock.move(at(2026, 3, 19, 12))
    owed = book(world, at(2026, 3, 20, 9), participant=world["second"], confirmed=True)
    clock.move(NOW)
    theirs_person = make_participant(
        world["study"],
        district=world["north"],
        organisation=world["jcp"],
        role=world["tppm"],
        name="Not Hers",
        interviewer_id=world["other"].id,
    )
    theirs = book(world, at(2026, 3, 24, 11), participant=theirs_person, interviewer=world["other"])
    waiting = make_participant(
        world["study"],
        district=world["north"],
        organisation=world["jcp"],
        role=world["tppm"],
        name="Waiting Person",
        interviewer_id=world["kathryn"].id,
    )
    auth.login(world["kathryn"])
    html = page(client)
    assert "Your next interviews" in html and f'href="/appointments/{mine.id}"' in html
    assert f'href="/appointments/{owed.id}/outcome"' in html
    assert f'href="/participants/{waiting.id}"' in html
    assert f"/appointments/{theirs.id}" not in html and "Not Hers" not in html
    assert "Since your last visit" not in html and "panel-messages" not in html


def test_a_registered_panel_shows_for_its_roles_and_none_leaves_it_out(world, client, auth, clock):
    """A domain's panel function appears on the home page of the roles it names, rendered from
    its template with its context; returning None leaves it out."""
    shown = {"value": True}

    def panel(user, study):
        if not shown["value"]:
            return None
        return ("home/_test_panel.html", {"word": f"{user.name} in {study.name}"})

    home.register_panel("test_panel", 5, ("interviewer",), panel)
    try:
        app = client.application
        app.jinja_env.loader.mapping = None  # no-op guard for loaders without mapping
    except AttributeError:
        pass
    from jinja2 import ChoiceLoader, DictLoader

    app = client.application
    original = app.jinja_loader
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader({"home/_test_panel.html": '<section id="test-panel">{{ word }}</section>'}),
            app.jinja_env.loader,
        ]
    )
    try:
        auth.login(world["kathryn"])
        assert "Kathryn Interviewer in " in page(client)
        shown["value"] = False
        assert 'id="test-panel"' not in page(client)
        auth.logout()
        shown["value"] = True
        auth.login(world["coordinator"])
        assert 'id="test-panel"' not in page(client)
    finally:
        home.unregister_panel("test_panel")
        app.jinja_env.loader = original
    with pytest.raises(ValueError):
        home.register_panel("bad", 1, ("participant",), panel)


@pytest.mark.parametrize("size", [2, 20])
@pytest.mark.parametrize("role", ["coordinator", "kathryn"])
def test_the_home_pages_cost_the_same_queries_at_any_size(
    world, client, auth, clock, count_queries, size, role
):
    """More interviews, overdue outcomes, people to rebook, follow-ups and changes do not add
    queries to either home page."""
    for number in range(size):
        person = make_participant(
            world["study"],
            district=world["north"],
            organisation=world["jcp"],
            role=world["tppm"],
            interviewer_id=world["kathryn"].id,
        )
        book(
            world,
            NOW + dt.timedelta(days=1, minutes=70 * number),
            participant=person,
            confirmed=True,
        )
        past = make_participant(
            world["study"],
            district=world["north"],
            organisation=world["jcp"],
            role=world["tppm"],
            interviewer_id=world["kathryn"].id,
        )
        clock.move(NOW - dt.timedelta(days=3))
        missed = book(
            world,
            NOW - dt.timedelta(days=2, minutes=-70 * number),
            participant=past,
            confirmed=True,
        )
        clock.move(NOW)
        if number % 2:
            record_outcome(missed, AppointmentStatus.NO_SHOW, None, None, world["coordinator"])
        log_contact_attempt(
            person,
            world["other"],
            attempted_at=NOW - dt.timedelta(days=1),
            channel=ContactChannel.TELEPHONE,
            disposition=Disposition.CALL_BACK,
            note="",
            next_action_on=dt.date(2026, 3, 20),
        )
    auth.login(world[role])
    page(client)
    with count_queries() as counter:
        page(client)
    counts = test_the_home_pages_cost_the_same_queries_at_any_size.counts
    counts.setdefault(role, {})[size] = counter.count
    if len(counts[role]) == 2:
        assert len(set(counts[role].values())) == 1, counts[role]


test_the_home_pages_cost_the_same_queries_at_any_size.counts = {}
