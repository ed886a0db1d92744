"""The outbox sends each due message once, retries with backoff, and loses nothing."""

from __future__ import annotations

import datetime as dt
import threading
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from fieldwork import config
from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.outbox import sending, smtp
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.signals import messages_ready
from tests.factories import make_study
from tests.smtp_server import SilentSMTPServer

T0 = dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)


class Clock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock(T0)
    set_clock(clock)
    return clock


def make_message(number: int = 1, to: str = "Bob Participant <bob@example.org>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Research team <team@example.org>"
    message["To"] = to
    message["Subject"] = f"Message {number}"
    message["Message-ID"] = f"<message-{number}@fieldwork.test>"
    message.set_content(f"Hello Bob Participant, this is message {number}.")
    return message


def queue(*messages: EmailMessage, kind: str = "reminder", **options) -> list[int]:
    study = make_study()
    rows = [outbox.enqueue(m, kind=kind, study_id=study.id, **options) for m in messages]
    db.session.commit()
    return [row.id for row in rows]


def fresh(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def received_ids(smtp_server) -> list[str]:
    return [r.message["Message-ID"] for r in smtp_server.messages]


def test_enqueue_joins_the_callers_transaction(app, clock):
    """Nothing is committed by enqueue: a rolled-back booking leaves no message behind."""
    study = make_study()
    outbox.enqueue(make_message(), kind="invite", study_id=study.id)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_enqueue_stores_the_whole_message_and_its_recipients(app, clock):
    message = make_message(to="Bob <bob@example.org>, Carol <carol@example.org>")
    message["Cc"] = "Dan <dan@example.org>"
    (message_id,) = queue(message, kind="invite", appointment_id=42)
    row = fresh(message_id)
    assert row.state == OutboxState.PENDING
    assert row.recipient_list == ["bob@example.org", "carol@example.org", "dan@example.org"]
    assert row.sender == "team@example.org"
    assert row.message_id == "<message-1@fieldwork.test>"
    assert row.appointment_id == 42
    assert row.due_at == row.next_attempt_at == T0
    assert b"this is message 1" in row.raw


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda m: m.__setitem__("Bcc", "x@example.org"), "Bcc"),
        (lambda m: m.__delitem__("To"), "To or Cc"),
    ],
)
def test_enqueue_refuses_messages_it_cannot_send_safely(app, change, error):
    message = make_message()
    change(message)
    with pytest.raises(ValueError, match=error):
        outbox.enqueue(message, kind="other", study_id=None)


def test_a_message_id_is_given_when_missing(app, clock):
    message = make_message()
    del message["Message-ID"]
    row = outbox.enqueue(message, kind="other", study_id=None)
    assert row.message_id.startswith("<") and row.message_id.endswith("@example.org>")


def test_due_messages_are_sent_once_and_marked_sent(app, clock, smtp_server):
    ids = queue(make_message(1), make_message(2))
    report = sending.send_due()
    assert sorted(report.sent) == sorted(ids)
    assert sorted(received_ids(smtp_server)) == [
        "<message-1@fieldwork.test>",
        "<message-2@fieldwork.test>",
    ]
    for message_id in ids:
        row = fresh(message_id)
        assert row.state == OutboxState.SENT
        assert row.sent_at == T0
        assert row.attempts == 1
    assert sending.send_due().sent == []
    assert len(smtp_server.messages) == 2


def test_a_message_waits_for_its_due_time(app, clock, smtp_server):
    (message_id,) = queue(make_message(), due_at=T0 + dt.timedelta(hours=2))
    assert sending.send_due().sent == []
    clock.advance(hours=1, minutes=59)
    assert sending.send_due().sent == []
    clock.advance(minutes=1)
    assert sending.send_due().sent == [message_id]
    assert len(smtp_server.messages) == 1


