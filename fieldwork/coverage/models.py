"""Quotas: how many completed interviews a cell of the sample needs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model
from fieldwork.sampling.models import OrganisationKind


class Quota(Model):
    """A target number of people interviewed in one cell of the sample.

    Three shapes of cell, told apart by which columns are set:

    * role × phase (the main grid): `role_id` and `phase_id`;
    * role × district (finer): `role_id`, `district_id`, and `phase_id` = the district's phase;
    * organisation kind × phase (finer): `organisation_kind` and `phase_id`.

    `cell_key` names the cell in one string ("role:3/phase:1", "role:3/district:7",
    "kind:jcp/phase:1") so one unique constraint holds on SQLite and PostgreSQL alike
    (NULLs are distinct in a multi-column unique constraint, so the columns cannot do it).
    """

    __tablename__ = "quota"
    __table_args__ = (
        UniqueConstraint("study_id", "cell_key"),
        CheckConstraint("target >= 0", name="ck_quota_target_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: The stakeholder role; empty for an organisation kind × phase cell.
    role_id: Mapped[int | None] = mapped_column(
        ForeignKey("role.id", ondelete="CASCADE"), index=True
    )
    #: Always set: the cell's phase (for a district cell, the district's phase).
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id", ondelete="CASCADE"), index=True)
    #: Set only for a role × district cell.
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("district.id", ondelete="CASCADE"), index=True
    )
    #: Set only for an organisation kind × phase cell.
    organisation_kind: Mapped[OrganisationKind | None] = mapped_column(
        string_enum(OrganisationKind, 20)
    )
    #: "role:<id>/phase:<id>", "role:<id>/district:<id>" or "kind:<kind>/phase:<id>".
    cell_key: Mapped[str] = mapped_column(String(80))
    #: People to interview in the cell (0 = none wanted).
    target: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    role = relationship("Role", lazy="raise")
    phase = relationship("Phase", lazy="raise")
    district = relationship("District", lazy="raise")

    @property
    def shape(self) -> str:
        """ "role_phase", "role_district" or "kind_phase"."""
        if self.district_id is not None:
            return "role_district"
        if self.organisation_kind is not None:
            return "kind_phase"
        return "role_phase"


def cell_key(
    *,
    role_id: int | None = None,
    phase_id: int | None = None,
    district_id: int | None = None,
    organisation_kind: OrganisationKind | str | None = None,
) -> str:
    """The unique name of a cell (see `Quota`)."""
    if district_id is not None:
        return f"role:{role_id}/district:{district_id}"
    if organisation_kind is not None:
        return f"kind:{OrganisationKind(organisation_kind).value}/phase:{phase_id}"
    return f"role:{role_id}/phase:{phase_id}"


class CoverageResult(Model):
    """Figures computed from a study's rows, shared by every worker until the study changes.

    One row per (study, kind): the revision it was computed under (`core.revisions`), and
    either the figures (`payload`, JSON counts: never personal data) or, while one worker
    computes them, only its claim. See `fieldwork.coverage.shared`."""

    __tablename__ = "coverage_result"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
    #: Random, new with every claim: a worker stores its figures only while its claim stands.
    claim: Mapped[int] = mapped_column(BigInteger)
    #: When the claim was made, in wall-clock milliseconds (a crashed claimer's claim expires).
    claimed_at_ms: Mapped[int] = mapped_column(BigInteger)
    #: The figures as JSON; empty while they are being computed.
    payload: Mapped[str | None] = mapped_column(Text)
    #: The moments between which the figures hold (the app's clock; see `coverage.cache`).
    made_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    holds_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
