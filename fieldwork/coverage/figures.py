"""The figures of one quota cell (or a total of cells), built from a row of the grouped queries.

`fieldwork.coverage.queries` counts; this module names the counts and derives what a reader
needs from them (still needed, share of target, colour band, rates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from fieldwork.coverage.rates import CaseCounts, all_rates


@dataclass(frozen=True)
class Figures:
    """The figures of one cell (or a total of cells): see `queries` for each bucket."""

    target: int | None = None
    participants: int = 0
    achieved: int = 0
    booked: int = 0
    pipeline: int = 0
    approached: int = 0
    not_approached: int = 0
    closed: int = 0
    cases: CaseCounts = field(default_factory=CaseCounts)
    late_cancellations: int = 0
    #: Achieved, capped at the target, cell by cell (0 without a target); totals add the
    #: cells' values, so an over-filled cell does not hide one behind.
    counted_toward_target: int = 0
    #: Held with a consent that counts, whatever the pipeline step (= achieved when the study
    #: counts interviews once held).
    interviewed: int = 0

    @property
    def needed(self) -> int | None:
        """Interviews still to achieve: target − achieved, never below 0; None with no target."""
        return None if self.target is None else max(self.target - self.achieved, 0)

    @property
    def uncovered(self) -> int | None:
        """Still needed once every booked interview is held: how far behind the cell really is."""
        return None if self.target is None else max(self.target - self.achieved - self.booked, 0)

    @property
    def share(self) -> float | None:
        """Achieved ÷ target (may exceed 1); None with no target or a target of 0."""
        return self.achieved / self.target if self.target else None

    @property
    def band(self) -> int | None:
        """The colour band 0–10 of the heat map: tenths of the target achieved, capped at 10."""
        return None if self.share is None else min(int(self.share * 10), 10)

    @property
    def verdict(self) -> tuple[str, str]:
        """(symbol, words) that say what the colour says, for readers without colour."""
        share = self.share
        if share is None:
            return ("–", "No target")
        if share >= 1:
            return ("✔", "Target met")
        if share >= 0.75:
            return ("◕", "Nearly there")
        if share >= 0.5:
            return ("◑", "Halfway")
        if share >= 0.25:
            return ("◔", "Behind")
        return ("○", "Far behind")

    @property
    def rates(self) -> dict[str, float | None]:
        return all_rates(self.cases)

    def against(self, target: int | None) -> Figures:
        """These figures measured against a cell's target (None: the cell has none)."""
        counted = 0 if target is None else min(self.achieved, target)
        return replace(self, target=target, counted_toward_target=counted)

    def __add__(self, other: Figures) -> Figures:
        if self.target is None and other.target is None:
            target = None
        else:
            target = (self.target or 0) + (other.target or 0)
        return Figures(
            target=target,
            participants=self.participants + other.participants,
            achieved=self.achieved + other.achieved,
            booked=self.booked + other.booked,
            pipeline=self.pipeline + other.pipeline,
            approached=self.approached + other.approached,
            not_approached=self.not_approached + other.not_approached,
            closed=self.closed + other.closed,
            cases=self.cases + other.cases,
            late_cancellations=self.late_cancellations + other.late_cancellations,
            counted_toward_target=self.counted_toward_target + other.counted_toward_target,
            interviewed=self.interviewed + other.interviewed,
        )


def figures_of(row, target: int | None = None) -> Figures:
    """The figures of one grouped row of `queries.figures` (zeros when `row` is None)."""
    if row is None:
        return Figures(target=target)
    achieved = row.achieved
    return Figures(
        target=target,
        participants=row.participants,
        achieved=row.achieved,
        booked=row.booked,
        pipeline=row.pipeline,
        approached=row.approached,
        not_approached=row.not_approached,
        closed=row.closed,
        cases=CaseCounts(
            interviews=row.case_I,
            refusals=row.case_R,
            non_contacts=row.case_NC,
            others=row.case_O,
            unknown=row.case_U,
            not_eligible=row.case_NE,
            held_appointments=row.held_appointments,
            no_show_appointments=row.no_show_appointments,
        ),
        late_cancellations=row.late_cancellations,
        counted_toward_target=0 if target is None else min(achieved, target),
        interviewed=row.interviewed,
    )


def total(items: Iterable[Figures]) -> Figures:
    """The sum of several cells' figures (targets add up where any cell has one)."""
    total = Figures()
    for item in items:
        total = total + item
    return total
