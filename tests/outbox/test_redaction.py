"""No usable secret at rest (issue 11, point 2): once a message has gone out, its stored copy
holds "[link removed after sending]" where its private link was, in every part; the link the
recipient got still works; neither the outbox nor a backup holds a token that opens anything."""

from __future__ import annotations

import gzip
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from sqlalchemy import select

from fieldwork.core.tokens import hash_token
from fieldwork.extensions import db
from fieldwork.outbox import sending
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.redaction import PLACEHOLDER, redact_links, secrets_in
from fieldwork.recruitment.models import ConsentLink
from fieldwork.scheduling.links import booking_link_for_token, send_booking_link
from fieldwork.scheduling.models import AppointmentMode, BookingLink, CalendarFeed
from tests.erasure_scan import hits_in_backup, hits_in_tables
from tests.factories import make_frame, make_participant, make_user

TOKEN_LIKE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


def send_link(smtp_server):
    frame = make_frame()
    coordinator = make_user("coordinator")
    interviewer = make_user("interviewer", name="Ivan Interviewer")
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Ann Lee",
        email="ann@example.org",
    )
    link, token = send_booking_link(
        person,
        interviewer,
        coordinator,
        lambda t: f"https://fieldwork.example/book/{t}",
        mode=AppointmentMode.TELEPHONE,
    )
    sending.send_due()
    [received] = [m for m in smtp_server.messages if "ann@example.org" in m.rcpt_tos]
    return link, token, received


def decoded_parts(raw: bytes) -> dict[str, str]:
    message = message_from_bytes(raw, policy=default_policy)
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart() and part.get_content_maintype() == "text"
    }


def test_the_sent_copy_has_a_placeholder_where_the_link_was(app, smtp_server):
    link, token, received = send_link(smtp_server)
    delivered = decoded_parts(received.data)
    assert any(token in text for text in delivered.values()), "the recipient got the link"

    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.state == OutboxState.SENT
    stored = decoded_parts(row.raw)
    assert token.encode() not in row.raw
    assert set(stored) == set(delivered)  # same parts, same shape
    for content_type, text in stored.items():
        assert token not in text
        assert PLACEHOLDER in text, content_type
        assert text.replace(PLACEHOLDER, "").strip()  # the wording is kept
    assert str(message_from_bytes(row.raw, policy=default_policy)["Subject"]) == str(
        received.message["Subject"]
    )
    assert booking_link_for_token(token).id == link.id  # the link itself still works


def test_no_table_and_no_backup_holds_a_token_that_opens_anything(
    app, smtp_server, runner, tmp_path
):
    _, token, _ = send_link(smtp_server)
    assert hits_in_tables([token]) == []
    backup = tmp_path / "backup.jsonl.gz"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    assert hits_in_backup(backup, [token]) == []
    # Whatever token-shaped text the backup holds opens no link.
    text = gzip.decompress(backup.read_bytes()).decode()
    hashes = set(db.session.scalars(select(BookingLink.token_hash)))
    hashes |= set(db.session.scalars(select(ConsentLink.token_hash)))
    hashes |= set(db.session.scalars(select(CalendarFeed.token_hash)))
    assert not {hash_token(found) for found in TOKEN_LIKE.findall(text)} & hashes


def test_a_pending_message_keeps_its_link_until_it_is_sent(app):
    frame = make_frame()
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        email="bo@example.org",
    )
    _, token = send_booking_link(
        person,
        make_user("interviewer"),
        make_user("coordinator"),
        lambda t: f"https://fieldwork.example/book/{t}",
        mode=AppointmentMode.TELEPHONE,
    )
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.state == OutboxState.PENDING
    assert any(token in text for text in decoded_parts(row.raw).values())


def test_links_in_calendars_and_bare_tokens_are_found_and_folded_lines_rejoined():
    token = "A" * 20 + "b-_" + "C" * 20
    message = EmailMessage()
    message["Subject"] = "x"
    message.set_content(f"Your code is {token}.\nUID 123e4567-e89b-12d3-a456-426614174000")
    calendar = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:123e4567-e89b-12d3-a456-426614174000@x\r\n"
        f"DESCRIPTION:Change it at https://fieldwork.example/bo\r\n ok/{token}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    message.add_alternative(calendar, subtype="calendar", charset="utf-8")
    row = OutboxMessage(raw=message.as_bytes())
    assert token in secrets_in(row.raw)
    assert redact_links(row) == 2
    assert token not in decoded_parts(row.raw)["text/calendar"].replace("\r\n ", "")
    assert token not in decoded_parts(row.raw)["text/plain"]
    assert "123e4567-e89b-12d3-a456-426614174000" in decoded_parts(row.raw)["text/plain"]
