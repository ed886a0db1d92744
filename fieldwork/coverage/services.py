"""Coverage of the quotas: the figures of every cell, gaps, rates and progress over time.

Views and the API call these; they never touch `request`. Every figure comes from the grouped
queries in `fieldwork.coverage.queries` (a fixed number of queries per page, whatever the size
of the study); Python only arranges the grouped rows and adds up a handful of cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.coverage import cache, queries
from fieldwork.coverage.chart import Week, weeks_of
from fieldwork.coverage.figures import Figures, figures_of, total
from fieldwork.coverage.models import Quota
from fieldwork.coverage.queries import CELL_KEYS
from fieldwork.coverage.quotas import quotas_of
from fieldwork.coverage.rates import CaseCounts
from fieldwork.extensions import db
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import (
    OrganisationKind,
    Phase,
    RecruitmentStatus,
    Role,
    Study,
)

#: How many candidates the gaps page lists per cell (the cell page lists more).
GAP_CANDIDATES = 5
CELL_CANDIDATES = 50


# --- The dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FinerCell:
    """A finer quota's cell and its figures."""

    quota_id: int
    shape: str
    label: str
    role_id: int | None
    phase_id: int
    district_id: int | None
    organisation_kind: OrganisationKind | None
    role_name: str
    phase_name: str
    district_name: str
    figures: Figures


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the coverage dashboard, for one study at one moment."""

    study: Study
    generated_at: dt.datetime
    phases: list[Phase]
    roles: list[Role]
    #: (role_id, phase_id) → figures, for every role and phase (zeros where nobody is).
    grid: dict[tuple[int, int], Figures]
    by_phase: dict[int, Figures]
    by_role: dict[int, Figures]
    overall: Figures
    finer: list[FinerCell]
    weeks: list[Week]

    def cell(self, role_id: int, phase_id: int) -> Figures:
        return self.grid[(role_id, phase_id)]

    @property
    def total_target(self) -> int:
        return self.overall.target or 0

    @property
    def cells_with_targets(self) -> int:
        return sum(1 for figures in self.grid.values() if figures.target is not None)


@dataclass(frozen=True)
class StudyCounts:
    """What the dashboard counts, as plain values that may be kept between requests."""

    #: Figures (without targets) per finest cell: (role_id, phase_id, district_id, kind).
    cells: dict[tuple[int, int, int, OrganisationKind], Figures]
    #: ("held" or "booked", UTC day, count) rows for the progress chart.
    days: list[tuple[str, object, int]]
    #: The moment these counts stop holding even if nothing is written (see `_holds_until`).
    holds_until: dt.datetime


#: A cell's counts as stored: every field of Figures but those measured against a target.
_FIGURE_FIELDS = tuple(
    name
    for name in Figures.__dataclass_fields__
    if name not in ("target", "cases", "counted_toward_target")
)
_CASE_FIELDS = tuple(CaseCounts.__dataclass_fields__)


def _dump_counts(counts: StudyCounts) -> dict:
    """The counts as JSON-able numbers and strings (for the store every worker shares)."""
    return {
        "cells": [
            [*key[:3], OrganisationKind(key[3]).value]
            + [getattr(figures, name) for name in _FIGURE_FIELDS]
            + [getattr(figures.cases, name) for name in _CASE_FIELDS]
            for key, figures in counts.cells.items()
        ],
        "days": [[part, str(day)[:10], count] for part, day, count in counts.days],
        "holds_until": counts.holds_until.isoformat(),
    }


def _load_counts(data: object) -> StudyCounts:
    """The counts `_dump_counts` wrote."""
    assert isinstance(data, dict)
    figures_at = len(CELL_KEYS)
    cases_at = figures_at + len(_FIGURE_FIELDS)
    cells = {}
    for cell in data["cells"]:
        key = (cell[0], cell[1], cell[2], OrganisationKind(cell[3]))
        cases = CaseCounts(*cell[cases_at:])
        cells[key] = Figures(
            **dict(zip(_FIGURE_FIELDS, cell[figures_at:cases_at], strict=True)), cases=cases
        )
    return StudyCounts(
        cells=cells,
        days=[(part, dt.date.fromisoformat(day), count) for part, day, count in data["days"]],
        holds_until=dt.datetime.fromisoformat(data["holds_until"]),
    )


#: The study's counts in the store every worker shares (no personal data: numbers only).
SHARED_COUNTS = cache.Shared("counts", _dump_counts, _load_counts)


def _holds_until(study_id: int, now: dt.datetime) -> dt.datetime:
    """Counts made `now` hold until just after the next booked interview starts (then it no
    longer counts as booked ahead) or the next UTC day (the chart's weeks move), if sooner."""
    tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), now.tzinfo)
    next_start = queries.next_booked_start(study_id, now)
    if next_start is None:
        return tomorrow
    return min(next_start + dt.timedelta(microseconds=1), tomorrow)


