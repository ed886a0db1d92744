"""The sample frame of a study."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    DDL,
    Column,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model, db


class OrganisationKind(enum.StrEnum):
    """The kinds of organisation a study samples from."""

    DWP = "dwp"
    JCP = "jcp"
    LEAD_PROVIDER = "lead_provider"
    SUBCONTRACTOR = "subcontractor"
    OTHER = "other"

    @property
    def label(self) -> str:
        return ORGANISATION_KIND_LABELS[self]


ORGANISATION_KIND_LABELS: dict[OrganisationKind, str] = {
    OrganisationKind.DWP: "DWP",
    OrganisationKind.JCP: "Jobcentre Plus",
    OrganisationKind.LEAD_PROVIDER: "Lead provider",
    OrganisationKind.SUBCONTRACTOR: "Sub-contractor",
    OrganisationKind.OTHER: "Other",
}


class RecruitmentStatus(enum.StrEnum):
    """Where a participant stands in recruitment (the recruitment issue drives the changes)."""

    IDENTIFIED = "identified"
    APPROACHED = "approached"
    AGREED = "agreed"
    SCHEDULED = "scheduled"
    INTERVIEWED = "interviewed"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    INELIGIBLE = "ineligible"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Study(Model):
    """One qualitative study; an installation may run several side by side."""

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short name used in URLs and on the command line, e.g. "pl-pathways".
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    #: IANA zone in which the study books interviews; times are stored in UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    fieldwork_starts_on: Mapped[dt.date | None] = mapped_column(Date)
    fieldwork_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    #: Who invites go out from (ORGANIZER in calendar objects, From in mail).
    organiser_name: Mapped[str] = mapped_column(String(200), default="")
    organiser_email: Mapped[str] = mapped_column(String(254), default="")
    #: Default length of an interview, in minutes.
    interview_minutes: Mapped[int] = mapped_column(default=60)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="study", order_by="Phase.number", cascade="all, delete-orphan", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Study {self.slug}>"


class Phase(Model):
    """A wave of districts that went live together (Phase 1: Dec 2007; Phase 2: Apr 2008)."""

    __tablename__ = "phase"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: 1, 2, ...: how the phase is named in files and on screen.
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    #: The date the phase's districts went live.
    go_live_on: Mapped[dt.date | None] = mapped_column(Date)

    study: Mapped[Study] = relationship(back_populates="phases", lazy="raise")

    def __str__(self) -> str:
        return self.name


organisation_district = Table(
    "organisation_district",
    db.metadata,
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_organisation_district_district_id", "district_id"),
)


class District(Model):
    """A sampled area (a Jobcentre Plus district), in one phase."""

    __tablename__ = "district"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: True for a district the public record could not identify; rename it when known.
    is_placeholder: Mapped[bool] = mapped_column(default=False)
    #: Where the facts about this district come from.
    source: Mapped[str] = mapped_column(Text, default="")

    phase: Mapped[Phase] = relationship(lazy="joined", innerjoin=True)
    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_district, back_populates="districts", lazy="raise"
    )

    def __str__(self) -> str:
        return self.name


class Organisation(Model):
    """A public body or provider whose staff are sampled; may cover several districts."""

    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(string_enum(OrganisationKind, 20))
    #: For a sub-contractor: the lead provider it works for.
    lead_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")

    lead_provider: Mapped[Organisation | None] = relationship(
        remote_side="Organisation.id", lazy="raise"
    )
    districts: Mapped[list[District]] = relationship(
        secondary=organisation_district,
        back_populates="organisations",
        order_by="District.name",
        lazy="raise",
    )

    def __str__(self) -> str:
        return self.name


class Role(Model):
    """A stakeholder role to interview, tied to a kind of organisation."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_kind: Mapped[OrganisationKind] = mapped_column(string_enum(OrganisationKind, 20))
    description: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.name


#: The participant columns the list's search reads (beside the organisation's name).
SEARCHED_COLUMNS = ("name", "email", "reference", "job_title")

#: Between the searched columns in `searched_text`: a character no search holds, so a match
#: never spans two columns.
SEARCH_SEPARATOR = "\x01"

#: `searched_text` (below) as PostgreSQL reflects it (with the casts and brackets it adds),
#: so that a comparison of the models with the migrated schema finds the index unchanged.
SEARCHED_TEXT_SQL = (
    "((((((name::text || '\x01'::text) || email::text) || '\x01'::text)"
    " || reference::text) || '\x01'::text) || job_title::text)"
)

#: The trigram operator class of the search index, installed where every schema finds it.
CREATE_TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"


