"""Reading replies out of raw mail: pure functions, so every odd input is cheap to try."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.replies import parsing
from tests.replies.mail import email_with_calendar, raw_email, reply_calendar, reply_email


def test_a_reply_is_read_with_its_attendee_answer_comment_and_stamp():
    text = reply_calendar("u-1@fieldwork", "Sian@Example.org", "DECLINED", comment="On leave")
    answer = parsing.read_answer(text.decode(), "sian@example.org")
    assert (answer.method, answer.uid, answer.attendee_email, answer.partstat) == (
        "REPLY",
        "u-1@fieldwork",
        "sian@example.org",
        "DECLINED",
    )
    assert answer.comment == "On leave" and answer.stamp == dt.datetime(
        2026, 3, 20, 11, 30, tzinfo=dt.UTC
    )


def test_a_comment_is_one_line_without_control_characters_and_bounded():
    text = reply_calendar("u", "a@example.org", comment="line one\nline two\x07" + "x" * 5000)
    comment = parsing.read_answer(text.decode(), "a@example.org").comment
    assert "\n" not in comment and "\x07" not in comment
    assert comment.startswith("line one line two") and len(comment) == parsing.MAX_COMMENT


def test_a_floating_counter_time_is_read_in_the_appointments_zone():
    """A COUNTER with no zone on its times (a floating time) means the wall clock where the
    interview is: 14:00 in London in summer is 13:00 UTC."""
    text = reply_calendar("u", "a@example.org", method="COUNTER").decode()
    text = text.replace("DTSTART:20260324T100000Z", "DTSTART:20260701T140000")
    text = text.replace("DTEND:20260324T110000Z", "DTEND:20260701T150000")
    answer = parsing.read_answer(text, "a@example.org", lambda uid: "Europe/London")
    assert answer.proposed_start == dt.datetime(2026, 7, 1, 13, tzinfo=dt.UTC)
    assert answer.proposed_end == dt.datetime(2026, 7, 1, 14, tzinfo=dt.UTC)


def test_an_all_day_counter_is_refused():
    text = reply_calendar("u", "a@example.org", method="COUNTER").decode()
    text = text.replace("DTSTART:20260324T100000Z", "DTSTART;VALUE=DATE:20260701")
    with pytest.raises(parsing.Unreadable, match="whole day"):
        parsing.read_answer(text, "a@example.org")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not valid iCalendar"),
        ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", "holds 0 events"),
        (
            "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nSEQUENCE:x\r\nUID:u\r\n"
            "ATTENDEE:mailto:a@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "broken",
        ),
        (
            "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:a@example.org"
            "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "no UID",
        ),
        (
            "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n",
            "names 0 attendees",
        ),
    ],
)
def test_broken_calendars_are_unreadable_with_a_reason(text, reason):
    with pytest.raises(parsing.Unreadable, match=reason):
        parsing.read_answer(text, "a@example.org")


def test_the_message_key_is_the_message_id_or_a_hash_of_the_headers():
    message = reply_email("u", "a@example.org", message_id="<abc@example.org>")
    header = message.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert parsing.message_key(header) == "abc@example.org"
    bare = raw_email("From: a@example.org\nSubject: none", b"x")
    key = parsing.message_key(bare.split(b"\r\n\r\n", 1)[0])
    assert key.startswith("sha256:") and key == parsing.message_key(bare.split(b"\r\n\r\n")[0])


def test_hostile_headers_give_facts_without_raising():
    header = (
        b"From: =?x-unknown?q?bad?= <a@example.org>, second@example.org\r\n"
        b"Subject: =?utf-8?b?!!!?= \xff\xfe\r\nDate: not a date\r\n\r\n"
    )
    facts = parsing.mail_facts(header)
    assert facts.sender_email == ""  # two senders: no single address to trust
    assert facts.sent_at is None


def test_calendar_parts_include_an_ics_attachment_and_skip_ordinary_parts():
    message = email_with_calendar(
        reply_calendar("u", "a@example.org"), sender="a@example.org", style="google"
    )
    parts = parsing.calendar_parts(message)
    assert len(parts) == 2 and all("METHOD:REPLY" in part for part in parts)