def study_counts(study_id: int, now: dt.datetime) -> StudyCounts:
    """The study's counts: one query when the study changed (or time moved them on) since they
    were last made, none otherwise."""

    def compute() -> tuple[StudyCounts, dt.datetime]:
        rows = queries.dashboard_rows(study_id, now)
        counts = StudyCounts(
            cells={
                (row.role_id, row.phase_id, row.district_id, row.organisation_kind): figures_of(row)
                for row in rows
                if row.part == "cell"
            },
            days=[(row.part, row.day, row.participants) for row in rows if row.part != "cell"],
            holds_until=_holds_until(study_id, now),
        )
        return counts, counts.holds_until

    return cache.cached(study_id, "counts", now, compute, SHARED_COUNTS)


def _sum_by(cells: dict[tuple, Figures], key: Callable[[tuple], Hashable]) -> dict:
    """Add the finest cells up into coarser ones, by `key` of each cell's key."""
    sums: dict[Hashable, Figures] = {}
    for cell, figures in cells.items():
        coarser = key(cell)
        sums[coarser] = sums[coarser] + figures if coarser in sums else figures
    return sums


def _finer_cell(quota: Quota, figures: Figures | None) -> FinerCell:
    """A finer quota with the figures of its cell (zeros where nobody is)."""
    measured = (figures or Figures()).against(quota.target)
    phase_name = quota.phase.name
    if quota.shape == "role_district":
        return FinerCell(
            quota_id=quota.id,
            shape=quota.shape,
            label=f"{quota.role.name} in {quota.district.name}",
            role_id=quota.role_id,
            phase_id=quota.phase_id,
            district_id=quota.district_id,
            organisation_kind=None,
            role_name=quota.role.name,
            phase_name=phase_name,
            district_name=quota.district.name,
            figures=measured,
        )
    assert quota.organisation_kind is not None  # the shape of a kind × phase quota
    kind = OrganisationKind(quota.organisation_kind)
    return FinerCell(
        quota_id=quota.id,
        shape=quota.shape,
        label=f"{kind.label} staff, {phase_name}",
        role_id=None,
        phase_id=quota.phase_id,
        district_id=None,
        organisation_kind=kind,
        role_name="",
        phase_name=phase_name,
        district_name="",
        figures=measured,
    )


def _finer_cells(counts: StudyCounts, quotas: list[Quota], phases: dict) -> list[FinerCell]:
    """The finer quotas' cells, each the sum of the finest cells it covers (no query)."""
    by_district = _sum_by(counts.cells, lambda cell: ("role_district", cell[0], cell[2]))
    by_kind = _sum_by(counts.cells, lambda cell: ("kind_phase", cell[3], cell[1]))
    cells = [
        _finer_cell(q, by_district.get((q.shape, q.role_id, q.district_id)))
        if q.shape == "role_district"
        else _finer_cell(q, by_kind.get((q.shape, q.organisation_kind, q.phase_id)))
        for q in quotas
        if q.shape in ("role_district", "kind_phase")
    ]
    order = {phase_id: position for position, phase_id in enumerate(phases)}
    return sorted(cells, key=lambda c: (c.shape, order.get(c.phase_id, 0), c.label))


