"""Sending the outbox, each message exactly once, in batches.

Exactly-once comes from the database. A sender claims a batch of due rows with one conditional
UPDATE (pending → sending, only where still pending; on PostgreSQL the candidates are read
`FOR UPDATE SKIP LOCKED`, so two senders take different rows instead of queueing behind each
other) and commits that claim before it talks SMTP; only the sender whose UPDATE changed a row
sends it. It then sends the batch over one SMTP connection and confirms the outcomes together
(at least every CONFIRM_EVERY_SECONDS): 'sent' once the server accepted a message; a failed
attempt back to 'pending' with a later next_attempt_at (1, 2, 4 ... minutes, at most an hour),
or 'failed' after OUTBOX_MAX_ATTEMPTS. Claimed rows not yet tried when the sender is told to
stop, or after HOLD_CLAIM_FOR, are handed back as they were. A row left in 'sending' (the
process died between claim and confirmation, or the server took the message and never
answered) is never resent blindly: it shows as interrupted on the outbox page, in the
coordinators' banner and on /healthz, where a coordinator can send it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import smtp
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.redaction import redacted

log = logging.getLogger(__name__)


MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass
class SendReport:
    """What one sweep did."""

    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: Rows another sender claimed first.
    skipped: list[int] = field(default_factory=list)
    #: Rows the server took but never confirmed (left 'sending', shown as interrupted).
    interrupted: list[int] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most 1 h."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


#: Claimed rows wait at most this long for their turn before the rest of a batch is handed
#: back (far inside INTERRUPTED_AFTER, so a row waiting its turn never looks interrupted).
HOLD_CLAIM_FOR_SECONDS = 30.0
#: Outcomes within a batch are committed at least this often.
CONFIRM_EVERY_SECONDS = 1.0


@dataclass
class _Claimed:
    """A claimed row, as much of it as sending needs, and the outcome to confirm. Plain data,
    not an ORM object: a batch is read by its claim and confirmed in one statement or two."""

    id: int
    sender: str
    recipients: list[str]
    raw: bytes
    has_secrets: bool
    attempts: int
    next_attempt_at: dt.datetime
    state: OutboxState = OutboxState.SENDING
    last_error: str = ""
    sent_at: dt.datetime | None = None
    #: The stored copy with its private links removed, once it has gone (None: unchanged).
    redacted_raw: bytes | None = None


_TABLE = OutboxMessage.__table__
#: One claimed row's outcome, run for a whole batch at once (executemany).
_CONFIRM = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        state=bindparam("new_state", type_=_TABLE.c.state.type),
        last_error=bindparam("error", type_=_TABLE.c.last_error.type),
        next_attempt_at=bindparam("retry_at", type_=_TABLE.c.next_attempt_at.type),
        sent_at=bindparam("accepted_at", type_=_TABLE.c.sent_at.type),
    )
)
#: The stored copy without its links, only if nobody rewrote it meanwhile (an erasure's
#: scrubbed copy is never overwritten by the copy read at the claim).
_REDACT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"), _TABLE.c.raw == bindparam("read_raw"))
    .values(raw=bindparam("new_raw", type_=_TABLE.c.raw.type))
)


def _claim_due(session: Session, now: dt.datetime, limit: int) -> tuple[list[_Claimed], list[int]]:
    """Claim up to `limit` due rows for this sender (committed); returns the rows won, oldest
    first, and the ids another sender took between the read and the claim."""
    candidates = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    if not ids:
        session.commit()
        return [], []
    # The claim and the read are one statement: RETURNING hands back what sending needs.
    won = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_(ids), _TABLE.c.state == OutboxState.PENDING)
        .values(
            state=OutboxState.SENDING,
            claimed_at=now,
            attempts=_TABLE.c.attempts + 1,
            last_error="",
        )
        .returning(
            _TABLE.c.id,
            _TABLE.c.sender,
            _TABLE.c.recipients,
            _TABLE.c.raw,
            _TABLE.c.has_secrets,
            _TABLE.c.attempts,
            _TABLE.c.next_attempt_at,
        )
    ).all()
    session.commit()  # nothing stays open while the server is talked to
    rows = [
        _Claimed(
            id=row.id,
            sender=row.sender,
            recipients=[address for address in row.recipients.split(",") if address],
            raw=row.raw,
            has_secrets=row.has_secrets,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
        )
        for row in won
    ]
    rows.sort(key=lambda row: (row.next_attempt_at, row.id))
    taken = {row.id for row in rows}
    return rows, [message_id for message_id in ids if message_id not in taken]


def _release(session: Session, rows: list[_Claimed]) -> None:
    """Hand claimed rows not yet tried back to the queue, as they were before the claim."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([row.id for row in rows]),
            OutboxMessage.state == OutboxState.SENDING,
        )
        .values(state=OutboxState.PENDING, claimed_at=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def _confirm(session: Session, rows: list[_Claimed]) -> None:
    """Write the outcomes of these tried rows (no commit): one statement for all of them, one
    more for the stored copies whose links were removed."""
    if not rows:
        return
    connection = session.connection()
    connection.execute(
        _CONFIRM,
        [
            {
                "row_id": row.id,
                "new_state": row.state,
                "error": row.last_error,
                "retry_at": row.next_attempt_at,
                "accepted_at": row.sent_at,
            }
            for row in rows
        ],
    )
    redacted = [
        {"row_id": row.id, "read_raw": row.raw, "new_raw": row.redacted_raw}
        for row in rows
        if row.redacted_raw is not None
    ]
    if redacted:
        connection.execute(_REDACT, redacted)


class _Connection:
    """The sweep's one SMTP connection: opened when first needed, dropped after an error whose
    state it cannot know, closed politely at the end."""

    def __init__(self) -> None:
        self._connection: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self._connection is None:
            self._connection = smtp.open_connection()
        return self._connection

    def drop(self, polite: bool = False) -> None:
        if self._connection is not None:
            _close(self._connection, polite)
            self._connection = None


def _redact(row: _Claimed) -> None:
    """The stored copy of a message that has gone (or failed for good) keeps no working link."""
    if row.has_secrets:
        row.redacted_raw = redacted(row.raw)


def _attempt(
    mail: _Connection, row: _Claimed, now: dt.datetime, max_attempts: int, report: SendReport
) -> None:
    """Send one claimed row and record the outcome on it (confirmed by the caller)."""
    try:
        refused = smtp.send_raw(mail.get(), row.sender, row.recipients, row.raw)
    except smtp.PermanentSendError as error:
        row.state = OutboxState.FAILED
        row.last_error = str(error)[:2000]
        _redact(row)
        report.failed.append(row.id)
    except smtp.UnconfirmedSendError as error:
        # It may have arrived: stay 'sending' (interrupted, shown at once), and drop the
        # connection, whose state is unknown.
        mail.drop()
        row.last_error = str(error)[:2000]
        report.interrupted.append(row.id)
    except (OSError, smtplib.SMTPException) as error:
        mail.drop()
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        if row.attempts >= max_attempts:
            row.state = OutboxState.FAILED
            _redact(row)
            report.failed.append(row.id)
        else:
            row.state = OutboxState.PENDING
            row.next_attempt_at = now + backoff(row.attempts)
            report.deferred.append(row.id)
    else:
        row.state = OutboxState.SENT
        row.sent_at = now_utc()
        _redact(row)
        row.last_error = f"refused by the server: {refused}" if refused else ""
        report.sent.append(row.id)


def send_due(
    limit: int = 100, now: dt.datetime | None = None, stop: threading.Event | None = None
) -> SendReport:
    """Claim up to `limit` due messages, send each once over one connection, and confirm the
    outcomes in batches; once `stop` is set, the rows not yet tried go back to the queue.

    Runs in a session of its own, so it never commits anything the caller left pending.
    """
    now = now or now_utc()
    report = SendReport()
    if not smtp.is_configured():
        _mark_not_configured(now)
        return report
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    mail = _Connection()
    with Session(db.engine, expire_on_commit=False) as session:
        try:
            rows, report.skipped = _claim_due(session, now, limit)
            claimed_at = confirmed_at = time.monotonic()
            tried: list[_Claimed] = []
            for index, row in enumerate(rows):
                if (stop is not None and stop.is_set()) or (
                    time.monotonic() - claimed_at > HOLD_CLAIM_FOR_SECONDS
                ):
                    _release(session, rows[index:])
                    break
                _attempt(mail, row, now, max_attempts, report)
                tried.append(row)
                if time.monotonic() - confirmed_at >= CONFIRM_EVERY_SECONDS:
                    _confirm(session, tried)
                    session.commit()
                    tried, confirmed_at = [], time.monotonic()
            _confirm(session, tried)
            session.commit()
        finally:
            mail.drop(polite=True)
    return report


def _mark_not_configured(now: dt.datetime) -> None:
    """Say on every due message why it waits; they go out once SMTP_HOST is set."""
    with Session(db.engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.last_error != smtp.NOT_CONFIGURED,
            )
            .values(last_error=smtp.NOT_CONFIGURED)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _close(connection: smtplib.SMTP, polite: bool = False) -> None:
    try:
        if polite:
            connection.quit()
        else:
            connection.close()
    except (OSError, smtplib.SMTPException):
        connection.close()
