"""Adding and changing one participant from outside the pages (the JSON API), by the import's
rules: the same checks a row of an import passes (`imports.participant_check`), made under the
study's lock so that two writes cannot both take one email, and audited.

The pages' participant form keeps its own validation (WTForms); both save through
`services.save_participant`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import is_valid_timezone
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.imports.participant_check import (
    FieldError,
    ParticipantFields,
    check_participant,
)
from fieldwork.sampling.models import District, Organisation, Participant, Role, Study
from fieldwork.sampling.services import lock_study, save_participant

#: What a participant's writer may set, as the API names it.
FIELDS = (
    "name",
    "email",
    "phone",
    "job_title",
    "role_id",
    "organisation_id",
    "district_id",
    "notes",
    "timezone",
    "interviewer_id",
)
#: What the audit trail shows of a change (never the notes' text: it may be long).
_AUDITED = ("name", "email", "phone", "job_title", "role_id", "organisation_id", "district_id")


class ParticipantRefused(ValueError):
    """The values break the import's rules; nothing was saved. `errors` says which and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors


class ParticipantErased(ValueError):
    """An erased participant's details are not filled in again."""


def _values_of(participant: Participant) -> dict[str, Any]:
    return {name: getattr(participant, name) for name in FIELDS}


def _check(
    study: Study, values: Mapping[str, Any], participant: Participant | None
) -> list[FieldError]:
    fields = ParticipantFields(
        name=values.get("name") or "",
        role_id=values.get("role_id"),
        organisation_id=values.get("organisation_id"),
        district_id=values.get("district_id"),
        email=values.get("email") or "",
        phone=values.get("phone") or "",
        job_title=values.get("job_title") or "",
        notes=values.get("notes") or "",
        interviewer_id=values.get("interviewer_id"),
    )
    errors = check_participant(study, fields, participant)
    zone = values.get("timezone") or ""
    if zone and not is_valid_timezone(zone):
        errors.append(FieldError("timezone", f"{zone} is not an IANA time zone."))
    return errors


def _save(
    study: Study, participant: Participant | None, values: Mapping[str, Any], actor: User | None
) -> Participant:
    """Check under the study's lock, then save and audit, in one transaction."""
    with transaction():
        lock_study(study.id)
        errors = _check(study, values, participant)
        if errors:
            raise ParticipantRefused(errors)
        before = _values_of(participant) if participant is not None else None
        interviewer_id = values.get("interviewer_id")
        saved = save_participant(
            study,
            participant,
            organisation=db.session.get(Organisation, values["organisation_id"]),
            role=db.session.get(Role, values["role_id"]),
            district=db.session.get(District, values["district_id"]),
            interviewer=db.session.get(User, interviewer_id) if interviewer_id else None,
            name=values.get("name") or "",
            job_title=values.get("job_title") or "",
            email=values.get("email") or "",
            phone=values.get("phone") or "",
            notes=values.get("notes") or "",
            timezone=values.get("timezone") or "",
        )
        db.session.flush()
        after = _values_of(saved)
        changed = [name for name in _AUDITED if before is None or before[name] != after[name]]
        audit.record_event(
            "participant.created" if before is None else "participant.updated",
            actor=actor,
            study_id=study.id,
            subject_type="participant",
            subject_id=saved.id,
            participant_id=saved.id,
            before={name: before[name] for name in changed} if before else None,
            after={name: after[name] for name in changed},
        )
    return saved


def create_participant(study: Study, values: Mapping[str, Any], actor: User | None) -> Participant:
    """Add a participant from `values` (keys in FIELDS; absent means empty). Commits.
    Raises ParticipantRefused."""
    return _save(study, None, values, actor)


def update_participant(
    participant: Participant, changes: Mapping[str, Any], actor: User | None
) -> Participant:
    """Change the fields named in `changes` (the others stay), by the same rules. Commits.
    Raises ParticipantRefused, or ParticipantErased for a participant whose details were
    erased (filling them in again would undo the erasure)."""
    if participant.is_erased:
        raise ParticipantErased(
            f"{participant.reference}'s personal details were erased; they are not filled in "
            "again. Add the person anew if they join the study again."
        )
    study = db.session.get_one(Study, participant.study_id)
    return _save(study, participant, {**_values_of(participant), **changes}, actor)
