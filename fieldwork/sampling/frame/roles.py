"""Roles: the list, saving and deleting one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.frame.common import (
    FrameFieldError,
    clean_text,
    flush_or_refuse,
    name_taken_message,
    participants_per,
    people_are,
    people_still_using,
    refuse_if,
    refuse_taken_name,
    require_name,
)
from fieldwork.sampling.models import (
    Organisation,
    OrganisationKind,
    Participant,
    Role,
    Study,
)


@dataclass
class RoleRow:
    role: Role
    participants: int


def role_rows(study: Study, search: str = "") -> list[RoleRow]:
    """The study's roles (a short list) with their numbers of participants, in one query."""
    people = participants_per(Participant.role_id, study)
    statement = (
        select(Role, func.coalesce(people.c.n, 0))
        .outerjoin(people, people.c.key == Role.id)
        .where(Role.study_id == study.id)
        .order_by(Role.name, Role.id)
    )
    if search.strip():
        statement = statement.where(Role.name.icontains(search.strip(), autoescape=True))
    return [RoleRow(*row) for row in db.session.execute(statement).all()]


def get_role(study: Study, role_id: int) -> Role | None:
    """A role of `study`; None for another study's, so the page answers 404."""
    return db.session.scalar(select(Role).where(Role.id == role_id, Role.study_id == study.id))


@transaction()
def save_role(
    study: Study,
    role: Role | None,
    *,
    name: str,
    organisation_kind: OrganisationKind | str,
    description: str = "",
) -> Role:
    """Create (role=None) or update a role. Its kind of organisation cannot change while
    participants hold it at organisations of the old kind. Commits."""
    name = require_name(name, "role")
    try:
        kind = OrganisationKind(organisation_kind)
    except ValueError:
        raise FrameFieldError("organisation_kind", "Choose the kind of organisation.")
    refuse_taken_name(Role, study.id, role, name, "role")
    if role is not None and kind != role.organisation_kind:
        mismatched = db.session.scalar(
            select(func.count())
            .select_from(Participant)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .where(Participant.role_id == role.id, Organisation.kind != kind)
        )
        if mismatched:
            raise FrameFieldError(
                "organisation_kind",
                f"{people_are(mismatched)} in this role at organisations whose kind is not "
                f"{kind.label}: give them another role first.",
            )
    if role is None:
        role = Role(study_id=study.id)
        db.session.add(role)
    role.name = name
    role.organisation_kind = kind
    role.description = clean_text(description)
    flush_or_refuse("name", name_taken_message("role", name))
    return role


def why_not_delete_role(role: Role) -> str | None:
    return people_still_using(
        role.study_id, f"still in the role {role.name}", "give them another role", role_id=role.id
    )


@transaction()
def delete_role(role: Role) -> None:
    refuse_if(why_not_delete_role(role))
    db.session.execute(delete(Role).where(Role.id == role.id))
