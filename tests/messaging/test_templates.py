"""Per-study message texts: edited with a preview, rendered in the sandbox, used by the
messages the tool sends (booking links, consent requests, invitations, updates, cancellations)."""

from __future__ import annotations

import email
import re
from email.policy import default as default_policy

from fieldwork.extensions import db
from fieldwork.messaging import services
from fieldwork.messaging.kinds import KINDS
from fieldwork.messaging.models import MessageTemplate
from fieldwork.outbox.models import OutboxMessage
from fieldwork.scheduling.booking import cancel_appointment, reschedule_appointment
from fieldwork.scheduling.links import send_booking_link
from fieldwork.scheduling.models import AppointmentMode
from tests.scheduling.conftest import at, book


def _messages(kind: str | None = None):
    statement = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        statement = statement.where(OutboxMessage.kind == kind)
    return [
        email.message_from_bytes(row.raw, policy=default_policy)
        for row in db.session.scalars(statement)
    ]


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_list_names_every_message_the_tool_sends(world, client, auth):
    auth.login(world["coordinator"])
    page = client.get("/message-templates").get_data(as_text=True)
    for label in (
        "Invitation",
        "Update",
        "Cancellation",
        "Booking link",
        "Consent request",
        "User invitation",
        "Reminders",
    ):
        assert f">{label}</a>" in page, label
    assert "/reminders/settings" in page


def test_preview_renders_with_sample_values_and_saves_nothing(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        "/message-templates/booking_link",
        data={
            "action": "preview",
            "subject": "Pick a slot, {{ recipient_name }}",
            "body": "Hello {{ recipient_name }}.\n\nYour link: {{ url }}",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="preview-subject">Pick a slot, Siân O&#39;Brien<' in page
    assert "Your link: https://fieldwork.example.org/book/abc123" in page
    assert db.session.scalar(db.select(db.func.count(MessageTemplate.id))) == 0


def test_mistakes_are_reported_beside_the_field_and_not_saved(world, client, auth):
    auth.login(world["coordinator"])
    url = "/message-templates/consent_request"
    cases = [
        ({"subject": "Hi {{ recipient_nam }}", "body": "x"}, "subject", "is undefined"),
        ({"subject": "Hi", "body": "{% if url %}unclosed"}, "body", "Line 1"),
        ({"subject": "Hi", "body": "{{ url.__class__.__mro__ }}"}, "body", "Not allowed"),
        ({"subject": "", "body": "x"}, "subject", "Enter the subject."),
    ]
    for data, field, words in cases:
        response = client.post(url, data={"action": "save", **data})
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        error = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
        assert error and words in error.group(1), (data, error and error.group(1))
    assert db.session.scalar(db.select(db.func.count(MessageTemplate.id))) == 0
    assert client.get("/message-templates/no_such_kind").status_code == 404


def test_a_saved_booking_link_text_is_what_participants_receive(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        "/message-templates/booking_link",
        data={
            "action": "save",
            "subject": "{{ study_name }}: a time with {{ interviewer_name }}",
            "body": "Dear {{ recipient_name }},\n\n<b>Choose</b> here: {{ url }}\n",
        },
    )
    assert response.status_code == 302
    send_booking_link(
        world["first"],
        world["kathryn"],
        world["coordinator"],
        lambda token: f"https://fieldwork.example.org/book/{token}",
        mode=AppointmentMode.TELEPHONE,
    )
    (message,) = _messages()
    assert message["Subject"] == "Test study: a time with Kathryn Interviewer"
    text = _text(message)
    assert text.startswith("Dear Siân O'Brien, Jr.,")
    assert "<b>Choose</b> here: https://fieldwork.example.org/book/" in text
    html = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;Choose&lt;/b&gt;" in html and "<b>" not in html
    assert "O'Brien" in html or "O&#39;Brien" in html
    trail = client.get("/audit").get_data(as_text=True)
    assert "text of the booking link message" in trail
    # Going back to the default restores the original wording.
    assert client.post("/message-templates/booking_link/reset").status_code == 302
    assert services.stored_template(world["study"].id, "booking_link") is None


def test_invitation_update_and_cancellation_use_the_studys_subject_and_opening(world):
    for kind, subject, body in (
        ("invite", "Booked: {{ participant_reference }} on {{ when }}", "We look forward to it."),
        ("update", "Moved: {{ when }} (was {{ previous_when }})", "Note the new time."),
        ("cancellation", "Off: {{ when }}", "Sorry{% if reason %}: {{ reason }}{% endif %}."),
    ):
        services.save_template(world["study"], kind, subject, body, world["coordinator"])
    appointment = book(world, at(2026, 3, 23, 10))
    invites = _messages("invite")
    assert [m["Subject"].strip() for m in invites] == [
        "Booked: P1-004 on Monday 23 March 2026, 10:00 GMT (Europe/London)"
    ] * 2
    text = _text(invites[0])
    assert "We look forward to it." in text and "You are invited" not in text
    assert "When:" in text  # the details still follow
    assert any(p.get_content_type() == "text/calendar" for p in invites[0].walk())
    reschedule_appointment(appointment, at(2026, 3, 24, 10), 60, world["coordinator"])
    update = _messages("update")[0]
    # (str.strip: the stdlib folds a long Subject right after "Subject:", see the report)
    assert update["Subject"].strip() == (
        "Moved: Tuesday 24 March 2026, 10:00 GMT (Europe/London) "
        "(was Monday 23 March 2026, 10:00 GMT (Europe/London))"
    )
    cancel_appointment(appointment, "Snow", world["coordinator"])
    cancellation = _messages("cancellation")[0]
    assert (
        cancellation["Subject"].strip() == "Off: Tuesday 24 March 2026, 10:00 GMT (Europe/London)"
    )
    assert "Sorry: Snow." in _text(cancellation)


def test_a_stored_text_that_no_longer_renders_gives_way_to_the_default(world):
    db.session.add(
        MessageTemplate(
            study_id=world["study"].id,
            kind="invite",
            subject="{{ something_removed }}",
            body="x",
        )
    )
    db.session.commit()
    book(world, at(2026, 3, 23, 10))
    subject = _messages("invite")[0]["Subject"]
    assert subject.startswith("Invitation: ")


def test_every_kind_renders_its_default_with_its_sample(app):
    for key, kind in KINDS.items():
        rendered = services.preview(key, kind.default_subject, kind.default_body)
        assert rendered.subject and rendered.text.strip(), key


def test_interviewers_cannot_see_or_change_message_texts(world, client, auth):
    auth.login(world["kathryn"])
    assert client.get("/message-templates").status_code == 403
    assert client.get("/message-templates/invite").status_code == 403
    assert client.post("/message-templates/invite/reset").status_code == 403
