"""Coverage of the quotas: the figures of every cell, gaps, rates and progress over time.

Views and the API call these; they never touch `request`. Every figure comes from the grouped
queries in `fieldwork.coverage.queries` (a fixed number of queries per page, whatever the size
of the study); Python only arranges the grouped rows and adds up a handful of cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.coverage import queries
from fieldwork.coverage.models import Quota, cell_key
from fieldwork.coverage.rates import CaseCounts, all_rates
from fieldwork.extensions import db
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import (
    District,
    OrganisationKind,
    Phase,
    RecruitmentStatus,
    Role,
    Study,
)

#: How many candidates the gaps page lists per cell (the cell page lists more).
GAP_CANDIDATES = 5
CELL_CANDIDATES = 50
#: Weeks of bookings shown ahead of today at most.
MAX_WEEKS_AHEAD = 26


class QuotaError(ValueError):
    """A quota that cannot be saved; the message is for the user."""


# --- Figures ---------------------------------------------------------------------------------


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


def _figures_of(row, target: int | None = None) -> Figures:
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


def _total(items: Iterable[Figures]) -> Figures:
    total = Figures()
    for item in items:
        total = total + item
    return total


# --- Quotas ----------------------------------------------------------------------------------


def quotas_of(study: Study) -> list[Quota]:
    """Every quota of the study with the names its cell shows (one query)."""
    return list(
        db.session.scalars(
            select(Quota)
            .where(Quota.study_id == study.id)
            .options(
                joinedload(Quota.role),
                joinedload(Quota.phase),
                joinedload(Quota.district),
            )
            .order_by(Quota.id)
        )
    )


def grid_targets(study: Study) -> dict[tuple[int, int], int]:
    """The role × phase targets by (role_id, phase_id)."""
    return {(q.role_id, q.phase_id): q.target for q in quotas_of(study) if q.shape == "role_phase"}


def save_grid(study: Study, targets: dict[tuple[int, int], int | None]) -> None:
    """Set the role × phase targets; None removes a cell's quota. Commits.

    Roles and phases must belong to the study (the form only offers those)."""
    role_ids = {role.id for role in sampling.roles_of(study)}
    phase_ids = {phase.id for phase in sampling.phases_of(study)}
    existing = {
        (q.role_id, q.phase_id): q
        for q in db.session.scalars(
            select(Quota).where(
                Quota.study_id == study.id,
                Quota.district_id.is_(None),
                Quota.organisation_kind.is_(None),
            )
        )
    }
    for (role_id, phase_id), target in targets.items():
        if role_id not in role_ids or phase_id not in phase_ids:
            raise QuotaError("That role or phase is not in this study.")
        if target is not None and target < 0:
            raise QuotaError("A target cannot be negative.")
        quota = existing.get((role_id, phase_id))
        if target is None:
            if quota is not None:
                db.session.delete(quota)
        elif quota is None:
            db.session.add(
                Quota(
                    study_id=study.id,
                    role_id=role_id,
                    phase_id=phase_id,
                    cell_key=cell_key(role_id=role_id, phase_id=phase_id),
                    target=target,
                )
            )
        else:
            quota.target = target
    db.session.commit()


def add_finer_quota(
    study: Study,
    target: int,
    *,
    role_id: int | None = None,
    district_id: int | None = None,
    organisation_kind: OrganisationKind | None = None,
    phase_id: int | None = None,
) -> Quota:
    """Set a finer target: role × district, or organisation kind × phase. Commits.

    Setting a target for a cell that has one replaces it."""
    if target < 0:
        raise QuotaError("A target cannot be negative.")
    if role_id is not None and district_id is not None and organisation_kind is None:
        role = db.session.get(Role, role_id)
        district = db.session.get(District, district_id)
        if role is None or district is None or {role.study_id, district.study_id} != {study.id}:
            raise QuotaError("Choose a role and a district of this study.")
        fields = {"role_id": role_id, "district_id": district_id, "phase_id": district.phase_id}
    elif organisation_kind is not None and phase_id is not None and role_id is None:
        phase = db.session.get(Phase, phase_id)
        if phase is None or phase.study_id != study.id:
            raise QuotaError("Choose a phase of this study.")
        fields = {"organisation_kind": OrganisationKind(organisation_kind), "phase_id": phase_id}
    else:
        raise QuotaError("A finer target is for a role and a district, or a kind and a phase.")
    key = cell_key(**fields)
    quota = db.session.scalar(
        select(Quota).where(Quota.study_id == study.id, Quota.cell_key == key)
    )
    if quota is None:
        quota = Quota(study_id=study.id, cell_key=key, target=target, **fields)
        db.session.add(quota)
    else:
        quota.target = target
    db.session.commit()
    return quota


def delete_quota(study: Study, quota_id: int) -> bool:
    """Remove one quota of the study; False if there is none with that id. Commits."""
    quota = db.session.get(Quota, quota_id)
    if quota is None or quota.study_id != study.id:
        return False
    db.session.delete(quota)
    db.session.commit()
    return True


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
class Week:
    """One week (Monday to Sunday, by UTC day) of the progress chart and table."""

    starts_on: dt.date
    #: People whose first interview that counts was held this week.
    held: int
    #: Achieved by the end of this week (past and current weeks).
    cumulative: int
    #: Appointments booked for this week, from today on.
    booked: int
    #: Achieved so far plus everything booked up to the end of this week.
    projected: int
    is_future: bool


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
                    _figures_of(rows.get((q.role_id, q.district_id)), q.target),
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
                    _figures_of(rows.get((kind, q.phase_id)), q.target),
                )
            )
    order = {phase_id: position for position, phase_id in enumerate(phases)}
    return sorted(cells, key=lambda c: (c.shape, order.get(c.phase_id, 0), c.label))


def _as_date(value) -> dt.date:
    """SQLite answers `date()` as text, PostgreSQL as a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _weeks(rows: list, now: dt.datetime) -> list[Week]:
    """Fold the per-day counts of `queries.weekly_rows` into consecutive Monday weeks."""
    held: dict[dt.date, int] = {}
    booked: dict[dt.date, int] = {}
    today = now.date()
    this_week = today - dt.timedelta(days=today.weekday())
    for kind, day, count in rows:
        if day is None:
            continue
        day = _as_date(day)
        monday = day - dt.timedelta(days=day.weekday())
        target = held if kind == "held" else booked
        target[monday] = target.get(monday, 0) + count
    if not held and not booked:
        return []
    first = min([*held, *booked, this_week])
    last = min(max([*held, *booked, this_week]), this_week + dt.timedelta(weeks=MAX_WEEKS_AHEAD))
    weeks: list[Week] = []
    cumulative = 0
    booked_so_far = 0
    monday = first
    while monday <= last:
        cumulative += held.get(monday, 0)
        booked_so_far += booked.get(monday, 0)
        is_future = monday > this_week
        weeks.append(
            Week(
                starts_on=monday,
                held=held.get(monday, 0),
                cumulative=cumulative,
                booked=booked.get(monday, 0),
                projected=cumulative + booked_so_far,
                is_future=is_future,
            )
        )
        monday += dt.timedelta(weeks=1)
    return weeks


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
        (role.id, phase.id): _figures_of(
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
    by_phase = {phase.id: _total(grid[(role.id, phase.id)] for role in roles) for phase in phases}
    by_role = {role.id: _total(grid[(role.id, phase.id)] for phase in phases) for role in roles}
    return Dashboard(
        study=study,
        generated_at=now,
        phases=phases,
        roles=roles,
        grid=grid,
        by_phase=by_phase,
        by_role=by_role,
        overall=_total(by_phase.values()),
        finer=_finer_cells(study, now, quotas, {phase.id: phase for phase in phases}),
        weeks=_weeks(queries.weekly_rows(study.id, now), now),
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
    figures = _figures_of(cell_rows[0] if cell_rows else None, target)
    district_targets = {
        q.district_id: q.target
        for q in quotas
        if q.shape == "role_district" and q.role_id == role_id
    }
    by_district = sorted(
        (
            (row.district_name, _figures_of(row, district_targets.get(row.district_id)))
            for row in queries.figures(study.id, now, ("district_id", "district_name"), where)
        ),
        key=lambda item: item[0],
    )
    by_organisation = sorted(
        (
            (row.organisation_name, _figures_of(row))
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


# --- The progress chart ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    x: float
    width: float
    achieved_y: float
    achieved_height: float
    booked_y: float
    booked_height: float
    label: str
    show_label: bool
    week: Week


@dataclass(frozen=True)
class Chart:
    """Geometry of the inline SVG: cumulative achieved (solid) and booked ahead (hatched) per
    week, against the total target (a line). The table beside it holds the same numbers."""

    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_top: int
    bars: list[ChartBar]
    target_y: float | None
    target: int
    top_value: int


def progress_chart(board: Dashboard, width: int = 640, height: int = 260) -> Chart | None:
    """Lay the weeks out as bars; None when there is nothing to draw yet."""
    if not board.weeks:
        return None
    left, right, top, bottom = 44, 12, 12, height - 34
    plot_width = width - left - right
    plot_height = bottom - top
    highest = max([board.total_target, *(w.projected for w in board.weeks), 1])
    slot = plot_width / len(board.weeks)
    every = max(1, round(len(board.weeks) / 8))

    def y_of(value: int) -> float:
        return round(bottom - plot_height * value / highest, 1)

    bars = []
    for index, week in enumerate(board.weeks):
        achieved_top = y_of(week.cumulative)
        projected_top = y_of(week.projected)
        bars.append(
            ChartBar(
                x=round(left + slot * index + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                achieved_y=achieved_top,
                achieved_height=round(bottom - achieved_top, 1),
                booked_y=projected_top,
                booked_height=round(achieved_top - projected_top, 1),
                label=week.starts_on.strftime("%-d %b"),
                show_label=index % every == 0,
                week=week,
            )
        )
    return Chart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=bottom,
        plot_top=top,
        bars=bars,
        target_y=y_of(board.total_target) if board.total_target else None,
        target=board.total_target,
        top_value=highest,
    )
