"""Coverage of the quotas: the figures of every cell, gaps, rates and progress over time.

Views and the API call these; they never touch `request`. Every figure comes from the grouped
queries in `fieldwork.coverage.queries` (a fixed number of queries per page, whatever the size
of the study); Python only arranges the grouped rows and adds up a handful of cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.coverage import queries
from fieldwork.coverage.chart import Week, weeks_of
from fieldwork.coverage.figures import Figures, figures_of, total
from fieldwork.coverage.models import Quota
from fieldwork.coverage.quotas import quotas_of
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


def _finer_cells(study: Study, now: dt.datetime, quotas: list[Quota], phases: dict) -> list:
    """Figures for the finer quotas: one grouped query per shape in use (at most two)."""
    by_district = [q for q in quotas if q.shape == "role_district"]
    by_kind = [q for q in quotas if q.shape == "kind_phase"]
    cells: list[FinerCell] = []
    if by_district:
        rows = {
            (row.role_id, row.district_id): row
            for row in queries.figures(study.id, now, ("role_id", "district_id"))
        }
        for q in by_district:
            cells.append(
                FinerCell(
                    q.id,
                    q.shape,
                    f"{q.role.name} in {q.district.name}",
                    q.role_id,
                    q.phase_id,
                    q.district_id,
                    None,
                    q.role.name,
                    q.phase.name,
                    q.district.name,
                    figures_of(rows.get((q.role_id, q.district_id)), q.target),
                )
            )
    if by_kind:
        rows = {
            (OrganisationKind(row.organisation_kind), row.phase_id): row
            for row in queries.figures(study.id, now, ("organisation_kind", "phase_id"))
        }
        for q in by_kind:
            kind = OrganisationKind(q.organisation_kind)
            cells.append(
                FinerCell(
                    q.id,
                    q.shape,
                    f"{kind.label} staff, {q.phase.name}",
                    None,
                    q.phase_id,
                    None,
                    kind,
                    "",
                    q.phase.name,
                    "",
                    figures_of(rows.get((kind, q.phase_id)), q.target),
                )
            )
    order = {phase_id: position for position, phase_id in enumerate(phases)}
    return sorted(cells, key=lambda c: (c.shape, order.get(c.phase_id, 0), c.label))


def _grid(study: Study, now: dt.datetime):
    """Phases, roles, quotas and the role × phase figures: four queries."""
    phases = sampling.phases_of(study)
    roles = sampling.roles_of(study)
    quotas = quotas_of(study)
    targets = {(q.role_id, q.phase_id): q.target for q in quotas if q.shape == "role_phase"}
    rows = {
        (row.role_id, row.phase_id): row
        for row in queries.figures(study.id, now, ("role_id", "phase_id"))
    }
    grid = {
        (role.id, phase.id): figures_of(
            rows.get((role.id, phase.id)), targets.get((role.id, phase.id))
        )
        for role in roles
        for phase in phases
    }
    return phases, roles, quotas, grid


def dashboard(study: Study, now: dt.datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, in a fixed number of queries (at most seven)."""
    now = now or now_utc()
    phases, roles, quotas, grid = _grid(study, now)
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
        finer=_finer_cells(study, now, quotas, {phase.id: phase for phase in phases}),
        weeks=weeks_of(queries.weekly_rows(study.id, now), now),
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


