"""The outbox's public service: every domain queues mail here, in its own transaction.

`enqueue` (one message) and `enqueue_many` (a batch, one INSERT) record messages whole before
any attempt to send them; only the scheduler sends them (fieldwork.outbox.sending, exactly once).
A web request commits its messages and the commit wakes the sender (see wakeup.py). Without a
configured mail server (SMTP_HOST empty, the default) messages stay pending, marked "not sent:
no mail server configured". Here too: the coordinator's retry, and what an interrupted send is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from sqlalchemy import CursorResult, and_, insert, or_, select, update

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import smtp, wakeup
from fieldwork.outbox.composing import PreparedMessage, prepare
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState

#: A claim older than this without a result means the sender died mid-send. Longer than the
#: longest legitimate send (connection, commands and the DATA answer at their timeouts).
INTERRUPTED_AFTER = dt.timedelta(minutes=4)


class OutboxError(Exception):
    """A request the outbox cannot carry out (e.g. retrying a message already sent)."""


@dataclass(frozen=True)
class Outgoing:
    """One prepared message to queue, and what it belongs to."""

    message: PreparedMessage
    study_id: int | None
    appointment_id: int | None = None


def _row_values(
    outgoing: Outgoing, kind: OutboxKind, when: dt.datetime, now: dt.datetime
) -> dict[str, object]:
    message = outgoing.message
    return {
        "study_id": outgoing.study_id,
        "appointment_id": outgoing.appointment_id,
        "kind": kind,
        "subject": message.subject,
        "sender": message.sender,
        "recipients": ",".join(message.recipients),
        "message_id": message.message_id,
        "raw": message.raw,
        "has_secrets": message.has_secrets,
        "state": OutboxState.PENDING,
        "attempts": 0,
        "last_error": "",
        "due_at": when,
        "next_attempt_at": when,
        "created_at": now,
    }


def enqueue(
    message: EmailMessage,
    *,
    kind: str,
    study_id: int | None,
    appointment_id: int | None = None,
    due_at: dt.datetime | None = None,
) -> OutboxMessage:
    """Record a message to be sent, in the caller's transaction (no commit here), so a
    booking and its messages are saved together or not at all. ValueError for a message
    the outbox cannot send safely (see composing.prepare)."""
    now = now_utc()
    outgoing = Outgoing(prepare(message), study_id, appointment_id)
    row = OutboxMessage(**_row_values(outgoing, OutboxKind(kind), due_at or now, now))
    db.session.add(row)
    db.session.flush()
    return row


#: enqueue_many on PostgreSQL: the batch as one array a column, unnested into one INSERT, the
#: arrays sent in binary (psycopg's `%(name)b`). The generic multi-row INSERT sends 15
#: parameters a row, which psycopg parses out of the statement text again for every batch, and
#: arrays in text form escape every byte of every message: each cost a third of a reminder
#: sweep's queueing.
_INSERT_ON_POSTGRESQL = """
    INSERT INTO outbox_message (
        study_id, appointment_id, kind, subject, sender, recipients, message_id, raw,
        has_secrets, state, attempts, last_error, due_at, next_attempt_at, created_at
    )
    SELECT study_id, appointment_id, %(kind)s, subject, sender, recipients, message_id, raw,
        has_secrets, %(state)s, 0, '', %(due_at)s, %(due_at)s, %(created_at)s
    FROM unnest(
        CAST(%(study_ids)b AS integer[]), CAST(%(appointment_ids)b AS integer[]),
        CAST(%(subjects)b AS text[]), CAST(%(senders)b AS text[]),
        CAST(%(recipient_lists)b AS text[]), CAST(%(message_ids)b AS text[]),
        CAST(%(raws)b AS bytea[]), CAST(%(secrets)b AS boolean[])
    ) AS given (study_id, appointment_id, subject, sender, recipients, message_id, raw, has_secrets)
    RETURNING message_id, id
"""


def _stored_time(moment: dt.datetime) -> dt.datetime:
    """A datetime as UTCDateTime stores it (naive UTC), for statements written for the driver."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def enqueue_many(
    items: Sequence[Outgoing], *, kind: str, due_at: dt.datetime | None = None
) -> list[int]:
    """Record many prepared messages in one INSERT, in the caller's transaction (no commit);
    returns their ids in the order given. For sweeps that queue by the hundred."""
    if not items:
        return []
    now = now_utc()
    kind = OutboxKind(kind)
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        messages = [item.message for item in items]
        inserted: Any = session.connection().exec_driver_sql(
            _INSERT_ON_POSTGRESQL,
            {
                "kind": kind.value,
                "state": OutboxState.PENDING.value,
                "due_at": _stored_time(due_at or now),
                "created_at": _stored_time(now),
                "study_ids": [item.study_id for item in items],
                "appointment_ids": [item.appointment_id for item in items],
                "subjects": [message.subject for message in messages],
                "senders": [message.sender for message in messages],
                "recipient_lists": [",".join(message.recipients) for message in messages],
                "message_ids": [message.message_id for message in messages],
                "raws": [message.raw for message in messages],
                "secrets": [message.has_secrets for message in messages],
            },
        )
    else:
        # Ids are matched back by Message-ID (unique): asking the database to return them in
        # the order given (sort_by_parameter_order) makes SQLAlchemy insert one row per
        # statement on PostgreSQL, as the id column is no sentinel it can sort by.
        inserted = session.execute(
            insert(OutboxMessage).returning(OutboxMessage.message_id, OutboxMessage.id),
            [_row_values(item, kind, due_at or now, now) for item in items],
        )
    ids = {row.message_id: row.id for row in inserted}
    wakeup.mark_ready(session)
    return [ids[item.message.message_id] for item in items]


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


def interrupted_clause(now: dt.datetime | None = None, *, claimed_before=None):
    """SQL for `is_interrupted`, for counts and filters. `claimed_before` (a bound parameter,
    in a statement built once) stands for `now - INTERRUPTED_AFTER`."""
    if claimed_before is None:
        claimed_before = (now or now_utc()) - INTERRUPTED_AFTER
    return and_(
        OutboxMessage.state == OutboxState.SENDING,
        or_(OutboxMessage.last_error != "", OutboxMessage.claimed_at < claimed_before),
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
    return cast(CursorResult[Any], result).rowcount


def cancel_study_pending(study_id: int, reason: str) -> int:
    """Cancel every message of a study still waiting, saying why (the demo's invitations go
    to made-up addresses and are never sent). No commit."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.study_id == study_id, OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


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
