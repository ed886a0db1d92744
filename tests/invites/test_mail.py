"""Invitation emails, checked as a real SMTP server on loopback receives them."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default
from email.utils import getaddresses

import pytest

from fieldwork.extensions import db
from fieldwork.invites.ical import Attendee
from fieldwork.invites.mail import (
    build_invitation_email,
    describe_time,
    method_for,
    render_invitation,
)
from fieldwork.outbox import sending
from fieldwork.outbox import services as outbox
from tests.calendar_parsers import read_with_icalendar, read_with_icaljs, read_with_vobject
from tests.factories import make_study
from tests.invites.test_ical import AWKWARD, LONDON, make_event

INTERVIEWER = Attendee("Ann Interviewer", "ann@example.org", role="CHAIR")
PARTICIPANT = Attendee("Siân O'Brien", "sian@example.org")


def invitation(kind: str = "invite", to: Attendee = PARTICIPANT, **event_changes):
    event = make_event(**event_changes)
    text, html = render_invitation(
        kind,
        {"event": event, "recipient": to, "study_name": "Provider-Led Pathways", "mode": "video"},
    )
    return build_invitation_email(
        event=event,
        method=method_for(kind),
        to=to,
        subject=f"Interview: {event.summary}",
        text_body=text,
        html_body=html,
        sender_name=event.organiser_name,
        sender_email=event.organiser_email,
    )


def send_through_outbox(*messages, kind: str = "invite"):
    study = make_study()
    for message in messages:
        outbox.enqueue(message, kind=kind, study_id=study.id)
    db.session.commit()
    return sending.send_due()


def leaf_types(message) -> list[str]:
    return [part.get_content_type() for part in message.walk() if not part.is_multipart()]


def test_received_invite_has_the_structure_outlook_and_google_expect(app, smtp_server):
    """multipart/mixed [ multipart/alternative [text/plain, text/html, text/calendar;
    method=REQUEST], invite.ics attachment ], From the organiser, To the attendee."""
    report = send_through_outbox(invitation())
    assert len(report.sent) == 1
    (received,) = smtp_server.messages
    message = received.message
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar_part = alternative.get_payload()[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content_type() in ("application/ics", "text/calendar")
    assert getaddresses([message["From"]]) == [("Research team", "team@example.org")]
    assert getaddresses([message["To"]]) == [("Siân O'Brien", "sian@example.org")]
    assert received.mail_from == "team@example.org"
    assert received.rcpt_tos == ("sian@example.org",)
    assert message["Message-ID"] and message["Date"]


@pytest.mark.parametrize("kind, method", [("invite", "REQUEST"), ("cancellation", "CANCEL")])
def test_calendar_part_method_equals_the_method_inside(app, smtp_server, kind, method):
    changes = {"sequence": 1, "status": "CANCELLED"} if kind == "cancellation" else {}
    send_through_outbox(invitation(kind, **changes), kind=kind)
    message = smtp_server.messages[0].message
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    attachment = next(p for p in message.walk() if p.get_filename() == "invite.ics")
    inline = calendar_part.get_payload(decode=True)
    assert calendar_part.get_param("method") == method
    assert str(read_with_icalendar(inline)["METHOD"]) == method
    assert attachment.get_payload(decode=True) == inline
    (reading,) = read_with_icaljs(inline)
    assert reading["method"] == method


@pytest.mark.parametrize(
    "day, zone_abbreviation",
    [(dt.date(2026, 3, 30), "BST"), (dt.date(2026, 10, 26), "GMT")],
)
def test_ten_oclock_after_a_clock_change_reads_ten_oclock_in_the_email(
    app, smtp_server, day, zone_abbreviation
):
    start = dt.datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)
    send_through_outbox(invitation(start=start, end=start + dt.timedelta(hours=1)))
    message = smtp_server.messages[0].message
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    expected = f"Monday {day.day} {day:%B %Y}, 10:00 {zone_abbreviation} (Europe/London)"
    assert expected in text
    assert expected in html
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    data = calendar.get_payload(decode=True)
    assert f"DTSTART;TZID=Europe/London:{day:%Y%m%d}T100000".encode() in data
    assert read_with_vobject(data).vevent.dtstart.value == start
    (reading,) = read_with_icaljs(data)
    assert reading["events"][0]["start"]["local"] == f"{day.isoformat()}T10:00:00"


def test_header_injection_in_a_name_adds_no_header_and_no_recipient(app, smtp_server):
    """A name holding CR LF and a Bcc line stays inside the display name."""
    evil = Attendee("Mallory\r\nBcc: evil@example.com", "mallory@example.org")
    message = invitation(
        to=evil, organiser_name="Team\r\nBcc: evil@example.com", summary="Hi\r\nBcc: x@y.z"
    )
    send_through_outbox(message)
    (received,) = smtp_server.messages
    assert received.rcpt_tos == ("mallory@example.org",)
    parsed = message_from_bytes(received.data, policy=default)
    assert parsed.get_all("Bcc") is None
    headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers
    assert parsed["Subject"] == "Interview: Hi Bcc: x@y.z"
    assert "evil@example.com" not in received.rcpt_tos
    assert getaddresses([parsed["To"]]) == [
        ("Mallory Bcc: evil@example.com", "mallory@example.org")
    ]


def test_a_broken_address_is_refused_before_anything_is_queued(app):
    with pytest.raises(ValueError, match="address"):
        invitation(to=Attendee("X", "x@example.org\r\nBcc: evil@example.com"))


def test_non_ascii_and_punctuated_names_survive_the_headers(app, smtp_server):
    send_through_outbox(invitation(to=Attendee(AWKWARD, "sian@example.org")))
    message = smtp_server.messages[0].message
    assert getaddresses([message["To"]]) == [(AWKWARD.replace("\n", " "), "sian@example.org")]


def test_update_names_the_old_time_and_the_new(app):
    event = make_event(sequence=2)
    previous = dt.datetime(2026, 3, 27, 15, 30, tzinfo=LONDON)
    text, html = render_invitation(
        "update", {"event": event, "recipient": PARTICIPANT, "previous_start": previous}
    )
    assert describe_time(previous, "Europe/London") in text
    assert "Friday 27 March 2026, 15:30 GMT (Europe/London)" in text
    assert "Monday 30 March 2026, 10:00 BST (Europe/London)" in html


def test_html_body_escapes_what_people_typed(app):
    event = make_event(location="<script>alert(1)</script>")
    _, html = render_invitation("invite", {"event": event, "recipient": PARTICIPANT})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_interviewer_invite_carries_the_topic_guide(app):
    event = make_event(attachments=(("Topic guide", "https://example.org/guide.pdf"),))
    text, html = render_invitation("invite", {"event": event, "recipient": INTERVIEWER})
    assert "Topic guide: https://example.org/guide.pdf" in text
    assert 'href="https://example.org/guide.pdf"' in html


def test_unknown_kind_is_refused(app):
    with pytest.raises(ValueError):
        render_invitation("reminder", {"event": make_event(), "recipient": PARTICIPANT})


def test_a_given_message_id_is_kept(app):
    event = make_event()
    message = build_invitation_email(
        event=event,
        method="REQUEST",
        to=PARTICIPANT,
        subject="s",
        text_body="t",
        html_body="<p>h</p>",
        sender_name="Team",
        sender_email="team@example.org",
        message_id="<appointment-42-invite-0@fieldwork.example.org>",
    )
    assert message["Message-ID"] == "<appointment-42-invite-0@fieldwork.example.org>"
