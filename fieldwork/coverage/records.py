"""The coverage figures as flat records: the CSV download's rows and the API's cell objects,
one per role x phase cell, finer cell, phase total and the overall total."""

from __future__ import annotations

from fieldwork.coverage.figures import Figures
from fieldwork.coverage.services import Dashboard

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
