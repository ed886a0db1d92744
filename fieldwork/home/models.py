"""When each user last opened the home page of each study, for "what changed since"."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class HomeVisit(Model):
    """One user's visits to one study's home page: the current visit and the one before it.

    A visit starts when the home page is opened after `VISIT_GAP` without opening it; reloads
    within a visit keep the previous visit's time, so "changed since your last visit" does not
    empty itself on every reload.
    """

    __tablename__ = "home_visit"
    __table_args__ = (UniqueConstraint("user_id", "study_id", name="uq_home_visit_user_study"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: When the current visit started.
    visit_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When the visit before it started (a week before the first visit, on the first).
    previous_visit_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
