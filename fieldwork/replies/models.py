"""What the organiser's mailbox told us: every message read once, and the answers it carried."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class MailOutcome(enum.StrEnum):
    """What became of one message read from the mailbox."""

    RECORDED = "recorded"
    UNMATCHED = "unmatched"
    MALFORMED = "malformed"

    @property
    def label(self) -> str:
        return {
            "recorded": "Answer recorded",
            "unmatched": "Not matched",
            "malformed": "Could not be read",
        }[self.value]


class ReplyAnswer(enum.StrEnum):
    """A person's answer to an invitation (iTIP PARTSTAT), or a proposed new time (COUNTER)."""

    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    COUNTER = "counter"

    @property
    def label(self) -> str:
        return {
            "accepted": "Accepted",
            "tentative": "Tentative (maybe)",
            "declined": "Declined",
            "counter": "Proposed a new time",
        }[self.value]


class MailboxMessage(Model):
    """One message read from the organiser's mailbox; its key makes reading it exactly once."""

    __tablename__ = "mailbox_message"
    __table_args__ = (Index("ix_mailbox_message_outcome_processed", "outcome", "processed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Message-ID header without its angle brackets, or "sha256:<hex>" of the raw message
    #: when it has none; unique, so a message is handled once however often the job runs.
    message_key: Mapped[str] = mapped_column(String(300), unique=True)
    #: The From address as written (one line, shortened).
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: The Date header, when it could be read.
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    outcome: Mapped[MailOutcome] = mapped_column(string_enum(MailOutcome, 20))
    #: Why it was not recorded, for the coordinator; empty when recorded.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The study of the appointment its UID named, when it named one.
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), index=True
    )
    #: The IMAP folder it belongs in (moved there after this row is committed, and again by a
    #: later run if that move was interrupted); empty when it stays where it arrived.
    folder: Mapped[str] = mapped_column(String(200), default="")


class CalendarReply(Model):
    """One person's answer to an appointment's invitation, read from an iMIP REPLY or COUNTER."""

    __tablename__ = "calendar_reply"
    __table_args__ = (Index("ix_calendar_reply_appointment", "appointment_id", "replied_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"))
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    mailbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailbox_message.id", ondelete="SET NULL"), unique=True
    )
    #: The ATTENDEE's address (lower case) and common name, as the reply gave them.
    attendee_email: Mapped[str] = mapped_column(String(320))
    attendee_name: Mapped[str] = mapped_column(String(200), default="")
    #: True when the attendee is the appointment's participant, False for its interviewer.
    is_participant: Mapped[bool]
    answer: Mapped[ReplyAnswer] = mapped_column(string_enum(ReplyAnswer, 20))
    #: The reply's COMMENT (or Google's X-RESPONSE-COMMENT), one paragraph, shortened.
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The SEQUENCE the reply answers (0 when the reply gave none).
    sequence: Mapped[int] = mapped_column(default=0)
    #: When the person answered (the reply's DTSTAMP, else the mail's Date, else reading time).
    replied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The From address of the mail, and whether it is the attendee's own address (a reply
    #: sent from elsewhere is recorded, and shown with that warning).
    sender_email: Mapped[str] = mapped_column(String(320), default="")
    is_sender_attendee: Mapped[bool] = mapped_column(default=True)
    #: The time a COUNTER proposes.
    proposed_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    proposed_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When a coordinator moved the appointment to the proposed time, and who.
    moved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    appointment = relationship("Appointment", lazy="raise")
    moved_by = relationship("User", lazy="raise")

    @property
    def proposed_minutes(self) -> int | None:
        if self.proposed_starts_at is None or self.proposed_ends_at is None:
            return None
        return int((self.proposed_ends_at - self.proposed_starts_at).total_seconds() // 60)
