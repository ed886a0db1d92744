"""What coordinators must know about the mail: the counts behind the banner on every page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import smtp
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.services import INTERRUPTED_AFTER, interrupted_clause

#: A message still pending this long after it was due is late.
LATE_AFTER = dt.timedelta(minutes=5)


#: Failed messages stay in the banner this long after their last attempt.
FAILED_SHOWN_FOR = dt.timedelta(days=7)


@dataclass(frozen=True)
class MailAttention:
    """Counts behind the coordinators' banner, each with its plain-language reason."""

    not_configured: int = 0
    failed: int = 0
    late: int = 0
    interrupted: int = 0

    @property
    def any(self) -> bool:
        return bool(self.not_configured or self.failed or self.late or self.interrupted)

    def reasons(self) -> list[str]:
        def messages(count: int) -> str:
            return f"{count} message{'s' if count != 1 else ''}"

        def they(count: int, singular: str, plural: str) -> str:
            return singular if count == 1 else plural

        reasons = []
        if self.not_configured:
            count = self.not_configured
            reasons.append(
                f"{messages(count)} not sent: no mail server is configured (set SMTP_HOST; "
                f"see the README). {they(count, 'It is', 'They are')} kept in the outbox, "
                "readable in full."
            )
        if self.interrupted:
            count = self.interrupted
            reasons.append(
                f"{messages(count)} interrupted while being sent: "
                f"{they(count, 'it', 'they')} may or may not have arrived. Check, then send "
                "again if needed."
            )
        if self.failed:
            count = self.failed
            reasons.append(
                f"{messages(count)} could not be sent: the mail server refused "
                f"{they(count, 'it', 'them')} or stopped answering too many times."
            )
        if self.late:
            count = self.late
            reasons.append(
                f"{messages(count)} waiting longer than {they(count, 'it', 'they')} should: "
                "the mail server cannot be reached, or no scheduler is running to send them."
            )
        return reasons


def mail_attention(study_ids: list[int] | None, now: dt.datetime | None = None) -> MailAttention:
    """One query: the messages of these studies (and of no study) that failed lately, are
    late, are interrupted, or wait for a mail server; `None` means every study."""
    now = now or now_utc()
    statement = _attention_statement(db.session.get_bind().dialect.name, study_ids is None)
    parameters: dict[str, object] = {
        "now": now,
        "late_before": now - LATE_AFTER,
        "failed_since": now - FAILED_SHOWN_FOR,
        "interrupted_before": now - INTERRUPTED_AFTER,
    }
    if study_ids is not None:
        parameters["study_ids"] = list(study_ids)
    values = db.session.execute(statement, parameters).one()
    return MailAttention(*(int(value) for value in values))


@lru_cache(maxsize=8)
def _attention_statement(dialect: str, every_study: bool) -> Select:
    """The banner's statement, built once per process (it runs on every coordinator's page,
    and building it cost more than running it); times and studies are bound per call."""
    moment = OutboxMessage.__table__.c.due_at.type

    def at(name: str) -> BindParameter:
        return bindparam(name, type_=moment)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    pending = OutboxMessage.state == OutboxState.PENDING
    not_configured = and_(
        pending, OutboxMessage.due_at <= at("now"), OutboxMessage.last_error == smtp.NOT_CONFIGURED
    )
    late = and_(
        pending,
        OutboxMessage.due_at < at("late_before"),
        OutboxMessage.last_error != smtp.NOT_CONFIGURED,
    )
    failed = and_(
        OutboxMessage.state == OutboxState.FAILED,
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at > at("failed_since")),
    )
    interrupted = interrupted_clause(claimed_before=at("interrupted_before"))
    unsent: ColumnElement[bool] = OutboxMessage.state.in_(
        [OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED]
    )
    if dialect == "sqlite":
        # SQLite's statistics know only the average rows per state (half the table when most
        # messages are sent), so it read the whole outbox for these three states, on every
        # coordinator's page (8 ms at 50,000 messages); `unlikely` sends it to their index.
        unsent = func.unlikely(unsent)
    statement = select(count(not_configured), count(failed), count(late), count(interrupted))
    statement = statement.where(unsent)
    if not every_study:
        statement = statement.where(
            or_(
                OutboxMessage.study_id.in_(bindparam("study_ids", expanding=True)),
                OutboxMessage.study_id.is_(None),
            )
        )
    return statement
