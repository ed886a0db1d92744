"""The quotas and coverage resources of the export, from the coverage domain's dashboard.

No figure is computed here: `fieldwork.coverage.services.dashboard` gives every cell's figures
(from the grouped queries of `fieldwork.coverage.queries`) and its rates (from
`fieldwork.coverage.rates`). This module only lays them out as tables with schemas.

Coverage counts every participant of the frame (it is aggregate, not person-level), so it
stays true when people are left out of the person-level resources.
"""

from __future__ import annotations

import datetime as dt

from fieldwork.coverage import rates
from fieldwork.coverage import services as coverage
from fieldwork.coverage.figures import Figures
from fieldwork.exports.package import Field, ForeignKey, Table, count_field
from fieldwork.sampling.models import OrganisationKind, Study

#: The shapes of cell a quota may have, in the order their rows are written.
QUOTA_SHAPES = ("role_phase", "role_district", "kind_phase")
#: What each shape of row is, for the schema.
SHAPE_MEANINGS = {
    "role_phase": "role × phase",
    "role_district": "role × district",
    "kind_phase": "organisation kind × phase",
    "phase_total": "all roles of one phase",
    "overall": "the whole study",
}
#: Participants per bucket, as exported ("booked" and "pipeline" are merged: which of the two
#: a person is in depends on the moment of the export, and the export must not).
BUCKET_COLUMNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("achieved", ("achieved",), "People interviewed, with a consent to take part that counts."),
    (
        "agreed_not_yet_interviewed",
        ("booked", "pipeline"),
        "People who agreed to take part (booked or not) and have no interview that counts yet.",
    ),
    ("approached", ("approached",), "People contacted (or tried) who have not agreed yet."),
    ("not_approached", ("not_approached",), "People in the frame never contacted."),
    (
        "closed",
        ("closed",),
        "People who declined, were ineligible or withdrew, and have no interview that counts.",
    ),
)
#: (column, AAPOR case letter, attribute of `CaseCounts`).
CASE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("cases_interview", "I", "interviews"),
    ("cases_refusal", "R", "refusals"),
    ("cases_non_contact", "NC", "non_contacts"),
    ("cases_other", "O", "others"),
    ("cases_unknown_eligibility", "U", "unknown"),
    ("cases_not_eligible", "NE", "not_eligible"),
)
CASE_MEANINGS = dict(rates.CASE_DEFINITIONS)


def cell_key(
    shape: str,
    role_id: int | None,
    phase_number: int | None,
    district_id: int | None,
    kind: str | None,
) -> str:
    """The cell's name in the package: ids of the package's roles and districts, phase numbers."""
    if shape == "role_district":
        return f"role:{role_id}/district:{district_id}"
    if shape == "kind_phase":
        return f"kind:{kind}/phase:{phase_number}"
    if shape == "phase_total":
        return f"phase:{phase_number}"
    if shape == "overall":
        return "overall"
    return f"role:{role_id}/phase:{phase_number}"


def _cell_fields(shapes: tuple[str, ...]) -> list[Field]:
    return [
        Field(
            "cell",
            "string",
            "The cell's name: role:<role_id>/phase:<phase_number>, "
            "role:<role_id>/district:<district_id>, kind:<organisation_kind>/phase:"
            "<phase_number>"
            + (", phase:<phase_number> or overall." if "overall" in shapes else "."),
            {"required": True, "unique": True},
            "Cell",
        ),
        Field(
            "shape",
            "string",
            "Which kind of cell: "
            + "; ".join(f"{shape} = {SHAPE_MEANINGS[shape]}" for shape in shapes)
            + ".",
            {"required": True, "enum": list(shapes)},
        ),
        Field("role_id", "integer", "The cell's role (empty for other shapes)."),
        Field(
            "phase_number",
            "integer",
            "The cell's phase (for a district cell, the district's phase; empty for overall).",
        ),
        Field("district_id", "integer", "The cell's district (role × district cells only)."),
        Field(
            "organisation_kind",
            "string",
            "The cell's kind of organisation (organisation kind × phase cells only).",
            {"enum": [kind.value for kind in OrganisationKind]},
        ),
    ]


def _cell_foreign_keys() -> tuple[ForeignKey, ...]:
    return (
        ForeignKey(("role_id",), "roles", ("role_id",)),
        ForeignKey(("phase_number",), "phases", ("phase_number",)),
        ForeignKey(("district_id",), "districts", ("district_id",)),
    )