def _candidates(rows: list) -> dict[tuple[int, int], list[Candidate]]:
    result: dict[tuple[int, int], list[Candidate]] = {}
    for row in rows:
        result.setdefault((row.role_id, row.phase_id), []).append(
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
    return result


def _interviewer_filter(viewer: User | None) -> int | None:
    """Interviewers see the candidates assigned to them; coordinators see everyone."""
    if viewer is None or viewer.is_coordinator:
        return None
    return viewer.id


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
    phase_list, role_list, _, grid = _grid(study, now)
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
    found = _candidates(
        queries.candidates(
            study.id, now, [key for key, _ in behind], GAP_CANDIDATES, _interviewer_filter(viewer)
        )
    )
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
    target = next(
        (
            q.target
            for q in quotas
            if q.shape == "role_phase" and (q.role_id, q.phase_id) == (role_id, phase_id)
        ),
        None,
    )
    where = {"role_id": role_id, "phase_id": phase_id}
    cell_rows = queries.figures(study.id, now, (), where)
    figures = figures_of(cell_rows[0] if cell_rows else None, target)
    district_targets = {
        q.district_id: q.target
        for q in quotas
        if q.shape == "role_district" and q.role_id == role_id
    }
    by_district = sorted(
        (
            (row.district_name, figures_of(row, district_targets.get(row.district_id)))
            for row in queries.figures(study.id, now, ("district_id", "district_name"), where)
        ),
        key=lambda item: item[0],
    )
    by_organisation = sorted(
        (
            (row.organisation_name, figures_of(row))
            for row in queries.figures(
                study.id, now, ("organisation_id", "organisation_name"), where
            )
        ),
        key=lambda item: item[0],
    )
    finer = [
        cell
        for cell in _finer_cells(study, now, quotas, {phase.id: phase})
        if cell.phase_id == phase_id
        and cell.role_id in (role_id, None)
        and (cell.organisation_kind is None or cell.organisation_kind == role.organisation_kind)
    ]
    found = _candidates(
        queries.candidates(
            study.id, now, [(role_id, phase_id)], CELL_CANDIDATES, _interviewer_filter(viewer)
        )
    )
    return CellDetail(
        role,
        phase,
        figures,
        by_district,
        by_organisation,
        finer,
        found.get((role_id, phase_id), []),
    )


# --- Exports (CSV and API) -------------------------------------------------------------------

#: The CSV's columns, in order; the API's cell objects carry the same fields.
RECORD_FIELDS = (
    "cell",
    "role",
    "phase",
    "district",
    "organisation_kind",
    "target",
    "participants",
    "achieved",
    "booked",
    "pipeline",
    "approached",
    "not_approached",
    "closed",
    "needed",
    "uncovered",
    "cases_interview",
    "cases_refusal",
    "cases_non_contact",
    "cases_other",
    "cases_unknown_eligibility",
    "cases_not_eligible",
    "held_appointments",
    "no_show_appointments",
    "late_cancellations",
    "response_rate",
    "refusal_rate",
    "contact_rate",
    "cooperation_rate",
    "no_show_rate",
)


def _record(cell: str, labels: dict[str, str | None], figures: Figures) -> dict:
    c = figures.cases
    rates = figures.rates
    return {
        "cell": cell,
        "role": labels.get("role"),
        "phase": labels.get("phase"),
        "district": labels.get("district"),
        "organisation_kind": labels.get("organisation_kind"),
        "target": figures.target,
        "participants": figures.participants,
        "achieved": figures.achieved,
        "booked": figures.booked,
        "pipeline": figures.pipeline,
        "approached": figures.approached,
        "not_approached": figures.not_approached,
        "closed": figures.closed,
        "needed": figures.needed,
        "uncovered": figures.uncovered,
        "cases_interview": c.interviews,
        "cases_refusal": c.refusals,
        "cases_non_contact": c.non_contacts,
        "cases_other": c.others,
        "cases_unknown_eligibility": c.unknown,
        "cases_not_eligible": c.not_eligible,
        "held_appointments": c.held_appointments,
        "no_show_appointments": c.no_show_appointments,
        "late_cancellations": figures.late_cancellations,
        **{name: None if value is None else round(value, 4) for name, value in rates.items()},
    }


def records(board: Dashboard) -> list[dict]:
    """One record per cell: role × phase cells (role order, then phase), the finer cells,
    each phase's total and the overall total. `cell` says which kind of row it is."""
    rows = [
        _record(
            "role_phase", {"role": role.name, "phase": phase.name}, board.cell(role.id, phase.id)
        )
        for role in board.roles
        for phase in board.phases
    ]
    for finer in board.finer:
        rows.append(
            _record(
                finer.shape,
                {
                    "role": finer.role_name or None,
                    "phase": finer.phase_name,
                    "district": finer.district_name or None,
                    "organisation_kind": finer.organisation_kind.value
                    if finer.organisation_kind
                    else None,
                },
                finer.figures,
            )
        )
    rows += [
        _record("phase_total", {"phase": phase.name}, board.by_phase[phase.id])
        for phase in board.phases
    ]
    rows.append(_record("overall", {}, board.overall))
    return rows
