"""The outbox queues and sends in batches: many messages in one INSERT, a batch claimed in one
statement and confirmed together, and what a stopped sender had not tried goes back."""

from __future__ import annotations

import threading
from email.headerregistry import Address

import pytest
import sqlalchemy as sa

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox import sending
from fieldwork.outbox import services as outbox
from fieldwork.outbox.composing import compose_alternative, prepare
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.signals import messages_ready
from tests.factories import make_study
from tests.outbox.test_delivery import T0, Clock, fresh, make_message, received_ids

TEAM = Address("Research team", addr_spec="team@example.org")


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock(T0)
    set_clock(clock)
    return clock


def _composed(number: int, text: str = "Hello Siân, see you on Monday."):
    return compose_alternative(
        sender=TEAM,
        to=[Address("Siân O'Brien", addr_spec=f"sian{number}@example.org")],
        subject=f"Réunion {number}: lundi",
        text=text,
        html=f"<p>{text}</p>",
        message_id=f"<batch-{number}@fieldwork.test>",
        headers=[("Auto-Submitted", "auto-generated")],
    )


def test_enqueue_many_inserts_in_order_and_wakes_the_sender_after_the_commit(app, clock):
    study = make_study()
    calls: list[object] = []

    def listener(sender: object) -> None:
        calls.append(sender)

    messages_ready.connect(listener)
    try:
        items = [outbox.Outgoing(_composed(n), study.id) for n in range(3)]
        ids = outbox.enqueue_many(items, kind="reminder")
        assert calls == [], "nothing is sent before the commit"
        db.session.commit()
        assert len(calls) == 1
    finally:
        messages_ready.disconnect(listener)
    rows = [fresh(message_id) for message_id in ids]
    assert [row.message_id for row in rows] == [f"<batch-{n}@fieldwork.test>" for n in range(3)]
    assert all(row.state == OutboxState.PENDING and row.attempts == 0 for row in rows)
    assert rows[0].recipient_list == ["sian0@example.org"]


def test_a_composed_message_reads_back_as_the_email_package_reads_any(app, clock, smtp_server):
    """Addresses, an accented subject and both bodies survive the trip through a real server."""
    study = make_study()
    outbox.enqueue_many([outbox.Outgoing(_composed(1), study.id)], kind="reminder")
    db.session.commit()
    assert len(sending.send_due().sent) == 1
    [received] = smtp_server.messages
    message = received.message
    assert str(message["To"]) == "Siân O'Brien <sian1@example.org>"
    assert str(message["Subject"]) == "Réunion 1: lundi"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)).get_content().strip() == "Hello Siân, see you on Monday."
    assert "<p>Hello Siân" in message.get_body(("html",)).get_content()
    assert list(received.rcpt_tos) == ["sian1@example.org"]


def test_the_envelope_carries_the_stored_addresses_as_smtplib_would_send_them(
    app, clock, smtp_server
):
    """MAIL FROM and RCPT TO are the stored addr-specs (the only addresses the outbox is
    given: fieldwork.invites.headers refuses quoting, spaces and control characters), each
    recipient its own RCPT, as smtplib's sendmail gives them."""
    study = make_study()
    message = compose_alternative(
        sender=TEAM,
        to=[
            Address("Siân", addr_spec="sian@example.org"),
            Address("Dot Ted", addr_spec="dot.ted+fieldwork@example.org"),
        ],
        subject="Two recipients",
        text="Hello",
        html="<p>Hello</p>",
        message_id="<envelope-1@fieldwork.test>",
    )
    outbox.enqueue_many([outbox.Outgoing(message, study.id)], kind="reminder")
    db.session.commit()
    assert len(sending.send_due().sent) == 1
    [received] = smtp_server.messages
    assert received.mail_from == "team@example.org"
    assert list(received.rcpt_tos) == ["sian@example.org", "dot.ted+fieldwork@example.org"]


def test_whether_a_message_holds_a_private_link_is_known_when_it_is_queued(app):
    link = "https://fieldwork.example/book/" + "A" * 43
    assert _composed(1, f"Pick a time: {link}").has_secrets
    assert not _composed(2).has_secrets
    assert not prepare(make_message(3)).has_secrets


def test_a_batch_is_claimed_at_once_and_confirmed_together(app, clock, smtp_server):
    study = make_study()
    ids = [outbox.enqueue(make_message(n), kind="reminder", study_id=study.id).id for n in range(5)]
    db.session.commit()
    report = sending.send_due(limit=5)
    assert sorted(report.sent) == sorted(ids)
    assert len(set(received_ids(smtp_server))) == 5
    states = db.session.scalars(sa.select(OutboxMessage.state)).all()
    assert set(states) == {OutboxState.SENT}
    assert {fresh(message_id).attempts for message_id in ids} == {1}


def test_a_stopped_sender_hands_back_what_it_had_not_tried(app, clock, smtp_server):
    """Told to stop, the sender sends nothing more; the claimed rows it had not tried are
    pending again as before the claim (not interrupted, not an attempt), and go next time."""
    study = make_study()
    ids = [outbox.enqueue(make_message(n), kind="reminder", study_id=study.id).id for n in range(4)]
    db.session.commit()
    stop = threading.Event()
    stop.set()
    report = sending.send_due(limit=4, stop=stop)
    assert report.sent == [] and smtp_server.messages == []
    rows = [fresh(message_id) for message_id in ids]
    assert {(row.state, row.attempts, row.claimed_at) for row in rows} == {
        (OutboxState.PENDING, 0, None)
    }
    assert sorted(sending.send_due(limit=4).sent) == sorted(ids)
