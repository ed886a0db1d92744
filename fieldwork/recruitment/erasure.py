"""Erasing a participant's personal data everywhere while keeping the pseudonymous record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.storage import compact_storage
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import after_commit, transaction
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    Consent,
    ConsentLink,
    ContactAttempt,
    Referral,
)
from fieldwork.recruitment.signals import ErasedPerson, participant_erased
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.sampling.models import Participant, Study

#: The name an erased participant keeps, so lists and exports still read.
ERASED_NAME = "Erased participant"


# At the limit: the participant's own rows blanked in one place, so that nothing
# personal is missed before `participant_erased` is sent.
@transaction()
def erase_personal_data(participant: Participant, actor: User | None) -> None:
    """Remove the participant's personal data everywhere while keeping the pseudonymous
    reference, role, district, organisation, status and the dated events, so coverage
    figures stay true. Commits.

    The participant's own rows are blanked here; then `participant_erased` is sent in the same
    transaction, and every domain that keeps a copy (outbox messages, appointments and booking
    links, reminders, audit payloads, uploaded import files) removes it. A receiver that fails
    rolls everything back. After the commit, `compact_storage` overwrites the free space the
    old values occupied (SQLite).
    """
    if is_erased(participant):
        raise RecruitmentError(f"{participant.reference}'s personal data is already erased.")
    rows = _PersonalRows.of(participant)
    person = ErasedPerson(
        participant_id=participant.id,
        study_id=participant.study_id,
        reference=participant.reference,
        name=(participant.name or "").strip(),
        email=(participant.email or "").strip().lower(),
        phone=(participant.phone or "").strip(),
        values=_erased_values(
            participant.name,
            participant.email,
            participant.phone,
            participant.job_title,
            participant.notes,
            *rows.values(),
        ),
    )
    participant.name = ERASED_NAME
    participant.email = ""
    participant.phone = ""
    participant.job_title = ""
    participant.notes = ""
    rows.blank()
    _revoke_links(participant)
    db.session.flush()
    audit.scrub_participant_events(
        participant.id,
        person.values,
        study_id=participant.study_id,
        identifying=[person.name, person.email, person.phone],
    )
    audit.record_event(
        "participant.erased",
        actor=actor,
        study_id=participant.study_id,
        subject_type="participant",
        subject_id=participant.id,
        participant_id=participant.id,
        after={
            "erased": ["name", "email", "phone", "job_title", "notes"],
            "contact_attempt_notes": len(rows.attempts),
            "consent_signatures": len(rows.consents),
            "referral_notes": len(rows.referrals),
        },
    )
    participant_erased.send(participant, person=person)
    db.session.flush()
    after_commit(compact_storage)


def _revoke_links(participant: Participant) -> None:
    """Every consent link of the participant stops working (used ones too)."""
    now = now_utc()
    for link in db.session.scalars(
        select(ConsentLink).where(
            ConsentLink.participant_id == participant.id, ConsentLink.revoked_at.is_(None)
        )
    ):
        link.revoked_at = now


@dataclass
class _PersonalRows:
    """A participant's own rows that hold free text about them."""

    attempts: list[ContactAttempt]
    consents: list[Consent]
    referrals: list[Referral]

    @classmethod
    def of(cls, participant: Participant) -> _PersonalRows:
        attempts = db.session.scalars(
            select(ContactAttempt).where(ContactAttempt.participant_id == participant.id)
        )
        consents = db.session.scalars(
            select(Consent).where(Consent.participant_id == participant.id)
        )
        referrals = db.session.scalars(
            select(Referral).where(
                or_(
                    Referral.participant_id == participant.id,
                    Referral.referred_by_participant_id == participant.id,
                )
            )
        )
        return cls(list(attempts), list(consents), list(referrals))

    def values(self) -> list[str | None]:
        """Contact notes, consent signatures and withdrawal reasons, referral notes."""
        return [
            *(a.note for a in self.attempts),
            *(c.typed_name for c in self.consents),
            *(c.withdrawal_reason for c in self.consents),
            *(r.note for r in self.referrals),
        ]

    def blank(self) -> None:
        for attempt in self.attempts:
            attempt.note = ""
        for consent in self.consents:
            consent.typed_name = ""
            consent.withdrawal_reason = ""
        for referral in self.referrals:
            referral.note = ""


def _erased_values(*values: str | None) -> tuple[str, ...]:
    """The distinct non-empty values, longest first (so a full name goes before a part)."""
    cleaned = {value.strip() for value in values if value and value.strip()}
    return tuple(sorted(cleaned, key=lambda value: (-len(value), value)))


def participants_with_reference(reference: str, study_slug: str = "") -> list[Participant]:
    """The participants with this pseudonymous reference (in one study when a slug is given)."""
    statement = select(Participant).where(Participant.reference == reference.strip())
    if study_slug:
        statement = statement.join(Study, Study.id == Participant.study_id).where(
            Study.slug == study_slug
        )
    return list(db.session.scalars(statement.order_by(Participant.id)))


def is_erased(participant: Participant) -> bool:
    return participant.name == ERASED_NAME and not participant.email
