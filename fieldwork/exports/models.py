"""What a study's open-data export may say about each person (disclosure control settings)."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from fieldwork.extensions import Model

#: The quasi-identifiers a participants file can carry, in the order they appear.
QUASI_IDENTIFIERS = ("role", "phase", "district", "organisation_kind", "organisation")
QUASI_IDENTIFIER_LABELS = {
    "role": "Role",
    "phase": "Phase",
    "district": "District",
    "organisation_kind": "Kind of organisation",
    "organisation": "Organisation",
}
#: A study without settings exports these (the coarse ones) with k = 5.
DEFAULT_INCLUDED = ("role", "phase", "organisation_kind")
DEFAULT_MIN_CELL_SIZE = 5


class ExportSettings(Model):
    """A study's choice of what the person-level files carry, and its minimum cell size."""

    __tablename__ = "export_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), unique=True)
    #: k: every combination of the quasi-identifiers exported holds at least this many people.
    min_cell_size: Mapped[int] = mapped_column(default=DEFAULT_MIN_CELL_SIZE)
    include_role: Mapped[bool] = mapped_column(default=True)
    include_phase: Mapped[bool] = mapped_column(default=True)
    include_district: Mapped[bool] = mapped_column(default=False)
    include_organisation_kind: Mapped[bool] = mapped_column(default=True)
    include_organisation: Mapped[bool] = mapped_column(default=False)

    @property
    def included(self) -> tuple[str, ...]:
        return tuple(name for name in QUASI_IDENTIFIERS if getattr(self, f"include_{name}"))
