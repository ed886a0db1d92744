"""Recording a participant's consent, and withdrawing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment import dispositions
from fieldwork.recruitment.consent_versions import fresh_version
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentFormVersion,
    ConsentLink,
    ConsentMethod,
    DataHandling,
)
from fieldwork.recruitment.signals import participant_withdrawn
from fieldwork.recruitment.status import (
    TAKE_PART,
    RecruitmentError,
    S,
    change_status,
    lock_participant,
)
from fieldwork.sampling.models import Participant


@transaction()
def record_consent(
    participant: Participant,
    version: ConsentFormVersion,
    *,
    method: ConsentMethod,
    answers: Mapping[str, bool],
    actor: User | None,
    given_at: dt.datetime | None = None,
    typed_name: str = "",
) -> Consent:
    """Record a participant's answers to a published version. Commits.

    Every required item must be agreed (otherwise there is no consent to record); consent to
    take part makes a participant who had not yet agreed Agreed.
    """
    method = ConsentMethod(method)
    version = fresh_version(version)
    given_at = given_at or now_utc()
    _check_consent(participant, version, method, answers, actor, given_at, typed_name)
    consent = Consent(
        participant_id=participant.id,
        version_id=version.id,
        method=method,
        given_at=given_at,
        recorded_by_id=actor.id if actor is not None else None,
        typed_name=typed_name.strip()[:200],
    )
    consent.answers = [
        ConsentAnswer(item_id=item.id, is_agreed=bool(answers.get(item.key)))
        for item in version.items
    ]
    db.session.add(consent)
    db.session.flush()
    audit.record_event(
        "consent.recorded",
        actor=actor,
        study_id=participant.study_id,
        subject_type="consent",
        subject_id=consent.id,
        participant_id=participant.id,
        after={
            "form": version.form.title,
            "version": version.number,
            "method": method.value,
            "given_at": given_at,
            "typed_name": consent.typed_name,
            "answers": {item.key: bool(answers.get(item.key)) for item in version.items},
        },
    )
    if answers.get(TAKE_PART):
        new_status = dispositions.next_status(participant.status, Disposition.AGREED)
        change_status(participant, new_status, actor, "consent recorded")
    return consent


def _check_consent(
    participant: Participant,
    version: ConsentFormVersion,
    method: ConsentMethod,
    answers: Mapping[str, bool],
    actor: User | None,
    given_at: dt.datetime,
    typed_name: str,
) -> None:
    """Refuse (RecruitmentError) a consent that cannot be recorded as given."""
    if participant.status == S.WITHDRAWN:
        raise RecruitmentError(f"{participant.reference} has withdrawn; record no new consent.")
    if not version.is_published:
        raise RecruitmentError("Consent can only be given to a published version.")
    if version.form.study_id != participant.study_id:
        raise RecruitmentError("That consent form belongs to another study.")
    if method == ConsentMethod.ONLINE and not typed_name.strip():
        raise RecruitmentError("Type your full name to sign.")
    if method != ConsentMethod.ONLINE and actor is None:
        raise RecruitmentError(
            "Written or verbal consent is recorded by a member of the study team."
        )
    if given_at > now_utc() + dt.timedelta(minutes=5):
        raise RecruitmentError("Consent cannot be given in the future.")
    unknown = set(answers) - {item.key for item in version.items}
    if unknown:
        raise RecruitmentError(f"Unknown consent items: {', '.join(sorted(unknown))}.")
    missing = [item for item in version.items if item.is_required and not answers.get(item.key)]
    if missing:
        raise RecruitmentError(
            "Without agreement to “" + missing[0].text + "” there is no consent to record."
        )


def consents_of(participant: Participant) -> list[Consent]:
    """A participant's consents, newest first, with version, form, answers and items (one
    query)."""
    return list(
        db.session.scalars(
            select(Consent)
            .where(Consent.participant_id == participant.id)
            .options(
                joinedload(Consent.version).joinedload(ConsentFormVersion.form),
                joinedload(Consent.recorded_by),
                joinedload(Consent.answers).joinedload(ConsentAnswer.item),
            )
            .order_by(Consent.given_at.desc(), Consent.id.desc())
        ).unique()
    )


@transaction()
def withdraw(
    participant: Participant,
    actor: User | None,
    *,
    reason: str = "",
    data_handling: DataHandling = DataHandling.KEEP_ANONYMISED,
    withdrawn_at: dt.datetime | None = None,
) -> None:
    """The participant withdraws: consents are withdrawn, unused consent links revoked, the
    status becomes Withdrawn and `participant_withdrawn` is sent (cancelling appointments), all
    in one transaction. Commits."""
    lock_participant(participant.id)
    db.session.refresh(participant)
    if participant.status == S.WITHDRAWN:
        raise RecruitmentError(f"{participant.reference} has already withdrawn.")
    data_handling = DataHandling(data_handling)
    when = withdrawn_at or now_utc()
    reason = (reason or "").strip()
    _withdraw_consents(participant, actor, when, reason, data_handling)
    change_status(
        participant,
        S.WITHDRAWN,
        actor,
        "withdrawal",
        action="participant.withdrawn",
        extra={
            "withdrawn_at": when.isoformat(),
            "data_handling": data_handling.value,
            "withdrawal_reason": reason,
        },
    )
    participant_withdrawn.send(participant, data_handling=data_handling, actor=actor)


def _withdraw_consents(
    participant: Participant,
    actor: User | None,
    when: dt.datetime,
    reason: str,
    data_handling: DataHandling,
) -> None:
    """Withdraw the participant's consents (each audited) and revoke their unused links."""
    for consent in db.session.scalars(
        select(Consent).where(
            Consent.participant_id == participant.id, Consent.withdrawn_at.is_(None)
        )
    ):
        consent.withdrawn_at = when
        consent.withdrawal_reason = reason
        consent.data_handling = data_handling
        audit.record_event(
            "consent.withdrawn",
            actor=actor,
            study_id=participant.study_id,
            subject_type="consent",
            subject_id=consent.id,
            participant_id=participant.id,
            before={"withdrawn_at": None},
            after={"withdrawn_at": when, "data_handling": data_handling.value},
        )
    for link in db.session.scalars(
        select(ConsentLink).where(
            ConsentLink.participant_id == participant.id,
            ConsentLink.used_at.is_(None),
            ConsentLink.revoked_at.is_(None),
        )
    ):
        link.revoked_at = when