def build(study: Study, as_of: dt.datetime) -> list[Table]:
    """The quotas and coverage tables, from the coverage dashboard's figures. `as_of` is the
    moment the dashboard takes as now (it only tells booked from merely agreed, which the
    export merges, so the files do not depend on it)."""
    cells, totals = _cells(coverage.dashboard(study, as_of))
    return [_quota_table(cells), _coverage_table(cells + totals)]


#: A cell's key (shape, role id, phase number, district id, organisation kind) and figures.
Cell = tuple[tuple, Figures]


def _cells(board: coverage.Dashboard) -> tuple[list[Cell], list[Cell]]:
    """Every cell with figures (role × phase and finer), in file order; then the totals."""
    phase_numbers = {phase.id: phase.number for phase in board.phases}
    cells: list[tuple[tuple, Figures]] = [
        (("role_phase", role_id, phase_numbers[phase_id], None, None), figures)
        for (role_id, phase_id), figures in board.grid.items()
    ]
    cells += [
        (
            (
                finer.shape,
                finer.role_id,
                phase_numbers[finer.phase_id],
                finer.district_id,
                finer.organisation_kind.value if finer.organisation_kind else None,
            ),
            finer.figures,
        )
        for finer in board.finer
    ]
    cells.sort(key=lambda cell: _order(cell[0]))
    totals: list[Cell] = [
        (("phase_total", None, phase.number, None, None), board.by_phase[phase.id])
        for phase in sorted(board.phases, key=lambda phase: phase.number)
    ]
    totals.append((("overall", None, None, None, None), board.overall))
    return cells, totals


def _quota_table(cells: list[Cell]) -> Table:
    """The quotas resource: each cell's target, where it has one."""
    return Table(
        "quotas",
        "Quotas",
        "The number of people the study aimed to interview in each cell of the sample.",
        [
            *_cell_fields(QUOTA_SHAPES),
            count_field("target", "People to interview in the cell."),
        ],
        ("cell",),
        [
            (cell_key(*key), *key, figures.target)
            for key, figures in cells
            if figures.target is not None
        ],
        _cell_foreign_keys(),
    )


def _coverage_table(cells: list[Cell]) -> Table:
    """The coverage resource: every cell's and total's figures and rates."""
    return Table(
        "coverage",
        "Coverage",
        "For every role × phase cell, every finer cell with a quota, each phase and the whole "
        "study: the people of the frame by how far recruitment got, by AAPOR case type, "
        "appointments by outcome, and the rates (see the codebook). Counts every participant, "
        "including those left out of the person-level resources.",
        _coverage_fields(),
        ("cell",),
        [(cell_key(*key), *key, *_figures_row(figures)) for key, figures in cells],
        _cell_foreign_keys(),
    )


def _coverage_fields() -> list[Field]:
    """The coverage resource's fields: the cell, then one per figure and rate."""
    return [
        *_cell_fields((*QUOTA_SHAPES, "phase_total", "overall")),
        count_field("target", "The cell's quota (empty when it has none).", required=False),
        count_field(
            "needed",
            "Interviews still to achieve: target − achieved, never below 0 (empty without "
            "a target).",
            required=False,
        ),
        count_field("participants", "People of the frame in the cell."),
        *(count_field(name, description) for name, _, description in BUCKET_COLUMNS),
        *(
            count_field(name, f"Cases of type {letter}: {CASE_MEANINGS[letter]}")
            for name, letter, _ in CASE_COLUMNS
        ),
        count_field("held_appointments", "Appointments held."),
        count_field("no_show_appointments", "Appointments the participant missed."),
        count_field("late_cancellations", "Appointments cancelled late."),
        *(
            Field(
                name,
                "number",
                f"{label} = {formula}; empty when the denominator is 0.",
                {"minimum": 0, "maximum": 1},
            )
            for name, label, formula in rates.DEFINITIONS
        ),
    ]


def _figures_row(figures: Figures) -> tuple:
    cases = figures.cases
    figure_rates = figures.rates
    return (
        figures.target,
        figures.needed,
        figures.participants,
        *(sum(getattr(figures, name) for name in names) for _, names, _ in BUCKET_COLUMNS),
        *(getattr(cases, attribute) for _, _, attribute in CASE_COLUMNS),
        cases.held_appointments,
        cases.no_show_appointments,
        figures.late_cancellations,
        *(figure_rates[name] for name, _, _ in rates.DEFINITIONS),
    )


def _order(key: tuple) -> tuple:
    shape, role_id, phase_number, district_id, kind = key
    return (
        QUOTA_SHAPES.index(shape),
        role_id or 0,
        phase_number or 0,
        district_id or 0,
        kind or "",
    )
