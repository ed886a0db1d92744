"""A study's own text for one kind of message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class MessageTemplate(Model):
    """A study's subject and body for one kind of message; without a row the default is used."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("study_id", "kind", name="uq_message_template_study_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: A key of fieldwork.messaging.kinds.KINDS, e.g. "booking_link".
    kind: Mapped[str] = mapped_column(String(40))
    #: Jinja source of the subject line (rendered in the sandbox, one line).
    subject: Mapped[str] = mapped_column(Text)
    #: Jinja source of the text body, written as plain text.
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
