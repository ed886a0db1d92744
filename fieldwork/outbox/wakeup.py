"""Waking the sender when a transaction commits messages to the outbox.

No web request talks SMTP: a request only commits its messages. Right after a commit that
added a message (or put one back to be sent), `fieldwork.outbox.signals.messages_ready` is
sent; the in-process scheduler of the development server receives it and runs its sweep at once.
A scheduler in a process of its own is not reachable from here and finds the messages on its
next sweep, a few seconds later (SCHEDULER_SWEEP_SECONDS).
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from fieldwork.outbox.signals import messages_ready

log = logging.getLogger(__name__)

_FLAG = "fieldwork.outbox.ready"


def _notify(session: Session) -> None:
    """Send `messages_ready`; a failing receiver is only logged (waking is a courtesy: the
    periodic sweep sends anyway)."""
    for receiver in messages_ready.receivers_for(session):
        try:
            receiver(session)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("outbox: a messages_ready receiver failed")


def mark_ready(session: Session) -> None:
    """Wake the sender after this session's next commit (for rows inserted in bulk, which
    the flush hook below does not see)."""
    session.info[_FLAG] = True


def _is_ready(instance: object) -> bool:
    from fieldwork.outbox.models import OutboxMessage, OutboxState

    return isinstance(instance, OutboxMessage) and instance.state == OutboxState.PENDING


def _after_flush(session: Session, flush_context) -> None:
    from fieldwork.outbox.models import OutboxMessage

    if any(_is_ready(row) for row in session.new) or any(
        _is_ready(row) and row.attempts == 0  # a retry resets the attempts
        for row in session.dirty
        if isinstance(row, OutboxMessage)
    ):
        session.info[_FLAG] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        _notify(session)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_FLAG, None)


def install() -> None:
    """Listen on every SQLAlchemy session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
