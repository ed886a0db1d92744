"""Private online consent links: created, looked up, claimed once, revoked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent, withdraw
from fieldwork.recruitment.consent_versions import fresh_version
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentFormVersion,
    ConsentLink,
    ConsentMethod,
    DataHandling,
)
from fieldwork.recruitment.status import RecruitmentError, S, lock_participant
from fieldwork.sampling.models import Participant

#: How long a new online consent link works, unless said otherwise.
CONSENT_LINK_DAYS = 14


@transaction()
def create_consent_link(
    participant: Participant,
    version: ConsentFormVersion,
    actor: User | None,
    valid_days: int = CONSENT_LINK_DAYS,
) -> tuple[ConsentLink, str]:
    """A new private link; returns it and the token, which is shown once. Commits (a consent
    request opens the transaction around it, so the link commits with its email)."""
    version = fresh_version(version)
    if participant.status == S.WITHDRAWN:
        raise RecruitmentError(f"{participant.reference} has withdrawn.")
    if not version.is_published:
        raise RecruitmentError("Only a published version can be sent.")
    if version.form.study_id != participant.study_id:
        raise RecruitmentError("That consent form belongs to another study.")
    token = new_token()
    now = now_utc()
    link = ConsentLink(
        token_hash=hash_token(token),
        participant_id=participant.id,
        version_id=version.id,
        created_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + dt.timedelta(days=valid_days),
    )
    db.session.add(link)
    db.session.flush()
    audit.record_event(
        "consent_link.created",
        actor=actor,
        study_id=participant.study_id,
        subject_type="consent_link",
        subject_id=link.id,
        participant_id=participant.id,
        after={"version": version.number, "expires_at": link.expires_at},
    )
    return link, token


@dataclass(frozen=True)
class LinkLookup:
    """What a token leads to. `state`: "open" (consent can be given), "used" (shows what was
    agreed; withdrawal possible), "expired", "revoked" or "unknown"."""

    state: str
    link: ConsentLink | None = None


def find_consent_link(token: str) -> LinkLookup:
    """Resolve a token. A used link keeps working (to see, print or withdraw) until revoked;
    expiry only ends the chance to give consent."""
    if not token or len(token) > 200:
        return LinkLookup("unknown")
    link = db.session.scalar(
        select(ConsentLink)
        .where(ConsentLink.token_hash == hash_token(token))
        .options(
            joinedload(ConsentLink.participant).joinedload(Participant.study),
            joinedload(ConsentLink.version).options(
                joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items)
            ),
            joinedload(ConsentLink.consent)
            .selectinload(Consent.answers)
            .joinedload(ConsentAnswer.item),
        )
    )
    if link is None:
        return LinkLookup("unknown")
    if link.revoked_at is not None:
        return LinkLookup("revoked", link)
    if link.used_at is not None:
        return LinkLookup("used", link)
    if link.expires_at <= now_utc():
        return LinkLookup("expired", link)
    return LinkLookup("open", link)


def get_consent_link(link_id: int) -> ConsentLink | None:
    return db.session.get(ConsentLink, link_id)


def links_of(participant: Participant) -> list[ConsentLink]:
    return list(
        db.session.scalars(
            select(ConsentLink)
            .where(ConsentLink.participant_id == participant.id)
            .options(joinedload(ConsentLink.version).joinedload(ConsentFormVersion.form))
            .order_by(ConsentLink.created_at.desc(), ConsentLink.id.desc())
        )
    )


@transaction()
def revoke_consent_link(link: ConsentLink, actor: User | None) -> None:
    """Stop a link working at once. Commits."""
    if link.revoked_at is not None:
        return
    link.revoked_at = now_utc()
    audit.record_event(
        "consent_link.revoked",
        actor=actor,
        study_id=db.session.scalar(
            select(Participant.study_id).where(Participant.id == link.participant_id)
        ),
        subject_type="consent_link",
        subject_id=link.id,
        participant_id=link.participant_id,
    )


def _claim_consent_link(link: ConsentLink) -> bool:
    """open → used for this request only: a conditional UPDATE that one request wins."""
    now = now_utc()
    result = db.session.execute(
        update(ConsentLink)
        .where(
            ConsentLink.id == link.id,
            ConsentLink.used_at.is_(None),
            ConsentLink.revoked_at.is_(None),
            ConsentLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount == 1


@transaction()
def give_online_consent(link: ConsentLink, answers: Mapping[str, bool], typed_name: str) -> Consent:
    """The participant consents through their link (which must be open). Commits.

    Twenty submissions at once give one consent: the link is claimed by a conditional UPDATE
    first (the participant's row locked before it), and the others are told it is used."""
    lookup_state = _state_of(link)
    if lookup_state != "open":
        raise RecruitmentError("This link can no longer be used to give consent.")
    lock_participant(link.participant_id)
    if not _claim_consent_link(link):
        raise RecruitmentError("This link has just been used to give consent.")
    consent = record_consent(
        db.session.get_one(Participant, link.participant_id),
        db.session.get_one(ConsentFormVersion, link.version_id),
        method=ConsentMethod.ONLINE,
        answers=answers,
        actor=None,
        typed_name=typed_name,
    )
    link.used_at = consent.given_at
    link.consent_id = consent.id
    return consent


def withdraw_online(link: ConsentLink, reason: str, data_handling: DataHandling) -> None:
    """The participant withdraws through their (used) link. Commits."""
    if _state_of(link) != "used":
        raise RecruitmentError("This link cannot be used to withdraw.")
    participant = db.session.get_one(Participant, link.participant_id)
    withdraw(participant, None, reason=reason, data_handling=data_handling)


def _state_of(link: ConsentLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now_utc():
        return "expired"
    return "open"