def test_server_down_leaves_messages_pending_and_sends_them_when_it_is_back(
    app, clock, smtp_server
):
    ids = queue(make_message(1), make_message(2))
    smtp_server.stop()
    report = sending.send_due()
    assert sorted(report.deferred) == sorted(ids)
    for message_id in ids:
        row = fresh(message_id)
        assert row.state == OutboxState.PENDING
        assert row.attempts == 1
        assert "Connection refused" in row.last_error or "Errno" in row.last_error
        assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)

    smtp_server.start()
    assert sending.send_due().sent == []  # not yet time to retry
    clock.advance(minutes=1)
    assert sorted(sending.send_due().sent) == sorted(ids)
    assert len(smtp_server.messages) == 2
    assert all(fresh(message_id).state == OutboxState.SENT for message_id in ids)


def test_a_temporary_refusal_is_retried(app, clock, smtp_server):
    (message_id,) = queue(make_message())
    smtp_server.refuse("451 4.3.0 Try again later")
    assert sending.send_due().deferred == [message_id]
    assert "451" in fresh(message_id).last_error
    smtp_server.refuse(None)
    clock.advance(minutes=1)
    assert sending.send_due().sent == [message_id]
    assert len(smtp_server.messages) == 1


def test_a_permanent_refusal_fails_at_once(app, clock, smtp_server):
    (message_id,) = queue(make_message())
    smtp_server.refuse("554 5.7.1 Rejected")
    assert sending.send_due().failed == [message_id]
    row = fresh(message_id)
    assert row.state == OutboxState.FAILED
    assert "554" in row.last_error


def test_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [sending.backoff(n).total_seconds() / 60 for n in range(1, 10)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
        60,
    ]


def test_a_message_fails_after_the_last_attempt(app, clock, smtp_server):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    try:
        (message_id,) = queue(make_message())
        smtp_server.stop()
        for _ in range(2):
            assert sending.send_due().deferred == [message_id]
            clock.advance(hours=1)
        assert sending.send_due().failed == [message_id]
        row = fresh(message_id)
        assert row.state == OutboxState.FAILED
        assert row.attempts == 3
        clock.advance(hours=1)
        assert sending.send_due().failed == []  # a failed message waits for a person
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = 8


def test_retry_puts_a_failed_message_back_and_it_is_sent(app, clock, smtp_server):
    (message_id,) = queue(make_message())
    smtp_server.refuse("550 No such user")
    sending.send_due()
    smtp_server.refuse(None)
    clock.advance(minutes=5)
    outbox.retry(message_id)
    row = fresh(message_id)
    assert row.state == OutboxState.PENDING
    assert row.next_attempt_at == clock.now
    assert sending.send_due().sent == [message_id]
    with pytest.raises(outbox.OutboxError, match="sent"):
        outbox.retry(message_id)


def test_an_interrupted_send_is_not_resent_blindly_but_can_be_resent_by_hand(
    app, clock, smtp_server
):
    """A row left 'sending' (the sender died after claiming it) is skipped by the sweep and
    flagged as interrupted once the claim is old; a coordinator may then resend it."""
    (message_id,) = queue(make_message())
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(state=OutboxState.SENDING, claimed_at=T0, attempts=1)
    )
    db.session.commit()
    clock.advance(minutes=1)
    assert sending.send_due().sent == []
    assert not outbox.is_interrupted(fresh(message_id))
    clock.advance(minutes=10)
    assert sending.send_due().sent == []
    assert outbox.is_interrupted(fresh(message_id))
    outbox.retry(message_id)
    assert sending.send_due().sent == [message_id]
    assert len(smtp_server.messages) == 1


def test_a_commit_that_queues_a_message_wakes_the_sender_and_sends_nothing_itself(
    app, clock, smtp_server
):
    """Committing a message sends `messages_ready` (the in-process scheduler's sweep wakes)
    once; the committing code itself talks no SMTP; a rolled-back message wakes nobody."""
    calls: list[int] = []

    def listener(sender: object) -> None:
        calls.append(1)

    messages_ready.connect(listener)
    try:
        study = make_study()
        db.session.commit()
        assert calls == []
        outbox.enqueue(make_message(1), kind="invite", study_id=study.id)
        db.session.rollback()
        assert calls == []
        outbox.enqueue(make_message(2), kind="invite", study_id=study.id)
        db.session.commit()
        assert calls == [1]
        assert smtp_server.messages == []
    finally:
        messages_ready.disconnect(listener)


