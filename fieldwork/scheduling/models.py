"""Interviewers' availability, their published busy times, and interview appointments."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class AppointmentMode(enum.StrEnum):
    """How an interview is held."""

    IN_PERSON = "in_person"
    TELEPHONE = "telephone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "telephone": "Telephone", "video": "Video call"}[
            self.value
        ]


class AppointmentStatus(enum.StrEnum):
    """Where an appointment stands; only booked and held ones occupy time."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED_LATE = "cancelled_late"

    @property
    def label(self) -> str:
        return {
            "booked": "Booked",
            "cancelled": "Cancelled",
            "held": "Held",
            "no_show": "No-show",
            "cancelled_late": "Cancelled late",
        }[self.value]


#: Statuses whose time is taken: a new booking may not overlap them.
OCCUPYING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.HELD)
#: Outcomes an interviewer records after the time.
OUTCOME_STATUSES = (
    AppointmentStatus.HELD,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED_LATE,
)


class ChangeAction(enum.StrEnum):
    """What happened to an appointment, in its history."""

    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"
    OUTCOME = "outcome"

    @property
    def label(self) -> str:
        return self.value.capitalize()


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class AvailabilityWindow(Model):
    """A weekly free window of an interviewer, in local wall-clock time of its zone.

    Weekly rather than one-off: interviewers think "Tuesdays 9 to 5"; a one-off day is a window
    valid from and until the same date.
    """

    __tablename__ = "availability_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewer_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    #: 0 = Monday ... 6 = Sunday (Python's `date.weekday()`).
    weekday: Mapped[int]
    #: Wall-clock start and end in `timezone`; the same local time all year across clock changes.
    starts_time: Mapped[dt.time] = mapped_column(Time)
    ends_time: Mapped[dt.time] = mapped_column(Time)
    #: IANA zone the wall-clock times are read in.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    #: First and last date the window applies (inclusive); empty means open-ended.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    interviewer = relationship("User", lazy="raise")

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.weekday]


class BusyCalendar(Model):
    """An interviewer's published calendar (an .ics URL or an uploaded file) read for busy times.

    No account access: only what the interviewer chose to publish.
    """

    __tablename__ = "busy_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewer_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    #: What the interviewer calls it, e.g. "Work Outlook".
    name: Mapped[str] = mapped_column(String(100))
    #: The published .ics address (http or https); empty for an uploaded file.
    url: Mapped[str] = mapped_column(String(2000), default="")
    #: The text of an uploaded .ics file; empty when fetched from `url`.
    uploaded_content: Mapped[str] = mapped_column(Text, default="")
    last_refreshed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Why the last refresh failed, for the interviewer; empty after a success.
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    interviewer = relationship("User", lazy="raise")
    blocks: Mapped[list[BusyBlock]] = relationship(
        back_populates="busy_calendar", cascade="all, delete-orphan", lazy="raise"
    )


