"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class AuditEvent(Model):
    """One change to a record that matters for the study's integrity (status, consent, erasure).

    Events are written in the same transaction as the change they describe, so a change that
    rolls back leaves no event behind.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_study_created", "study_id", "created_at"),
        Index("ix_audit_event_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user who made the change; None for the participant themselves (online consent) or
    #: the system, and after the user is deleted.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    study_id: Mapped[int | None] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"))
    #: The participant the change is about, so their page can show their history.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: What kind of record changed ("participant", "consent", "consent_form_version", ...).
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    #: A dotted name such as "participant.status_changed" or "consent.withdrawn".
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: The changed values before and after, as JSON objects; never secrets.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    actor = relationship("User", lazy="raise")
    participant = relationship("Participant", lazy="raise")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.subject_type}:{self.subject_id}>"
