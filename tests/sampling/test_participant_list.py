"""The participant list: sortable columns, search by phone and organisation, CSV downloads of
every filtered list, and bulk actions (assign, booking links, consent requests, outcomes)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox import sending
from fieldwork.outbox.models import OutboxMessage
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.models import ConsentLink, ContactAttempt
from fieldwork.sampling.models import Participant, RecruitmentStatus
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.booking import book_appointment
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import AppointmentMode, BookingLink
from tests.factories import make_frame, make_organisation, make_participant, make_user
from tests.recruitment.helpers import make_published_version

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def team(app):
    """A frame with three participants, a coordinator and two interviewers with windows."""
    set_clock(lambda: NOW)
    frame = make_frame()
    study = frame["study"]
    coordinator = make_user("coordinator", name="Cora Coordinator")
    kathryn = make_user("interviewer", name="Kathryn Interviewer")
    omar = make_user("interviewer", name="Omar Interviewer")
    for person in (kathryn, omar):
        for weekday in range(5):
            add_window(person, weekday, dt.time(9), dt.time(17), "Europe/London")
    other_org = make_organisation(study, "Zenith Training", districts=[frame["north"]])
    people = [
        make_participant(
            study,
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            reference="P1-003",
            name="Yvonne Adams",
            phone="01632 960123",
            email="yvonne@example.org",
            interviewer_id=kathryn.id,
        ),
        make_participant(
            study,
            district=frame["south"],
            organisation=other_org,
            role=frame["tppm"],
            reference="P2-001",
            name='=HYPERLINK("http://evil.example")',
            phone="+44 20 7946 0000",
            email="bill@example.org",
        ),
        make_participant(
            study,
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            reference="P1-002",
            name="Ann Zephyr",
            email="",
            interviewer_id=omar.id,
        ),
    ]
    yield {**frame, "coordinator": coordinator, "kathryn": kathryn, "omar": omar, "people": people}
    set_clock(None)


def _references(page: str) -> list[str]:
    return re.findall(r'href="/participants/\d+">(P\d-\d+)</a>', page)


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_columns_sort_on_the_server_and_say_so_with_aria_sort(team, client, auth):
    auth.login(team["coordinator"])
    page = client.get("/participants").get_data(as_text=True)
    assert _references(page) == ["P1-002", "P1-003", "P2-001"]
    assert re.search(r'<th scope="col" aria-sort="ascending"><a[^>]*>Reference', page)
    page = client.get("/participants?sort=name&dir=desc").get_data(as_text=True)
    assert _references(page) == ["P1-003", "P1-002", "P2-001"]  # Yvonne, Ann, =HYPERLINK
    assert re.search(r'aria-sort="descending"><a[^>]*>Name', page)
    page = client.get("/participants?sort=interviewer").get_data(as_text=True)
    assert _references(page) == ["P1-003", "P1-002", "P2-001"]  # Kathryn, Omar, nobody last
    page = client.get("/participants?sort=organisation&dir=desc").get_data(as_text=True)
    assert _references(page)[0] == "P2-001"  # Zenith Training
    assert client.get("/participants?sort=password&dir=sideways").status_code == 200


def test_search_matches_phone_with_or_without_spaces_and_organisation_name(team, client, auth):
    auth.login(team["coordinator"])
    for query, expected in (
        ("01632960123", ["P1-003"]),
        ("960 123", ["P1-003"]),
        ("7946", ["P2-001"]),
        ("zenith", ["P2-001"]),
        ("Jobcentre Plus", ["P1-002", "P1-003"]),
    ):
        page = client.get("/participants", query_string={"q": query}).get_data(as_text=True)
        assert _references(page) == expected, query


def test_search_ignores_letter_case_accented_letters_too_alike_on_both_databases(
    team, client, auth
):
    """The same queries find the same people on SQLite and PostgreSQL: letter case is ignored
    for accented letters as for plain ones, accents themselves are not, and LIKE's wildcards
    typed in a query are plain characters. (The suite runs on both databases.)"""
    make_participant(
        team["study"],
        district=team["north"],
        organisation=team["jcp"],
        role=team["tppm"],
        reference="P1-010",
        name="ÉLODIE Brontë",
        email="eb_1@example.org",
        job_title="Adviser (Ærø office)",
    )
    make_participant(
        team["study"],
        district=team["north"],
        organisation=team["jcp"],
        role=team["tppm"],
        reference="P1-011",
        name="Elodie Bronte",
        email="elodieb@example.org",
    )
    auth.login(team["coordinator"])
    for query, expected in (
        ("élodie", ["P1-010"]),
        ("ÉLODIE", ["P1-010"]),
        ("elodie", ["P1-011"]),
        ("BRONTË", ["P1-010"]),
        ("ærø", ["P1-010"]),
        ("EB_1", ["P1-010"]),
        ("eb%1", []),
        ("p1-01", ["P1-010", "P1-011"]),
        ("YVONNE@EXAMPLE", ["P1-003"]),
    ):
        page = client.get("/participants", query_string={"q": query}).get_data(as_text=True)
        assert _references(page) == expected, query


def test_the_filtered_list_downloads_as_csv_with_formulas_neutralised(team, client, auth):
    auth.login(team["coordinator"])
    rows = _csv(client.get("/participants.csv?q=example.org&sort=reference&dir=desc"))
    assert [row["reference"] for row in rows] == ["P2-001", "P1-003"]
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["phone"] == "'+44 20 7946 0000"  # a leading + is neutralised too
    assert rows[1]["interviewer"] == "Kathryn Interviewer"
    assert rows[1]["status"] == RecruitmentStatus.IDENTIFIED.label
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "export.downloaded")
    ).one()
    assert event.after == {"what": "the participant list as CSV"}
    assert event.actor_id == team["coordinator"].id


def test_contact_attempts_appointments_and_outbox_download_as_csv(team, client, auth):
    yvonne, bill, _ann = team["people"]
    log_contact_attempt(
        yvonne,
        team["coordinator"],
        attempted_at=NOW - dt.timedelta(hours=2),
        channel="telephone",
        disposition="agreed",
        note="=1+1 keen",
    )
    log_contact_attempt(
        bill,
        team["coordinator"],
        attempted_at=NOW - dt.timedelta(hours=1),
        channel="email",
        disposition="no_answer",
    )
    book_appointment(
        team["study"],
        yvonne,
        team["kathryn"],
        BookingRequest(
            starts_at=dt.datetime(2026, 3, 30, 9, tzinfo=dt.UTC),
            minutes=60,
            mode=AppointmentMode.TELEPHONE,
        ),
        team["coordinator"],
    )
    auth.login(team["coordinator"])
    contacts = _csv(client.get("/contact-attempts.csv?q=yvonne"))
    assert [(r["participant_reference"], r["disposition"]) for r in contacts] == [
        ("P1-003", "Agreed to take part")
    ]
    assert contacts[0]["note"] == "'=1+1 keen"
    assert contacts[0]["attempted_at"] == "2026-03-20T10:00:00+00:00"
    appointments = _csv(client.get(f"/appointments.csv?interviewer={team['kathryn'].id}"))
    assert appointments[0]["starts_at"] == "2026-03-30T10:00:00+01:00"
    assert appointments[0]["participant_reference"] == "P1-003"
    assert _csv(client.get(f"/appointments.csv?interviewer={team['omar'].id}")) == []
    messages = _csv(client.get("/outbox/messages.csv?kind=invite"))
    assert len(messages) == 2 and {m["kind"] for m in messages} == {"Invite"}
    assert _csv(client.get("/outbox/messages.csv?state=sent&kind=reminder")) == []


def test_interviewers_cannot_download_or_act_in_bulk(team, client, auth):
    auth.login(team["kathryn"])
    for path in (
        "/participants.csv",
        "/contact-attempts.csv",
        "/appointments.csv",
        "/outbox/messages.csv",
    ):
        assert client.get(path).status_code == 403, path
    ids = [str(p.id) for p in team["people"]]
    response = client.post(
        "/participants/bulk",
        data={"action": "assign", "assign_to": team["kathryn"].id, "participant_ids": ids},
    )
    assert response.status_code == 403
    page = client.get("/participants").get_data(as_text=True)
    assert 'name="participant_ids"' not in page


def test_bulk_assign_assigns_the_checked_people_with_an_audit_event_each(team, client, auth):
    yvonne, bill, ann = team["people"]
    auth.login(team["coordinator"])
    response = client.post(
        "/participants/bulk",
        data={
            "action": "assign",
            "assign_to": team["omar"].id,
            "participant_ids": [str(yvonne.id), str(bill.id), "999999", "x"],
            "next": "/participants?sort=name",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/participants?sort=name"
    db.session.expire_all()
    assert {p.reference: p.interviewer_id for p in db.session.scalars(db.select(Participant))} == {
        "P1-003": team["omar"].id,
        "P2-001": team["omar"].id,
        "P1-002": team["omar"].id,  # ann was Omar's already
    }
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "participant.assigned")
    ).all()
    assert sorted(e.participant_id for e in events) == sorted([yvonne.id, bill.id])
    page = client.get("/participants").get_data(as_text=True)
    assert "Assigned to Omar Interviewer for 2 participants (P1-003, P2-001)." in page


def test_bulk_actions_with_nothing_checked_or_a_foreign_redirect_are_refused(team, client, auth):
    auth.login(team["coordinator"])
    response = client.post(
        "/participants/bulk",
        data={"action": "assign", "assign_to": team["omar"].id, "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/participants"
    page = client.get("/participants").get_data(as_text=True)
    assert "Select at least one participant first" in page
    response = client.post(
        "/participants/bulk",
        data={"action": "explode", "participant_ids": [str(team["people"][0].id)]},
    )
    assert response.status_code == 302
    assert "Choose what to do" in client.get("/participants").get_data(as_text=True)


def test_bulk_booking_links_are_queued_and_delivered_one_each(team, client, auth, smtp_server):
    """Each checked person with an email gets their own link from their assigned interviewer
    (or the one chosen); anyone without one is named as skipped."""
    yvonne, bill, ann = team["people"]
    auth.login(team["coordinator"])
    response = client.post(
        "/participants/bulk",
        data={
            "action": "booking_links",
            "link_interviewer": "",
            "link_mode": "telephone",
            "link_days": "10",
            "participant_ids": [str(yvonne.id), str(bill.id), str(ann.id)],
        },
    )
    assert response.status_code == 302
    page = client.get("/participants").get_data(as_text=True)
    assert "Booking link emailed for 1 participant (P1-003)." in page
    assert "P2-001: no interviewer assigned" in page and "P1-002: no email address" in page
    links = db.session.scalars(db.select(BookingLink)).all()
    assert [(link.participant_id, link.interviewer_id) for link in links] == [
        (yvonne.id, team["kathryn"].id)
    ]
    rows = db.session.scalars(db.select(OutboxMessage)).all()
    assert [row.recipients for row in rows] == ["yvonne@example.org"]
    sending.send_due()
    received = [m for m in smtp_server.messages if "yvonne@example.org" in m.rcpt_tos]
    assert len(received) == 1
    message = received[0].message
    assert message["Subject"] == "Test study: choose a time for your interview"
    text = message.get_body(("plain",)).get_content()
    assert re.search(r"http://localhost/book/[A-Za-z0-9_-]+", text)
    html = message.get_body(("html",)).get_content()
    assert "Yvonne Adams" in html
    # With an interviewer chosen, Bill gets a link too.
    client.post(
        "/participants/bulk",
        data={
            "action": "booking_links",
            "link_interviewer": team["omar"].id,
            "link_mode": "video",
            "link_video": "https://video.example.org/room",
            "link_days": "10",
            "participant_ids": [str(bill.id)],
        },
    )
    link = db.session.scalars(
        db.select(BookingLink).where(BookingLink.participant_id == bill.id)
    ).one()
    assert link.interviewer_id == team["omar"].id and link.video_link.endswith("/room")


def test_bulk_consent_requests_are_emailed_through_the_outbox(team, client, auth, smtp_server):
    yvonne, bill, ann = team["people"]
    version = make_published_version(team["study"], team["coordinator"])
    auth.login(team["coordinator"])
    client.post(
        "/participants/bulk",
        data={
            "action": "consent_requests",
            "consent_version": version.id,
            "consent_days": "7",
            "participant_ids": [str(yvonne.id), str(bill.id), str(ann.id)],
        },
    )
    page = client.get("/participants").get_data(as_text=True)
    assert "Consent request emailed for 2 participants (P1-003, P2-001)." in page
    assert "P1-002: no email address" in page
    assert db.session.scalar(db.select(db.func.count(ConsentLink.id))) == 2
    sending.send_due()
    received = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert set(received) == {"yvonne@example.org", "bill@example.org"}
    text = received["bill@example.org"].get_body(("plain",)).get_content()
    token = re.search(r"/consent/([A-Za-z0-9_-]+)", text).group(1)
    assert client.get(f"/consent/{token}").status_code == 200
    assert "Interview consent (version 1)" in text
    # The HTML part escapes the participant's name (a formula-like, quote-holding one).
    html = received["bill@example.org"].get_body(("html",)).get_content()
    assert 'href="http://evil.example' not in html  # a name never becomes a link
    assert re.search(r'<a href="http://localhost/consent/[^"]+"', html)  # the tool's link does


def test_bulk_outcome_goes_through_the_contact_log_and_its_status_rules(team, client, auth):
    """ "Refused" declines identified people; an interviewed one keeps their status."""
    yvonne, bill, ann = team["people"]
    ann.status = RecruitmentStatus.INTERVIEWED
    db.session.commit()
    auth.login(team["coordinator"])
    client.post(
        "/participants/bulk",
        data={
            "action": "status",
            "disposition": "refused",
            "channel": "telephone",
            "note": "Team decision",
            "participant_ids": [str(yvonne.id), str(ann.id)],
        },
    )
    db.session.expire_all()
    assert db.session.get(Participant, yvonne.id).status == RecruitmentStatus.DECLINED
    assert db.session.get(Participant, ann.id).status == RecruitmentStatus.INTERVIEWED
    attempts = db.session.scalars(db.select(ContactAttempt)).all()
    assert sorted(a.participant_id for a in attempts) == sorted([yvonne.id, ann.id])
    assert {a.note for a in attempts} == {"Team decision"}
    response = client.post(
        "/participants/bulk",
        data={"action": "status", "disposition": "", "participant_ids": [str(bill.id)]},
    )
    assert response.status_code == 302
    assert "Choose the outcome to record." in client.get("/participants").get_data(as_text=True)
    assert db.session.get(Participant, bill.id).status == RecruitmentStatus.IDENTIFIED
