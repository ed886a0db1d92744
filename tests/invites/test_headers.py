"""Address headers no display name can redirect (issue 11, point 9): every To/From/Cc parses
back with `email.policy.default` to exactly the intended addresses, names round-trip, lines
stay within 78 characters, and every message carries Date and Message-ID."""

from __future__ import annotations

from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest

from fieldwork.invites.headers import address_message, clean_name, set_addresses

HOSTILE = [
    "Ivy <spoof@attacker.example> " + "zzz " * 30,
    'Jane Smith, evil@attacker.example, "…"',
    'Jane Smith, evil@attacker.example, "Bob" <bob@attacker.example>',
    "Équipe",
    "Équipe de recherche, Université de Genève",
    "Ivy\r\nBcc: evil@attacker.example",
    "Ivy\nTo: evil@attacker.example",
    'Ivy "<spoof@attacker.example>" zzz',
    "=?utf-8?q?evil=40attacker.example?= <evil@attacker.example>",
    "Ivy \\ (comment) <a@b> ;:@[]",
    "Siân O'Brien, Jr.",
    "Zoë " + "Ærø-Provider " * 3,
    "",
]


def round_trip(message: EmailMessage) -> EmailMessage:
    return message_from_bytes(message.as_bytes(policy=SMTP), policy=default)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_display_name_never_changes_the_address(name):
    message = EmailMessage(policy=SMTP)
    address_message(
        message,
        sender=(name, "team@example.org"),
        to=[(name, "real@example.org"), ("Équipe", "equipe@example.org")],
        cc=[(name, "copy@example.org")],
    )
    message["Subject"] = "Test"
    message.set_content("Hello")
    raw = message.as_bytes(policy=SMTP)
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), raw
    parsed = round_trip(message)
    assert [a.addr_spec for a in parsed["From"].addresses] == ["team@example.org"]
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        "real@example.org",
        "equipe@example.org",
    ]
    assert [a.addr_spec for a in parsed["Cc"].addresses] == ["copy@example.org"]
    # Python's parser puts a space between two encoded-words (RFC 2047 drops it), so a name
    # too long for one encoded-word may come back with a doubled space; nothing else differs.
    assert parsed["To"].addresses[0].display_name.split() == clean_name(name).split()
    assert parsed["To"].addresses[1].display_name == "Équipe"
    assert parsed.get_all("Bcc") is None
    assert parsed["Date"].datetime is not None and parsed["Message-ID"]


def test_names_with_accents_come_back_unbroken():
    for name in ["Équipe", "Université de Genève", "Siân O'Brien", "Zoë Ærø"]:
        message = EmailMessage(policy=SMTP)
        set_addresses(message, "To", [Address(display_name=name, addr_spec="a@example.org")])
        assert round_trip(message)["To"].addresses[0].display_name == name


@pytest.mark.parametrize(
    "address", ["", "no-at-sign", "a b@example.org", "evil@example.org\r\nBcc: x@y", "a@", "@b"]
)
def test_an_unusable_address_is_refused(address):
    with pytest.raises(ValueError):
        address_message(
            EmailMessage(policy=SMTP), sender=("T", "t@example.org"), to=[("X", address)]
        )


def test_an_international_domain_is_written_in_its_ascii_form():
    message = EmailMessage(policy=SMTP)
    set_addresses(message, "To", [("Ann", "ann@bücher.example")])
    assert round_trip(message)["To"].addresses[0].addr_spec == "ann@xn--bcher-kva.example"


def test_the_message_id_given_is_kept_and_a_new_one_is_made_otherwise():
    first = address_message(
        EmailMessage(policy=SMTP),
        sender=("T", "t@example.org"),
        to=[("A", "a@example.org")],
        message_id="<fixed@example.org>",
    )
    second = address_message(
        EmailMessage(policy=SMTP), sender=("T", "t@example.org"), to=[("A", "a@example.org")]
    )
    assert str(first["Message-ID"]) == "<fixed@example.org>"
    assert str(second["Message-ID"]).endswith("@example.org>")


SPOOF = "Ivy <spoof@attacker.example> " + "zzz " * 20


def test_every_message_kind_sent_about_a_hostile_name_goes_only_where_intended(app, smtp_server):
    """Booking link, invitations (participant and interviewer), update, reminders and
    cancellation, delivered to a real SMTP server: envelope and headers name only the
    intended addresses, and each message has a Date and a Message-ID."""
    import datetime as dt

    from fieldwork.core.time import set_clock
    from fieldwork.outbox import sending
    from fieldwork.reminders import jobs
    from fieldwork.scheduling.booking import (
        book_appointment,
        cancel_appointment,
        reschedule_appointment,
    )
    from fieldwork.scheduling.checks import BookingRequest
    from fieldwork.scheduling.links import send_booking_link
    from fieldwork.scheduling.models import AppointmentMode
    from tests.factories import make_frame, make_participant, make_user

    now = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    set_clock(lambda: now)
    try:
        frame = make_frame()
        frame["study"].organiser_name = 'Équipe, "PL" <evil@attacker.example>'
        coordinator = make_user("coordinator")
        interviewer = make_user("interviewer", email="ivan@example.org", name=SPOOF)
        person = make_participant(
            frame["study"],
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            name='Jane Smith, evil@attacker.example, "…"',
            email="jane@example.org",
        )
        send_booking_link(
            person,
            interviewer,
            coordinator,
            lambda t: f"https://x.example/book/{t}",
            mode=AppointmentMode.TELEPHONE,
        )
        start = now + dt.timedelta(days=3)
        appointment = book_appointment(
            frame["study"],
            person,
            interviewer,
            BookingRequest(starts_at=start, minutes=60, mode=AppointmentMode.TELEPHONE),
            coordinator,
            confirmed=True,
        )
        reschedule_appointment(
            appointment, start + dt.timedelta(hours=2), 60, coordinator, confirmed=True
        )
        jobs.sweep_due_reminders(now=start)
        sending.send_due(now=start)
        cancel_appointment(appointment, "test", coordinator)
        sending.send_due(now=start)
    finally:
        set_clock(None)
    received = smtp_server.messages
    assert len(received) >= 7
    intended = {"jane@example.org", "ivan@example.org"}
    for item in received:
        message = item.message
        tos = [a.addr_spec for a in message["To"].addresses]
        froms = [a.addr_spec for a in message["From"].addresses]
        assert len(tos) == 1 and tos[0] in intended, str(message["To"])
        assert set(item.rcpt_tos) == set(tos)
        assert "attacker.example" not in " ".join(froms + tos)
        assert message.get_all("Cc") is None and message.get_all("Bcc") is None
        assert message["Date"].datetime is not None and message["Message-ID"]
