"""Reminders: one row per planned message (the truth), each study's settings, and the
scheduler's heartbeat."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model

#: Default offsets: two days and two hours before the interview, in minutes.
DEFAULT_OFFSETS = (2880, 120)


class ReminderRecipient(enum.StrEnum):
    """Who a reminder goes to."""

    INTERVIEWER = "interviewer"
    PARTICIPANT = "participant"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ReminderState(enum.StrEnum):
    """Where a reminder stands. Pending until the SMTP server accepted its message (it may
    already sit in the outbox); missed when its time passed while no scheduler ran and the
    interview has since started."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Reminder(Model):
    """One planned reminder for one appointment and one recipient."""

    __tablename__ = "reminder"
    __table_args__ = (
        # The sweep reads only pending rows by due time; a partial index keeps it small
        # however many reminders have been sent.
        Index(
            "ix_reminder_pending_due",
            "due_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[ReminderRecipient] = mapped_column(string_enum(ReminderRecipient, 20))
    #: Minutes before the interview's start it was planned for (from the study's settings).
    offset_minutes: Mapped[int]
    #: When it should go out: the interview's start minus the offset.
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[ReminderState] = mapped_column(
        string_enum(ReminderState, 20), default=ReminderState.PENDING
    )
    #: How many times a sweep claimed it (a claim turns it into an outbox message).
    attempts: Mapped[int] = mapped_column(default=0)
    #: Why it failed or was missed, for the coordinator.
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: The outbox message that carries it; set in the same transaction as the claim, so a
    #: reminder is handed to the outbox at most once.
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL"), unique=True
    )
    #: The Message-ID header, fixed when the reminder is planned, so a resend carries the same
    #: one and receiving servers can drop a duplicate.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: The email written when the reminder was planned (fieldwork.reminders.messages), so the
    #: sweep only queues it; used only while what it was written from is unchanged, and
    #: cleared once queued or when the participant is erased.
    prepared_email: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When the state last changed to sent, failed, cancelled or missed.
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    appointment = relationship("Appointment", lazy="raise")
    outbox_message = relationship("OutboxMessage", lazy="raise")

    def __repr__(self) -> str:
        return f"<Reminder {self.id} {self.recipient} {self.state} {self.due_at:%Y-%m-%d %H:%M}>"


class ReminderSettings(Model):
    """A study's reminder rules and texts; a study without a row uses the defaults."""

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), unique=True)
    #: Minutes before the interview each reminder goes out, e.g. [2880, 120].
    offsets: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(DEFAULT_OFFSETS))
    is_for_interviewer: Mapped[bool] = mapped_column(default=True)
    is_for_participant: Mapped[bool] = mapped_column(default=True)
    #: Jinja templates (rendered in a sandbox) of each recipient's subject and text body.
    interviewer_subject: Mapped[str] = mapped_column(Text)
    interviewer_body: Mapped[str] = mapped_column(Text)
    participant_subject: Mapped[str] = mapped_column(Text)
    participant_body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def subject_template(self, recipient: ReminderRecipient) -> str:
        return getattr(self, f"{recipient.value}_subject")

    def body_template(self, recipient: ReminderRecipient) -> str:
        return getattr(self, f"{recipient.value}_body")

    def is_for(self, recipient: ReminderRecipient) -> bool:
        return getattr(self, f"is_for_{recipient.value}")


class SchedulerHeartbeat(Model):
    """The running scheduler's last sign of life: one row (id 1), overwritten every beat."""

    __tablename__ = "scheduler_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A random id of the scheduler process holding the lock.
    holder: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: When that scheduler took the lock.
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
