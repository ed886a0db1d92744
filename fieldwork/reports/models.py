"""The funder's weekly report: who gets it, and each finished week's figures, kept as made."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class ReportSetting(Model):
    """Who receives a study's weekly report by email."""

    __tablename__ = "report_setting"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), primary_key=True
    )
    #: Email addresses, one a line.
    recipients: Mapped[str] = mapped_column(Text, default="")
    #: Send the report every week (after each week ends) to the recipients.
    is_weekly_email: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in (self.recipients or "").splitlines() if line.strip()]


class WeeklyReport(Model):
    """A finished week's report, frozen the first time it is made after the week ends, so the
    same week always shows the same figures (the page, the PDF and the email alike)."""

    __tablename__ = "weekly_report"
    __table_args__ = (UniqueConstraint("study_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: The ISO week, e.g. "2026-W48".
    week: Mapped[str] = mapped_column(String(8))
    #: When the figures were made (stated on the report).
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Every figure of the report (counts, references and definitions; no personal data).
    content: Mapped[dict] = mapped_column(JSON)
