"""The outbox's public service: every domain queues mail here, in its own transaction.

`enqueue` (one message) and `enqueue_many` (a batch, one INSERT) record messages whole before
any attempt to send them; only the scheduler sends them (fieldwork.outbox.sending, exactly once).
A web request commits its messages and the commit wakes the sender (see wakeup.py). Without a
configured mail server (SMTP_HOST empty, the default) messages stay pending, marked "not sent:
no mail server configured". Here too: the coordinator's retry, and what an interrupted send is.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, make_msgid

from sqlalchemy import and_, or_, select, update

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import smtp
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState

#: A claim older than this without a result means the sender died mid-send. Longer than the
#: longest legitimate send (connection, commands and the DATA answer at their timeouts).
INTERRUPTED_AFTER = dt.timedelta(minutes=4)


class OutboxError(Exception):
    """A request the outbox cannot carry out (e.g. retrying a message already sent)."""


def message_addresses(message: EmailMessage, *names: str) -> list[tuple[str, str]]:
    """(name, address) of every mailbox in these headers, empty addresses left out."""
    fields = [str(value) for name in names for value in message.get_all(name, [])]
    return [(name, address) for name, address in getaddresses(fields) if address]


def enqueue(
    message: EmailMessage,
    *,
    kind: str,
    study_id: int | None,
    appointment_id: int | None = None,
    due_at: dt.datetime | None = None,
) -> OutboxMessage:
    """Record a message to be sent, in the caller's transaction (no commit here), so a
    booking and its messages are saved together or not at all."""
    kind = OutboxKind(kind)
    if message.get_all("Bcc"):
        raise ValueError("the outbox sends to To and Cc only; a Bcc header is refused")
    recipients = [address for _, address in message_addresses(message, "To", "Cc")]
    if not recipients:
        raise ValueError("a message needs at least one To or Cc address")
    senders = message_addresses(message, "From")
    if len(senders) != 1:
        raise ValueError("a message needs exactly one From address")
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=senders[0][1].rpartition("@")[2] or None)
    when = due_at or now_utc()
    row = OutboxMessage(
        study_id=study_id,
        appointment_id=appointment_id,
        kind=kind,
        subject=str(message["Subject"] or "")[:998],
        sender=senders[0][1],
        recipients=",".join(recipients),
        message_id=str(message["Message-ID"]),
        raw=message.as_bytes(policy=SMTP),
        state=OutboxState.PENDING,
        attempts=0,
        last_error="",
        due_at=when,
        next_attempt_at=when,
    )
    db.session.add(row)
    db.session.flush()
    return row


def retry(message_id: int) -> None:
    """A coordinator's resend of a failed (or interrupted) message: pending and due now,
    with a fresh series of attempts (the last error stays until the next attempt)."""
    # Senders work in sessions of their own: read the row as it is now, not as cached.
    row = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None:
        raise OutboxError("There is no such message.")
    if not is_retryable(row):
        raise OutboxError(f"A message that is {row.state.value} cannot be retried.")
    now = now_utc()
    row.state = OutboxState.PENDING
    row.next_attempt_at = now
    row.claimed_at = None
    row.attempts = 0
    db.session.commit()


def is_interrupted(row: OutboxMessage, now: dt.datetime | None = None) -> bool:
    """Claimed long ago and never confirmed: the sender died, and the message may or may
    not have left. A person decides whether to resend it."""
    now = now or now_utc()
    if row.state != OutboxState.SENDING:
        return False
    if row.last_error:  # the server took it and never answered
        return True
    return row.claimed_at is not None and row.claimed_at < now - INTERRUPTED_AFTER


def interrupted_clause(now: dt.datetime | None = None):
    """SQL for `is_interrupted`, for counts and filters."""
    now = now or now_utc()
    return and_(
        OutboxMessage.state == OutboxState.SENDING,
        or_(OutboxMessage.last_error != "", OutboxMessage.claimed_at < now - INTERRUPTED_AFTER),
    )


def is_retryable(row: OutboxMessage) -> bool:
    return row.state == OutboxState.FAILED or is_interrupted(row)


def cancel_pending(appointment_id: int, kinds: tuple[str, ...] = ("reminder",)) -> int:
    """Cancel the messages of these kinds still waiting for an appointment (no commit)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.kind.in_([OutboxKind(kind) for kind in kinds]),
        )
        .values(state=OutboxState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def cancel_study_pending(study_id: int, reason: str) -> int:
    """Cancel every message of a study still waiting, saying why (the demo's invitations go
    to made-up addresses and are never sent). No commit."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.study_id == study_id, OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def describe_queued(appointment_id: int, since: dt.datetime) -> str:
    """What became of the messages an action just queued for an appointment, in a sentence
    for the person who did it: queued for sending, or kept because no server is configured."""
    rows = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.created_at >= since,
            OutboxMessage.kind != OutboxKind.REMINDER,
        )
    ).all()
    addresses = sorted({address for row in rows for address in row.recipient_list})
    if not rows:
        return "No messages were written."
    noun = "message" if len(rows) == 1 else "messages"
    to = ", ".join(addresses)
    if not smtp.is_configured():
        return (
            f"{len(rows)} {noun} to {to} kept in the outbox, not sent: no mail server is "
            "configured."
        )
    return (
        f"{len(rows)} {noun} to {to} queued for sending; the outbox shows when "
        f"{'it has' if len(rows) == 1 else 'they have'} gone."
    )