def _grid(study: Study, now: dt.datetime):
    """Phases, roles, quotas, the counts and the role × phase figures: four queries, and the
    counts' one when they are not cached."""
    phases = sampling.phases_of(study)
    roles = sampling.roles_of(study)
    quotas = quotas_of(study)
    counts = study_counts(study.id, now)
    targets = {(q.role_id, q.phase_id): q.target for q in quotas if q.shape == "role_phase"}
    sums = _sum_by(counts.cells, lambda cell: (cell[0], cell[1]))
    grid = {
        (role.id, phase.id): sums.get((role.id, phase.id), Figures()).against(
            targets.get((role.id, phase.id))
        )
        for role in roles
        for phase in phases
    }
    return phases, roles, quotas, counts, grid


def dashboard(study: Study, now: dt.datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, in a fixed number of queries (at most five)."""
    now = now or now_utc()
    phases, roles, quotas, counts, grid = _grid(study, now)
    by_phase = {phase.id: total(grid[(role.id, phase.id)] for role in roles) for phase in phases}
    by_role = {role.id: total(grid[(role.id, phase.id)] for phase in phases) for role in roles}
    return Dashboard(
        study=study,
        generated_at=now,
        phases=phases,
        roles=roles,
        grid=grid,
        by_phase=by_phase,
        by_role=by_role,
        overall=total(by_phase.values()),
        finer=_finer_cells(counts, quotas, {phase.id: phase for phase in phases}),
        weeks=weeks_of(counts.days, now),
    )


# --- Drill-down and gaps ---------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Someone who could fill a cell, with how far along they are."""

    participant_id: int
    reference: str
    name: str
    status: RecruitmentStatus
    bucket: str
    district_name: str
    organisation_name: str

    @property
    def is_booked(self) -> bool:
        return self.bucket == "booked"


BUCKET_LABELS = {
    "achieved": "Achieved",
    "booked": "Booked",
    "pipeline": "In the pipeline",
    "approached": "Approached",
    "not_approached": "Not yet approached",
    "closed": "Declined, ineligible or withdrawn",
}


def _interviewer_filter(viewer: User | None) -> int | None:
    """Interviewers see the candidates assigned to them; coordinators see everyone."""
    if viewer is None or viewer.is_coordinator:
        return None
    return viewer.id


def _candidates(
    study_id: int,
    counts: StudyCounts,
    now: dt.datetime,
    cells: list[tuple[int, int]],
    per_cell: int,
    viewer: User | None,
) -> dict[tuple[int, int], list[Candidate]]:
    """Up to `per_cell` candidates per cell that `viewer` may see (cached like the counts)."""
    interviewer_id = _interviewer_filter(viewer)

    def compute() -> tuple[dict[tuple[int, int], list[Candidate]], dt.datetime]:
        found: dict[tuple[int, int], list[Candidate]] = {}
        for row in queries.candidates(study_id, now, cells, per_cell, interviewer_id):
            found.setdefault((row.role_id, row.phase_id), []).append(
                Candidate(
                    participant_id=row.participant_id,
                    reference=row.reference,
                    name=row.name,
                    status=RecruitmentStatus(row.status),
                    bucket=row.bucket,
                    district_name=row.district_name,
                    organisation_name=row.organisation_name,
                )
            )
        return found, counts.holds_until

    key = ("candidates", tuple(cells), per_cell, interviewer_id)
    return cache.cached(study_id, key, now, compute)


@dataclass(frozen=True)
class Gap:
    """A role × phase cell behind its target, with people who could fill it."""

    role: Role
    phase: Phase
    figures: Figures
    candidates: list[Candidate]


def gaps(study: Study, viewer: User | None = None, now: dt.datetime | None = None) -> list[Gap]:
    """The cells with a target not yet met, furthest behind first (most still uncovered by
    achieved and booked interviews, then lowest share achieved), each with its first
    candidates. A fixed number of queries."""
    now = now or now_utc()
    phase_list, role_list, _, counts, grid = _grid(study, now)
    roles = {role.id: role for role in role_list}
    phases = {phase.id: phase for phase in phase_list}
    behind = [
        (key, figures)
        for key, figures in grid.items()
        if figures.target is not None and (figures.needed or 0) > 0
    ]
    behind.sort(
        key=lambda item: (-(item[1].uncovered or 0), item[1].share or 0, -(item[1].needed or 0))
    )
    cells = [key for key, _ in behind]
    found = _candidates(study.id, counts, now, cells, GAP_CANDIDATES, viewer)
    return [
        Gap(roles[key[0]], phases[key[1]], figures, found.get(key, [])) for key, figures in behind
    ]


@dataclass(frozen=True)
class CellDetail:
    """A role × phase cell broken down, for the drill-down page."""

    role: Role
    phase: Phase
    figures: Figures
    by_district: list[tuple[str, Figures]]
    by_organisation: list[tuple[str, Figures]]
    finer: list[FinerCell]
    candidates: list[Candidate]


def _breakdown(
    study_id: int, now: dt.datetime, where: dict, district_targets: dict[int | None, int]
) -> tuple[list[tuple[str, Figures]], list[tuple[str, Figures]]]:
    """A cell's figures by district (against their finer targets) and by organisation, each
    sorted by name: two grouped queries."""
    by_district = [
        (row.district_name, figures_of(row, district_targets.get(row.district_id)))
        for row in queries.figures(study_id, now, ("district_id", "district_name"), where)
    ]
    by_organisation = [
        (row.organisation_name, figures_of(row))
        for row in queries.figures(study_id, now, ("organisation_id", "organisation_name"), where)
    ]
    by_name = lambda item: item[0]  # noqa: E731
    return sorted(by_district, key=by_name), sorted(by_organisation, key=by_name)


def cell_detail(
    study: Study,
    role_id: int,
    phase_id: int,
    viewer: User | None = None,
    now: dt.datetime | None = None,
) -> CellDetail | None:
    """A role × phase cell broken down by district and organisation; None if not the study's."""
    now = now or now_utc()
    role = db.session.get(Role, role_id)
    phase = db.session.get(Phase, phase_id)
    if role is None or phase is None or role.study_id != study.id or phase.study_id != study.id:
        return None
    quotas = quotas_of(study)
    counts = study_counts(study.id, now)
    target = next(
        (
            q.target
            for q in quotas
            if q.shape == "role_phase" and q.role_id == role_id and q.phase_id == phase_id
        ),
        None,
    )
    in_cell = [figures for key, figures in counts.cells.items() if key[:2] == (role_id, phase_id)]
    district_targets = {
        q.district_id: q.target
        for q in quotas
        if q.shape == "role_district" and q.role_id == role_id
    }
    where = {"role_id": role_id, "phase_id": phase_id}
    by_district, by_organisation = _breakdown(study.id, now, where, district_targets)
    finer = [
        cell
        for cell in _finer_cells(counts, quotas, {phase.id: phase})
        if cell.phase_id == phase_id
        and cell.role_id in (role_id, None)
        and (cell.organisation_kind is None or cell.organisation_kind == role.organisation_kind)
    ]
    found = _candidates(study.id, counts, now, [(role_id, phase_id)], CELL_CANDIDATES, viewer)
    return CellDetail(
        role,
        phase,
        total(in_cell).against(target),
        by_district,
        by_organisation,
        finer,
        found.get((role_id, phase_id), []),
    )
