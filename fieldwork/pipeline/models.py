"""The after-interview pipeline: the steps a study defines, and each step done for an interview."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model

#: The steps a new study starts with: (name, working days after the interview it is due).
DEFAULT_STEPS: tuple[tuple[str, int], ...] = (
    ("Recording received", 2),
    ("Sent for transcription", 3),
    ("Transcript received", 10),
    ("Anonymised", 15),
    ("Checked", 20),
    ("Archived", 30),
)
#: Which default step marks the transcript anonymised (the export lists those).
DEFAULT_ANONYMISED_STEP = "Anonymised"


class PipelineStep(Model):
    """One step every held interview of a study goes through, in order."""

    __tablename__ = "pipeline_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: Order in the study's list (1 first); steps are done in this order.
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    #: Working days after the interview by which the step is due; empty means no due date.
    due_working_days: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    def __str__(self) -> str:
        return self.name


class PipelineSetting(Model):
    """A study's pipeline choices: which step makes an interview count, which one anonymises."""

    __tablename__ = "pipeline_setting"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), primary_key=True
    )
    #: Coverage counts an interview as achieved only once this step is done (empty: once held).
    achieved_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_step.id", ondelete="SET NULL")
    )
    #: The step after which a transcript is anonymised (the open-data export lists those).
    anonymised_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_step.id", ondelete="SET NULL")
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


class PipelineEntry(Model):
    """A step done for one held interview: who, when, a note, and a reference to the file.

    The tool keeps a reference (file name, where it is, its SHA-256), not the audio: only a study
    that turns the upload store on keeps a file, under `instance/`, and serves it to logged-in
    members only. When the participant withdraws asking for their data to be destroyed, the
    entry is marked to undo; whoever undoes it (deletes the file wherever it is) records that.
    """

    __tablename__ = "pipeline_entry"
    __table_args__ = (
        UniqueConstraint("appointment_id", "step_id"),
        Index("ix_pipeline_entry_step_id", "step_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int] = mapped_column(ForeignKey("pipeline_step.id", ondelete="CASCADE"))
    done_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    #: The file's name, e.g. "P1-017_interview.wav".
    file_name: Mapped[str] = mapped_column(String(255), default="")
    #: Where the file is kept, e.g. "University OneDrive / PLP / audio".
    location: Mapped[str] = mapped_column(String(500), default="")
    #: SHA-256 of the file, 64 lowercase hex digits (empty when not given).
    checksum: Mapped[str] = mapped_column(String(64), default="")
    #: Name of the uploaded copy in the upload store (empty: nothing uploaded).
    stored_name: Mapped[str] = mapped_column(String(100), default="")
    #: Size of the uploaded copy in bytes.
    stored_bytes: Mapped[int | None]
    #: Set when the participant withdrew asking for their data to be destroyed.
    undo_required_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When and by whom the step was undone (the file deleted where it is kept), and how.
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    undo_note: Mapped[str] = mapped_column(Text, default="")

    step = relationship("PipelineStep", lazy="raise")
    done_by = relationship("User", foreign_keys=[done_by_id], lazy="raise")
    undone_by = relationship("User", foreign_keys=[undone_by_id], lazy="raise")

    @property
    def is_done(self) -> bool:
        """Done and not undone."""
        return self.undone_at is None

    @property
    def is_waiting_undo(self) -> bool:
        return self.undo_required_at is not None and self.undone_at is None