def test_without_a_mail_server_messages_wait_marked_not_configured(app, clock):
    """SMTP_HOST empty: nothing is claimed, each due message says why it waits, and it goes
    out once a server is configured."""
    saved = app.config["SMTP_HOST"]
    app.config["SMTP_HOST"] = ""
    try:
        (message_id,) = queue(make_message())
        report = sending.send_due()
        assert report.sent == [] and report.deferred == []
        row = fresh(message_id)
        assert row.state == OutboxState.PENDING
        assert row.attempts == 0
        assert row.last_error == smtp.NOT_CONFIGURED
    finally:
        app.config["SMTP_HOST"] = saved


def test_a_server_that_takes_the_message_and_never_answers_leaves_it_interrupted(app, clock):
    """The whole message went out, the answer to DATA never came: the message may have
    arrived, so it stays 'sending', shown as interrupted at once, and is not resent."""
    with SilentSMTPServer(answer_data=False) as server:
        app.config.update(SMTP_HOST=server.host, SMTP_PORT=server.port, SMTP_DATA_TIMEOUT=1)
        try:
            (message_id,) = queue(make_message())
            report = sending.send_due()
            assert report.interrupted == [message_id]
            row = fresh(message_id)
            assert row.state == OutboxState.SENDING
            assert "may have arrived" in row.last_error
            assert outbox.is_interrupted(row)
            assert sending.send_due().sent == []
            assert server.data_received == 1
        finally:
            app.config["SMTP_DATA_TIMEOUT"] = config.default("SMTP_DATA_TIMEOUT")


def test_a_slow_answer_to_data_is_waited_for_and_the_message_confirmed(app, clock):
    """A server that answers DATA after a few seconds (longer than the command timeout) is
    waited for: the message ends 'sent', never left 'sending'."""
    with SilentSMTPServer(answer_data=True, data_delay=2.0) as server:
        app.config.update(
            SMTP_HOST=server.host, SMTP_PORT=server.port, SMTP_TIMEOUT=1, SMTP_DATA_TIMEOUT=5
        )
        try:
            (message_id,) = queue(make_message())
            assert sending.send_due().sent == [message_id]
            assert fresh(message_id).state == OutboxState.SENT
        finally:
            app.config.update(
                SMTP_TIMEOUT=config.default("SMTP_TIMEOUT"),
                SMTP_DATA_TIMEOUT=config.default("SMTP_DATA_TIMEOUT"),
            )


def test_two_concurrent_senders_send_each_message_once(app, clock, smtp_server):
    """Two sweeps racing over the same rows (threads, each with its own app context and
    session) deliver every message exactly once, on SQLite and on PostgreSQL."""
    count = 40
    queue(*(make_message(n) for n in range(count)))
    barrier = threading.Barrier(2)
    reports: list[sending.SendReport] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with app.app_context():
                barrier.wait()
                reports.append(sending.send_due(limit=count))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = received_ids(smtp_server)
    assert len(ids) == count
    assert len(set(ids)) == count
    assert sum(len(r.sent) for r in reports) == count
    states = db.session.scalars(sa.select(OutboxMessage.state)).all()
    assert set(states) == {OutboxState.SENT}


def test_cancel_pending_cancels_only_waiting_messages_of_the_appointment(app, clock, smtp_server):
    sent, waiting, other = queue(
        make_message(1), make_message(2), make_message(3), appointment_id=7
    )
    sending.send_due()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == waiting)
        .values(state=OutboxState.PENDING)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == other)
        .values(state=OutboxState.PENDING, appointment_id=8)
    )
    assert outbox.cancel_pending(7) == 1
    db.session.commit()
    assert fresh(sent).state == OutboxState.SENT
    assert fresh(waiting).state == OutboxState.CANCELLED
    assert fresh(other).state == OutboxState.PENDING
