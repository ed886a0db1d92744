"""Erasure removes a person's address and name from stored messages, keeping the rows."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import sqlalchemy as sa

from fieldwork.extensions import db
from fieldwork.invites.ical import Attendee
from fieldwork.outbox import erasure
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage, OutboxState
from tests.calendar_parsers import read_with_icalendar
from tests.invites.test_mail import INTERVIEWER, invitation

PERSON = Attendee("Siân O'Brien, Jobcentre Plus", "sian.obrien@example.org")


def test_scrub_removes_the_address_and_name_everywhere_in_the_message(app):
    message = invitation(
        to=PERSON, summary=f"Interview with {PERSON.name}", attendees=(INTERVIEWER, PERSON)
    )
    row = outbox.enqueue(message, kind="invite", study_id=None)
    other = outbox.enqueue(invitation(), kind="invite", study_id=None)
    db.session.commit()

    assert erasure.scrub_recipient("Sian.OBrien@example.org", "erased@invalid") == 1
    db.session.commit()

    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert row.state == OutboxState.PENDING
    assert row.recipients == "erased@invalid"
    assert PERSON.name not in row.subject
    raw = row.raw.lower()
    assert b"sian.obrien" not in raw
    stored = message_from_bytes(row.raw, policy=default)
    assert stored["To"] == "erased@invalid"
    for part in stored.walk():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True).decode("utf-8")
        assert "sian.obrien" not in content.lower()
        assert "Siân O'Brien" not in content
        if part.get_content_type() in ("text/calendar", "application/ics"):
            (event,) = read_with_icalendar(content.encode()).walk("VEVENT")
            attendees = [str(a) for a in event["ATTENDEE"]]
            assert attendees == ["mailto:ann@example.org", "mailto:erased@invalid"]
            assert event["ATTENDEE"][1].params["CN"] == erasure.REMOVED_NAME

    untouched = db.session.get(OutboxMessage, other.id)
    assert b"sian@example.org" in untouched.raw
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2


def test_scrub_of_an_unknown_address_changes_nothing(app):
    outbox.enqueue(invitation(), kind="invite", study_id=None)
    assert erasure.scrub_recipient("nobody@example.org", "erased@invalid") == 0


def test_scrub_keeps_other_accented_text_of_an_8bit_message_readable(app):
    """A message sent as 8bit whose text keeps other accented words after the person's name
    goes is stored again (as quoted-printable) and reads back word for word."""
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage()
    message["From"] = "Équipe <team@example.org>"
    message["To"] = "Siân <sian.obrien@example.org>"
    message["Subject"] = "Your interview"
    message.set_content("Dear Siân O'Brien, Zoë will call you.", cte="8bit")
    message.add_alternative("<p>Dear Siân O'Brien, Zoë will call.</p>", subtype="html", cte="8bit")
    row = outbox.enqueue(message, kind="other", study_id=None)
    db.session.commit()

    assert erasure.scrub_recipient("sian.obrien@example.org", "erased@invalid") == 1
    db.session.commit()

    db.session.expire_all()
    stored = message_from_bytes(db.session.get(OutboxMessage, row.id).raw, policy=default)
    texts = [p.get_content() for p in stored.walk() if p.get_content_maintype() == "text"]
    assert all("Siân O'Brien" not in text and "Zoë will call" in text for text in texts)
    assert stored.as_bytes(policy=SMTP)  # writable again, as the sender will need
