"""The outbox: every message the tool sends, recorded before it is sent."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class OutboxState(enum.StrEnum):
    """Where a message is on its way out."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OutboxKind(enum.StrEnum):
    """What a message is for, so the outbox page can filter by it."""

    INVITE = "invite"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"
    DIGEST = "digest"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OutboxMessage(Model):
    """One email, stored whole before any attempt to send it; the row is the truth."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The sweep reads only pending rows that are due; a partial index keeps it small.
        Index(
            "ix_outbox_message_pending_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        # The outbox page lists newest first (created_at, id descending) a page at a time.
        Index("ix_outbox_message_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), index=True
    )
    #: The appointment the message is about, if any (a foreign key once appointments exist).
    appointment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[OutboxKind] = mapped_column(string_enum(OutboxKind, 20))
    subject: Mapped[str] = mapped_column(String(998))
    #: The From address as written in the message.
    sender: Mapped[str] = mapped_column(String(320))
    #: Envelope recipients (the To and Cc addresses), comma-separated.
    recipients: Mapped[str] = mapped_column(Text)
    #: The Message-ID header; unique, so a message can never be queued twice.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: The full MIME message as it goes over SMTP.
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    #: Whether the message holds a private link or token, to be removed from `raw` once it
    #: has gone (found when queued, so sending parses only the messages that have one).
    has_secrets: Mapped[bool] = mapped_column(default=True, server_default=true())
    state: Mapped[OutboxState] = mapped_column(
        string_enum(OutboxState, 20), default=OutboxState.PENDING, index=True
    )
    #: How many times a sender has claimed the message (a claim is an attempt).
    attempts: Mapped[int] = mapped_column(default=0)
    #: Why the last attempt failed, as the SMTP library or server said it.
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: When the message should first go out (a reminder's time; now for an invite).
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When the sweep may next try it: due_at at first, later pushed back by the retry backoff.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When a sender last claimed it; a row left 'sending' long after this was interrupted.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the SMTP server accepted it.
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    @property
    def recipient_list(self) -> list[str]:
        return [address for address in self.recipients.split(",") if address]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.state}>"