class Participant(Model):
    """A person in the sample frame, known in exports only by a pseudonymous reference."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("study_id", "reference"),
        Index("ix_participant_study_status", "study_id", "status"),
        Index("ix_participant_study_email", "study_id", "email"),
        # The list's search (sampling.services.participant_query) on PostgreSQL, which
        # matches `searched_text` to it. SQLite has no trigram index (nor this expression's
        # casts); there the search tests each column.
        Index(
            "ix_participant_search_text",
            literal_column(SEARCHED_TEXT_SQL).label("searched_text"),
            postgresql_using="gin",
            postgresql_ops={"searched_text": "public.gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: Stable pseudonym such as "P1-017" (phase, then a running number); never reused.
    reference: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="RESTRICT"), index=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("district.id", ondelete="RESTRICT"), index=True
    )
    #: The interviewer this person is assigned to, if any; they may see and work on them.
    interviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    #: Stored lower-case; empty when not known.
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    #: The IANA zone the participant reads times in (chosen on their booking page); empty
    #: until known, when messages use the study's zone.
    timezone: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RecruitmentStatus] = mapped_column(
        string_enum(RecruitmentStatus, 20), default=RecruitmentStatus.IDENTIFIED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    study: Mapped[Study] = relationship(lazy="raise")
    organisation: Mapped[Organisation] = relationship(lazy="raise")
    role: Mapped[Role] = relationship(lazy="raise")
    district: Mapped[District] = relationship(lazy="raise")
    interviewer = relationship("User", lazy="raise")

    #: The name an erased participant keeps; their other personal fields are blank.
    ERASED_NAME = "Erased participant"

    @property
    def is_erased(self) -> bool:
        """Erased: only the pseudonymous reference and the frame's facts remain."""
        return self.name == self.ERASED_NAME and not self.email

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"


def searched_text(columns: Any) -> ColumnElement[str]:
    """The searched columns of `columns` (the participant table's or the model's) joined by
    SEARCH_SEPARATOR: `searched_text ILIKE '%text%'` is "one of them contains text" as one
    expression, which one trigram index answers (ix_participant_search_text). An OR over four
    columns' indexes was costed above a scan of the table and never used."""
    separator = literal_column(f"'{SEARCH_SEPARATOR}'", String)
    expression = getattr(columns, SEARCHED_COLUMNS[0])
    for name in SEARCHED_COLUMNS[1:]:
        expression = expression.concat(separator).concat(getattr(columns, name))
    return expression


# The search index's operator class comes from pg_trgm, so the extension must exist before the
# table's indexes (create_all in tests and on first run; the migration does the same).
event.listen(
    Participant.__table__,
    "before_create",
    DDL(CREATE_TRIGRAM_EXTENSION).execute_if(dialect="postgresql"),
)


# --- SQLite's search index ---------------------------------------------------------------------

#: SQLite's counterpart of ix_participant_search_text: an FTS5 table with the trigram tokenizer
#: over the searched columns, reading its text from the participant table (external content,
#: so nothing is stored twice) and kept by triggers in the statement that changes a row, which
#: every path takes alike (forms, the import's bulk inserts, the API, erasure, a restore).
#: A phrase query (`participant_search MATCH '"smith"'`) finds the rows where one column holds
#: the text, letter case ignored (accented letters too): the ILIKE '%smith%' of PostgreSQL.
#: Trigrams need 3 characters; shorter searches test each column (sampling.services).
SEARCH_INDEX_TABLE = "participant_search"

#: The SQL that creates the index and its triggers (migration 0020 holds a copy). Only the
#: searched columns' UPDATE touches it, so a status change costs no index work.
SQLITE_SEARCH_INDEX_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS participant_search USING fts5("
    "name, email, reference, job_title, content='participant', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS participant_search_insert AFTER INSERT ON participant BEGIN "
    "INSERT INTO participant_search(rowid, name, email, reference, job_title) "
    "VALUES (new.id, new.name, new.email, new.reference, new.job_title); END",
    "CREATE TRIGGER IF NOT EXISTS participant_search_delete AFTER DELETE ON participant BEGIN "
    "INSERT INTO participant_search(participant_search, rowid, name, email, reference, "
    "job_title) VALUES ('delete', old.id, old.name, old.email, old.reference, old.job_title); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS participant_search_update "
    "AFTER UPDATE OF name, email, reference, job_title ON participant BEGIN "
    "INSERT INTO participant_search(participant_search, rowid, name, email, reference, "
    "job_title) VALUES ('delete', old.id, old.name, old.email, old.reference, old.job_title); "
    "INSERT INTO participant_search(rowid, name, email, reference, job_title) "
    "VALUES (new.id, new.name, new.email, new.reference, new.job_title); END",
)

#: The index's table as queries name it (rowid is the participant's id). In a metadata of its
#: own: create_all, backups and the table scans of the erasure proof never see it as a table.
search_index = Table(
    SEARCH_INDEX_TABLE,
    MetaData(),
    Column("rowid", Integer, primary_key=True),
    Column(SEARCH_INDEX_TABLE, Text),
)


def is_migrated_table(name: str | None, type_: str, parent_names: Any) -> bool:
    """False for SQLite's search index and the shadow tables FTS5 keeps beside it, which the
    migrations create and the models do not describe (Alembic's `include_name` hook, so that
    comparing the models with the database skips them)."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_INDEX_TABLE))


for _statement in SQLITE_SEARCH_INDEX_DDL:
    event.listen(
        Participant.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
# Dropping the participant table drops its triggers; the index goes first, by name.
event.listen(
    Participant.__table__,
    "before_drop",
    DDL("DROP TABLE IF EXISTS participant_search").execute_if(dialect="sqlite"),
)
