"""Quota targets for the demo study (the Provider-Led Pathways case)."""

from __future__ import annotations

from fieldwork.coverage.quotas import save_grid
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import Study

#: People to interview per phase, by role: a mix the design asks for in both phases.
DEMO_TARGETS_PER_PHASE: dict[str, int] = {
    "DWP Contract Manager": 4,
    "JCP Third Party Provision Manager": 8,
    "Lead provider manager": 8,
    "Lead provider adviser": 10,
    "Sub-contractor manager": 6,
}


def load_coverage_demo(study: Study) -> None:
    """Set the demo targets for every phase (roles the study lacks are skipped). Commits."""
    roles = {role.name: role for role in sampling.roles_of(study)}
    phases = sampling.phases_of(study)
    save_grid(
        study,
        {
            (roles[name].id, phase.id): target
            for name, target in DEMO_TARGETS_PER_PHASE.items()
            if name in roles
            for phase in phases
        },
    )
