"""Quotas: the target number of achieved interviews per cell of the sample, and their editing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.core.transactions import delete_row_of_study
from fieldwork.coverage.models import Quota, cell_key
from fieldwork.extensions import db
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import District, OrganisationKind, Phase, Role, Study


class QuotaError(ValueError):
    """A quota that cannot be saved; the message is for the user."""


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
    return {
        (q.role_id, q.phase_id): q.target
        for q in quotas_of(study)
        if q.shape == "role_phase" and q.role_id is not None
    }


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
    fields: dict[str, Any]
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
    """Remove one quota of the study; False if there is none with that id."""
    return delete_row_of_study(Quota, study.id, quota_id)