class BusyBlock(Model):
    """One busy interval read from a busy calendar (recurring events expanded)."""

    __tablename__ = "busy_block"
    __table_args__ = (Index("ix_busy_block_calendar_starts", "busy_calendar_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    busy_calendar_id: Mapped[int] = mapped_column(
        ForeignKey("busy_calendar.id", ondelete="CASCADE")
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    busy_calendar: Mapped[BusyCalendar] = relationship(back_populates="blocks", lazy="raise")


class TopicGuide(Model):
    """The topic guide for interviews with one stakeholder role: a link a coordinator attaches."""

    __tablename__ = "topic_guide"

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Where the document lives (http or https); sent as ATTACH in the interviewer's invite.
    url: Mapped[str] = mapped_column(String(2000))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    role = relationship("Role", lazy="raise")


class Appointment(Model):
    """An interview booked between a participant and an interviewer."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_interviewer_busy", "interviewer_id", "busy_from"),
        Index("ix_appointment_participant_starts", "participant_id", "starts_at"),
        Index("ix_appointment_study_starts", "study_id", "starts_at"),
        # The home pages' lists by status in time order (booked today and this week, outcomes
        # owed, missed or cancelled to rebook) read only their status's rows.
        Index("ix_appointment_study_status_starts", "study_id", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: IANA zone the appointment was booked in (the study's); invites and emails use it.
    timezone: Mapped[str] = mapped_column(String(64))
    #: IANA zone the participant reads this appointment's times in; empty means the study's.
    participant_timezone: Mapped[str] = mapped_column(String(64), default="")
    mode: Mapped[AppointmentMode] = mapped_column(string_enum(AppointmentMode, 20))
    #: The place, for an in-person interview (or a dial-in note for a telephone one).
    location: Mapped[str] = mapped_column(Text, default="")
    video_link: Mapped[str] = mapped_column(String(2000), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    #: Minutes the interviewer travels there and back (in person only); they block the interviewer.
    travel_minutes_before: Mapped[int] = mapped_column(default=0)
    travel_minutes_after: Mapped[int] = mapped_column(default=0)
    #: The interviewer's occupied span: start minus travel before, end plus travel after.
    #: Kept in columns so the clash check is one indexed overlap query on both databases.
    busy_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    busy_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = mapped_column(
        string_enum(AppointmentStatus, 20), default=AppointmentStatus.BOOKED
    )
    #: iCalendar UID: stable for the appointment's life, so updates replace the invite.
    ical_uid: Mapped[str] = mapped_column(String(200), unique=True)
    #: iCalendar SEQUENCE: rises on every change that is sent (move, cancellation).
    sequence: Mapped[int] = mapped_column(default=0)
    #: The real length, recorded with the outcome.
    actual_minutes: Mapped[int | None]
    #: Whether the interview was audio-recorded.
    is_recorded: Mapped[bool | None]
    outcome_recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    #: Who booked it; empty when the participant booked through their link.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    study = relationship("Study", lazy="raise")
    participant = relationship("Participant", lazy="raise")
    interviewer = relationship("User", foreign_keys=[interviewer_id], lazy="raise")
    outcome_recorded_by = relationship("User", foreign_keys=[outcome_recorded_by_id], lazy="raise")
    changes: Mapped[list[AppointmentChange]] = relationship(
        back_populates="appointment",
        cascade="all, delete-orphan",
        order_by="AppointmentChange.changed_at, AppointmentChange.id",
        lazy="raise",
    )

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_open(self) -> bool:
        """Still booked: it can be moved or cancelled, and invites for it are live."""
        return self.status == AppointmentStatus.BOOKED

    @property
    def is_held(self) -> bool:
        """The interview took place (what other domains read from an outcome)."""
        return self.status == AppointmentStatus.HELD


class AppointmentChange(Model):
    """One line of an appointment's history: booked, moved, cancelled, outcome recorded."""

    __tablename__ = "appointment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Who made the change; empty when the participant did it through their booking link.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[ChangeAction] = mapped_column(string_enum(ChangeAction, 20))
    old_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    new_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: A short account of the change (the cancel reason, the outcome recorded).
    detail: Mapped[str] = mapped_column(Text, default="")

    appointment: Mapped[Appointment] = relationship(back_populates="changes", lazy="raise")
    changed_by = relationship("User", lazy="raise")


class CalendarFeed(Model):
    """An interviewer's private calendar feed; the token is in the URL, only its hash here."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewer_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), unique=True
    )
    #: Hex SHA-256 of the URL token; regenerating replaces it, so the old URL stops working.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class BookingLink(Model):
    """A private, expiring, revocable link with which a participant books their own interview."""

    __tablename__ = "booking_link"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: Whose free time the link offers.
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: How the interview the participant books is held, and where.
    mode: Mapped[AppointmentMode] = mapped_column(string_enum(AppointmentMode, 20))
    location: Mapped[str] = mapped_column(Text, default="")
    video_link: Mapped[str] = mapped_column(String(2000), default="")
    #: Travel each way for an in-person interview, blocking the interviewer.
    travel_minutes: Mapped[int] = mapped_column(default=0)
    #: Hex SHA-256 of the token in the URL; the token is shown (and mailed) once.
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When the link was last emailed to the participant.
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    participant = relationship("Participant", lazy="raise")
    interviewer = relationship("User", foreign_keys=[interviewer_id], lazy="raise")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise")

    def is_usable(self, at: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > at


class BookingRules(Model):
    """A study's rules for the times offered to participants (and checked on their bookings).

    One row per study; a study without a row uses the defaults of the columns.
    """

    __tablename__ = "booking_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), unique=True)
    #: Hours between now and the earliest start a participant may book.
    min_notice_hours: Mapped[int] = mapped_column(default=24)
    #: Days ahead (from today in the study's zone) that slots are offered for.
    max_days_ahead: Mapped[int] = mapped_column(default=28)
    #: Minutes kept free between two interviews of one interviewer.
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    #: Most interviews one interviewer holds on one day (study's zone); 0 means no limit.
    daily_limit: Mapped[int] = mapped_column(default=0)
    #: ISO 3166 country whose public holidays are closed (the `holidays` package); empty: none.
    holiday_country: Mapped[str] = mapped_column(String(2), default="")
    #: The country's subdivision, e.g. "ENG" for England and Wales's holidays in GB.
    holiday_subdivision: Mapped[str] = mapped_column(String(10), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


class ClosedDate(Model):
    """A day the coordinator closed for a study's bookings (a team away-day, a strike)."""

    __tablename__ = "closed_date"
    __table_args__ = (UniqueConstraint("study_id", "closed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: The date, in the study's zone.
    closed_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)


class BookingNoticeSubscription(Model):
    """A user who wants a daily email of participants' own bookings, moves and cancellations."""

    __tablename__ = "booking_notice_subscription"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    is_daily_email: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The end of the span the last digest covered; the next one starts there.
    covered_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
