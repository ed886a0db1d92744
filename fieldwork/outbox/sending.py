"""Sending the outbox, each message exactly once.

Exactly-once comes from the database. A sender claims rows with a conditional UPDATE
(pending → sending, only if still pending) and commits that claim before it talks SMTP; only
the sender whose UPDATE changed a row sends it. The row becomes 'sent' after the server
accepted the message; a failed attempt puts it back to 'pending' with a later next_attempt_at
(1, 2, 4 ... minutes, at most an hour), or 'failed' after OUTBOX_MAX_ATTEMPTS. A row left in
'sending' (the process died between claim and confirmation, or the server took the message and
never answered) is never resent blindly: it shows as interrupted on the outbox page, in the
coordinators' banner and on /healthz, where a coordinator can send it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import smtp
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.redaction import redact_links

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


def _due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    statement = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    # No row locks: the conditional UPDATE in _claim decides who sends, on every database.
    return list(session.scalars(statement))


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    """pending → sending for this sender only; True if this sender won the row."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.PENDING)
        .values(
            state=OutboxState.SENDING,
            claimed_at=now,
            attempts=OutboxMessage.attempts + 1,
            last_error="",
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def send_due(
    limit: int = 100, now: dt.datetime | None = None, stop: threading.Event | None = None
) -> SendReport:
    """Send the pending messages that are due, each once, committing after each message
    (right after the server's answer), and stopping between two messages once `stop` is set.

    Runs in a session of its own, so it never commits anything the caller left pending.
    """
    now = now or now_utc()
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    report = SendReport()
    if not smtp.is_configured():
        _mark_not_configured(now)
        return report
    connection: smtplib.SMTP | None = None
    with Session(db.engine, expire_on_commit=False) as session:
        candidates = _due_ids(session, now, limit)
        session.commit()  # ends the read transaction before any claim
        try:
            for message_id in candidates:
                if stop is not None and stop.is_set():
                    break
                if not _claim(session, message_id, now):
                    report.skipped.append(message_id)
                    continue
                row = session.get(OutboxMessage, message_id, populate_existing=True)
                try:
                    if connection is None:
                        connection = smtp.open_connection()
                    refused = smtp.send_raw(connection, row.sender, row.recipient_list, row.raw)
                except smtp.PermanentSendError as error:
                    row.state = OutboxState.FAILED
                    row.last_error = str(error)[:2000]
                    redact_links(row)
                    report.failed.append(message_id)
                except smtp.UnconfirmedSendError as error:
                    # It may have arrived: stay 'sending' (interrupted, shown at once), and
                    # drop the connection, whose state is unknown.
                    _close(connection)
                    connection = None
                    row.last_error = str(error)[:2000]
                    report.interrupted.append(message_id)
                except (OSError, smtplib.SMTPException) as error:
                    if connection is not None:
                        _close(connection)
                        connection = None
                    row.last_error = f"{type(error).__name__}: {error}"[:2000]
                    if row.attempts >= max_attempts:
                        row.state = OutboxState.FAILED
                        redact_links(row)
                        report.failed.append(message_id)
                    else:
                        row.state = OutboxState.PENDING
                        row.next_attempt_at = now + backoff(row.attempts)
                        report.deferred.append(message_id)
                else:
                    row.state = OutboxState.SENT
                    row.sent_at = now_utc()
                    # The stored copy keeps no working link (no usable secret at rest).
                    redact_links(row)
                    row.last_error = f"refused by the server: {refused}" if refused else ""
                    report.sent.append(message_id)
                session.commit()
        finally:
            if connection is not None:
                _close(connection, polite=True)
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
