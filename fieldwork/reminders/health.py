"""The scheduler's health: its heartbeat row, and what /healthz says about it and about
messages that are overdue or interrupted."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import delete, func, select

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders.models import (
    Reminder,
    ReminderState,
    SchedulerHeartbeat,
)

#: A message or reminder this late counts as overdue on /healthz.
OVERDUE_AFTER = dt.timedelta(minutes=5)
HEARTBEAT_ID = 1


def beat(holder: str, host: str, pid: int, started_at: dt.datetime) -> None:
    """Record the running scheduler's heartbeat (commits)."""
    now = now_utc()
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID, populate_existing=True)
    if row is None:
        row = SchedulerHeartbeat(id=HEARTBEAT_ID)
        db.session.add(row)
    row.holder, row.host, row.pid = holder, host[:255], pid
    row.beat_at, row.started_at = now, started_at
    try:
        db.session.commit()
    except Exception:
        # Two first beats at once (a second scheduler that just took over): the other won.
        db.session.rollback()
        raise


def clear_heartbeat(holder: str) -> None:
    """A scheduler that stops cleanly removes its heartbeat: /healthz says "down" at once."""
    db.session.execute(
        delete(SchedulerHeartbeat).where(
            SchedulerHeartbeat.id == HEARTBEAT_ID, SchedulerHeartbeat.holder == holder
        )
    )
    db.session.commit()


def heartbeat_alive_seconds() -> float:
    """A heartbeat older than this means the scheduler stopped (it beats twice as often)."""
    return float(current_app.config["SCHEDULER_HEARTBEAT_SECONDS"])


def scheduler_health() -> dict:
    """For /healthz: the last heartbeat, whether a scheduler is alive, and how many messages
    are overdue. Two queries."""
    now = now_utc()
    row = db.session.execute(
        select(
            SchedulerHeartbeat.holder,
            SchedulerHeartbeat.host,
            SchedulerHeartbeat.pid,
            SchedulerHeartbeat.beat_at,
            SchedulerHeartbeat.started_at,
        ).where(SchedulerHeartbeat.id == HEARTBEAT_ID)
    ).one_or_none()
    limit = now - OVERDUE_AFTER
    outbox_overdue = (
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at < limit)
        .scalar_subquery()
    )
    reminders_overdue = (
        select(func.count(Reminder.id))
        .where(
            Reminder.state == ReminderState.PENDING,
            Reminder.outbox_message_id.is_(None),
            Reminder.due_at < limit,
        )
        .scalar_subquery()
    )
    interrupted = (
        select(func.count(OutboxMessage.id)).where(outbox.interrupted_clause(now)).scalar_subquery()
    )
    overdue_messages, overdue_reminders, interrupted_messages = db.session.execute(
        select(outbox_overdue, reminders_overdue, interrupted)
    ).one()
    seconds = (now - row.beat_at).total_seconds() if row else None
    alive = seconds is not None and seconds <= heartbeat_alive_seconds()
    problems = []
    if not alive:
        problems.append("not running (no heartbeat)")
    if interrupted_messages:
        problems.append(
            f"{interrupted_messages} message(s) interrupted mid-send need attention "
            "(they may or may not have arrived)"
        )
    if overdue_messages or overdue_reminders:
        problems.append(f"{overdue_messages + overdue_reminders} message(s) overdue")
    return {
        "last_heartbeat": row.beat_at.isoformat() if row else None,
        "seconds_since_heartbeat": round(seconds, 1) if seconds is not None else None,
        "holder": f"{row.host}:{row.pid}" if row else None,
        "started_at": row.started_at.isoformat() if row else None,
        "alive": alive,
        "overdue_messages": int(overdue_messages) + int(overdue_reminders),
        "overdue_outbox_messages": int(overdue_messages),
        "overdue_reminders": int(overdue_reminders),
        "interrupted_messages": int(interrupted_messages),
        "problems": problems,
    }
