"""Recruitment and consent: contact attempts, organisations' access, referrals, consent forms,
consents and the private links through which participants consent online."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model
from fieldwork.recruitment.dispositions import Disposition


class ContactChannel(enum.StrEnum):
    """How a contact attempt was made."""

    EMAIL = "email"
    TELEPHONE = "telephone"
    LETTER = "letter"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ContactAttempt(Model):
    """One try to reach a participant, with its outcome (a disposition code)."""

    __tablename__ = "contact_attempt"
    __table_args__ = (
        Index("ix_contact_attempt_participant_attempted", "participant_id", "attempted_at"),
        # The follow-ups list in its order: only each participant's latest attempt with a next
        # action (each dialect's predicate as SQLAlchemy renders the list's WHERE, so the
        # planner can prove the index applies).
        Index(
            "ix_contact_attempt_latest_due",
            "next_action_on",
            "attempted_at",
            "id",
            postgresql_where=text("is_latest AND next_action_on IS NOT NULL"),
            sqlite_where=text("is_latest = 1 AND next_action_on IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    #: Who made the attempt (a coordinator or the participant's interviewer).
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    channel: Mapped[ContactChannel] = mapped_column(string_enum(ContactChannel, 20))
    disposition: Mapped[Disposition] = mapped_column(string_enum(Disposition, 30), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    #: When to try again or follow up; the follow-ups page lists those due.
    next_action_on: Mapped[dt.date | None] = mapped_column(Date)
    #: Whether this is its participant's latest attempt (latest attempted_at, then id): kept
    #: by `contacts.mark_latest_attempts` in the transaction that writes attempts, so the
    #: follow-ups read one partial index instead of ranking every attempt of every participant.
    is_latest: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    participant = relationship("Participant", lazy="raise")
    recorded_by = relationship("User", lazy="raise")


class AccessAgreement(enum.StrEnum):
    """Whether an organisation lets its staff be approached."""

    UNKNOWN = "unknown"
    AGREED = "agreed"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"unknown": "Not asked yet", "agreed": "Agreed", "refused": "Refused"}[self.value]


class OrganisationAccess(Model):
    """An organisation as gatekeeper: its contact person and whether it lets us approach staff."""

    __tablename__ = "organisation_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    agreement: Mapped[AccessAgreement] = mapped_column(
        string_enum(AccessAgreement, 20), default=AccessAgreement.UNKNOWN
    )
    #: The date the organisation agreed (or refused).
    agreed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: Nobody at this organisation is to be contacted, whatever else is recorded.
    is_do_not_contact: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    organisation = relationship("Organisation", lazy="raise")

    @property
    def needs_warning(self) -> bool:
        """True when a contact attempt with its staff should be confirmed first."""
        return self.is_do_not_contact or self.agreement == AccessAgreement.REFUSED


class Referral(Model):
    """A participant suggested by another ("who else should we talk to?")."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The person referred.
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: The participant who suggested them; None once that participant is deleted.
    referred_by_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    participant = relationship("Participant", foreign_keys=[participant_id], lazy="raise")
    referred_by = relationship(
        "Participant", foreign_keys=[referred_by_participant_id], lazy="raise"
    )


class ConsentForm(Model):
    """A consent form of a study; its text lives in numbered versions."""

    __tablename__ = "consent_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    versions: Mapped[list[ConsentFormVersion]] = relationship(
        back_populates="form",
        order_by="ConsentFormVersion.number",
        lazy="raise",
        cascade="all, delete-orphan",
    )


class ConsentFormVersion(Model):
    """One version of a consent form. Once published it never changes: edits make a new one."""

    __tablename__ = "consent_form_version"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("consent_form.id", ondelete="CASCADE"))
    #: 1, 2, ...: shown as "version 2".
    number: Mapped[int]
    #: The information given to the participant, in plain language (paragraphs by blank lines).
    text: Mapped[str] = mapped_column(Text, default="")
    #: None while a draft; set once, when published.
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    form: Mapped[ConsentForm] = relationship(back_populates="versions", lazy="raise")
    items: Mapped[list[ConsentItem]] = relationship(
        back_populates="version",
        order_by="ConsentItem.position",
        lazy="raise",
        cascade="all, delete-orphan",
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ConsentItem(Model):
    """One thing the participant agrees to separately (take part, audio recording, ...)."""

    __tablename__ = "consent_item"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("consent_form_version.id", ondelete="CASCADE"), index=True
    )
    #: Stable name across versions: take_part, audio_recording, anonymised_quotes, archiving.
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    #: Without this item agreed there is no consent (e.g. take_part).
    is_required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    version: Mapped[ConsentFormVersion] = relationship(back_populates="items", lazy="raise")


class ConsentMethod(enum.StrEnum):
    WRITTEN = "written"
    VERBAL = "verbal"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class DataHandling(enum.StrEnum):
    """What happens to a withdrawn participant's data already gathered."""

    KEEP_ANONYMISED = "keep_anonymised"
    DESTROY = "destroy"

    @property
    def label(self) -> str:
        return {
            "keep_anonymised": "Keep what was gathered, anonymised",
            "destroy": "Destroy what was gathered",
        }[self.value]


class Consent(Model):
    """A participant's answers to one consent form version, and its withdrawal if any."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("consent_form_version.id", ondelete="RESTRICT"), index=True
    )
    method: Mapped[ConsentMethod] = mapped_column(string_enum(ConsentMethod, 20))
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The coordinator who recorded it; None when the participant gave it online.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: The name the participant typed as their signature (online), or the signatory's name.
    typed_name: Mapped[str] = mapped_column(String(200), default="")
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    data_handling: Mapped[DataHandling | None] = mapped_column(string_enum(DataHandling, 20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    participant = relationship("Participant", lazy="raise")
    version: Mapped[ConsentFormVersion] = relationship(lazy="raise")
    recorded_by = relationship("User", lazy="raise")
    answers: Mapped[list[ConsentAnswer]] = relationship(
        back_populates="consent", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ConsentAnswer(Model):
    """The participant's yes or no to one item."""

    __tablename__ = "consent_answer"
    __table_args__ = (UniqueConstraint("consent_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(
        ForeignKey("consent_item.id", ondelete="RESTRICT"), index=True
    )
    is_agreed: Mapped[bool]

    consent: Mapped[Consent] = relationship(back_populates="answers", lazy="raise")
    item: Mapped[ConsentItem] = relationship(lazy="raise")


class ConsentLink(Model):
    """A private, expiring, revocable link through which a participant consents online.

    Only the SHA-256 of the token is stored; the link is shown once when made.
    """

    __tablename__ = "consent_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("consent_form_version.id", ondelete="RESTRICT")
    )
    #: The consent given through this link, once given.
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: After this the link can no longer be used to give consent.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    participant = relationship("Participant", lazy="raise")
    version: Mapped[ConsentFormVersion] = relationship(lazy="raise")
    consent: Mapped[Consent | None] = relationship(lazy="raise")
