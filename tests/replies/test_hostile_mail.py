"""Mail the job cannot use is listed with its reason, moved aside (calendar mail) or left where
it is (ordinary mail, oversized mail), and never stops the job: the good reply after it is
still recorded."""

from __future__ import annotations

import email
from email.policy import default as default_policy

from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.replies import mailbox as reader
from fieldwork.replies.models import CalendarReply, MailboxMessage, MailOutcome
from fieldwork.scheduling.booking import reschedule_appointment
from tests.replies.conftest import at, book
from tests.replies.mail import (
    email_with_calendar,
    plain_email,
    raw_email,
    reply_calendar,
    reply_email,
)

UNMATCHED = "Fieldwork-Unmatched"


def _by_subject() -> dict[str, MailboxMessage]:
    db.session.expire_all()
    return {row.subject: row for row in db.session.scalars(select(MailboxMessage))}


def test_hostile_and_malformed_mail_is_listed_with_reasons_and_the_job_goes_on(
    app, world, mailbox, auth, client
):
    appointment = book(world, at(2026, 3, 24, 10))
    uid = appointment.ical_uid
    app.config["IMAP_MAX_MESSAGE_BYTES"] = 200_000
    one = reply_calendar(uid, "sian@example.org")
    second_event = b"BEGIN:VEVENT" + one.split(b"BEGIN:VEVENT")[1].split(b"END:VCALENDAR")[0]
    two_events = one.replace(b"END:VEVENT\r\n", b"END:VEVENT\r\n" + second_event, 1)
    huge = plain_email("Holiday photos").replace(b"Shall we have lunch on Friday?", b"x" * 400_000)
    bad_bytes = email_with_calendar(
        reply_calendar(uid, "sian@example.org", comment="caf\u00e9").replace(
            "café".encode(), b"caf\xe9\xff\xfe"
        ),
        sender="sian@example.org",
        subject="Invalid UTF-8 bytes",
    )
    mailbox.append(
        plain_email("Lunch on Friday?"),
        email_with_calendar(
            "BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n",
            sender="x@example.org",
            subject="Broken ics",
        ),
        reply_email("no-such-uid@elsewhere", "sian@example.org", subject="Unknown UID"),
        reply_email(uid, "stranger@example.org", subject="Wrong attendee"),
        reply_email(uid, "sian@example.org", sequence=0, subject="Stale sequence"),
        email_with_calendar(two_events, sender="sian@example.org", subject="Two events"),
        reply_email(uid, "sian@example.org", method="REQUEST", subject="Not a reply"),
        reply_email(uid, "sian@example.org", "NEEDS-ACTION", sequence=1, subject="No answer"),
        reply_email(uid, "sian@example.org", attendees=2, subject="Two attendees"),
        huge,
        raw_email(
            "From: =?utf-8?q?broken?=\nSubject: Broken MIME\nContent-Type: multipart/mixed;"
            ' boundary="zzz"\nMessage-ID: <broken-mime@example.org>',
            b"--zzz\r\nContent-Type: text/calendar\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"!!!not base64!!!\r\n--zzz",
        ),
        raw_email("From: someone@example.org\nSubject: No Message-ID", b"Hello"),
        bad_bytes,
    )
    # The interview moved (SEQUENCE 1) after the "stale" reply above was written for version 0.
    reschedule_appointment(
        appointment, at(2026, 3, 24, 11), 60, world["coordinator"], confirmed=True
    )
    good = reply_email(
        uid,
        "sian@example.org",
        "ACCEPTED",
        sequence=1,
        comment="D\u00e9sol\u00e9 for the delay; yes.",
        subject="Good after all of them",
    )
    mailbox.append(good)

    report = reader.read_mailbox()

    rows = _by_subject()
    reasons = {subject: (row.outcome, row.reason, row.folder) for subject, row in rows.items()}
    assert len(rows) == 14, reasons
    assert "No calendar part" in reasons["Lunch on Friday?"][1]
    assert reasons["Lunch on Friday?"][2] == ""  # ordinary mail stays in the inbox
    assert "not valid iCalendar" in reasons["Broken ics"][1]
    assert "No appointment has the calendar UID" in reasons["Unknown UID"][1]
    assert "stranger@example.org is neither the participant nor" in reasons["Wrong attendee"][1]
    assert "answers version 0" in reasons["Stale sequence"][1]
    assert "holds 2 events" in reasons["Two events"][1]
    assert "METHOD:REQUEST" in reasons["Not a reply"][1]
    assert "NEEDS-ACTION" in reasons["No answer"][1]
    assert "names 2 attendees" in reasons["Two attendees"][1]
    assert "Too large" in reasons["Holiday photos"][1]
    assert reasons["Holiday photos"][2] == ""
    for subject in ("Broken ics", "Unknown UID", "Wrong attendee", "Stale sequence"):
        assert reasons[subject][0] != MailOutcome.RECORDED
        assert reasons[subject][2] == UNMATCHED
    assert reasons["Good after all of them"][0] == MailOutcome.RECORDED
    # The invalid bytes are read as replacement characters, never a crash.
    assert reasons["Invalid UTF-8 bytes"][0] in (MailOutcome.RECORDED, MailOutcome.UNMATCHED)
    assert not report.errors
    recorded = {r.comment for r in db.session.scalars(select(CalendarReply))}
    assert "Désolé for the delay; yes." in recorded
    inbox = mailbox.count("INBOX")
    assert inbox == sum(1 for row in rows.values() if not row.folder)
    assert mailbox.count(UNMATCHED) + mailbox.count("Fieldwork-Processed") + inbox == 14

    auth.login(world["coordinator"])
    page = client.get("/replies/unmatched")
    assert page.status_code == 200
    for text in ("No appointment has the calendar UID", "Too large", "holds 2 events"):
        assert text in page.text
    assert "<script" not in page.text.split("<main", 1)[-1]

    # A second run over what is left changes nothing and records nothing new.
    again = reader.read_mailbox()
    assert not again.recorded and not again.unmatched and not again.errors
    assert len(_by_subject()) == 14


def test_a_latin_1_calendar_part_is_read_in_its_charset(app, world, mailbox):
    appointment = book(world, at(2026, 3, 24, 10))
    calendar = reply_calendar(appointment.ical_uid, "sian@example.org", comment="Désolé, non")
    message = email_with_calendar(
        calendar.decode("utf-8"),
        sender="sian@example.org",
        subject="Décliné",
        charset="iso-8859-1",
    )
    parsed = email.message_from_bytes(message, policy=default_policy)
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert b"D\xe9sol\xe9" in part.get_payload(decode=True)  # really Latin-1 on the wire
    mailbox.append(message)
    reader.read_mailbox()
    [reply] = db.session.scalars(select(CalendarReply)).all()
    assert reply.comment == "Désolé, non"


def test_an_unreachable_server_fails_the_run_and_records_nothing(app, world, mailbox):
    """A wrong password ends the run with an error (the scheduler logs it and tries again)."""
    app.config["IMAP_PASSWORD"] = "wrong"
    mailbox.append(plain_email())
    try:
        reader.read_mailbox()
    except Exception as error:
        assert "auth" in str(error).lower() or "login" in str(error).lower()
    else:
        raise AssertionError("a refused login must fail the run")
    assert db.session.scalars(select(MailboxMessage)).all() == []
