"""The rules of recruitment and consent. Every change of a participant's recruitment status
goes through this module, and each change writes an audit event in the same transaction.

Other domains call in here: appointments call `mark_scheduled`, `mark_unscheduled`,
`mark_interviewed` and `has_consent_to_take_part`, and register into `on_withdrawal` to
cancel a withdrawn participant's appointments. An erasure sends the `participant_erased`
signal (fieldwork.recruitment.signals), to which every domain holding a copy of a person's
details subscribes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.storage import compact_storage
from fieldwork.core.time import now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.extensions import db
from fieldwork.recruitment import dispositions
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import (
    AccessAgreement,
    Consent,
    ConsentAnswer,
    ConsentForm,
    ConsentFormVersion,
    ConsentItem,
    ConsentLink,
    ConsentMethod,
    ContactAttempt,
    ContactChannel,
    DataHandling,
    OrganisationAccess,
    Referral,
)
from fieldwork.recruitment.signals import ErasedPerson, participant_erased
from fieldwork.sampling.models import Organisation, Participant, RecruitmentStatus, Study

S = RecruitmentStatus

#: Called with the participant, inside the withdrawal's transaction, before it commits: the
#: appointments package registers here to cancel future appointments. A hook that raises
#: rolls the withdrawal back.
on_withdrawal: list[Callable[[Participant], None]] = []

#: The item whose agreement is consent to take part at all.
TAKE_PART = "take_part"
#: The name an erased participant keeps, so lists and exports still read.
ERASED_NAME = "Erased participant"
#: How long a new online consent link works, unless said otherwise.
CONSENT_LINK_DAYS = 14


class RecruitmentError(ValueError):
    """A change the rules do not allow; the message is for the user."""


class ConsentRequired(RecruitmentError):
    """The interview cannot count: no consent to take part is recorded."""


class PublishedVersionError(RecruitmentError):
    """A published consent form version cannot change."""


# --- Status ----------------------------------------------------------------------------------


def _change_status(
    participant: Participant,
    new_status: RecruitmentStatus,
    actor: User | None,
    reason: str,
    action: str = "participant.status_changed",
    extra: Mapping[str, object] | None = None,
) -> bool:
    """Set the status and write the audit event; no event when nothing changes. No commit."""
    old = participant.status
    if old == new_status and extra is None:
        return False
    participant.status = new_status
    audit.record_event(
        action,
        actor=actor,
        study_id=participant.study_id,
        subject_type="participant",
        subject_id=participant.id,
        participant_id=participant.id,
        before={"status": old.value},
        after={"status": new_status.value, "reason": reason, **(extra or {})},
    )
    return True


def mark_scheduled(participant: Participant, actor: User | None) -> None:
    """An interview was booked: the participant becomes Scheduled. No commit (the booking's
    transaction commits). Interviewed stays Interviewed (a follow-up interview)."""
    if participant.status in (S.WITHDRAWN, S.INELIGIBLE):
        raise RecruitmentError(
            f"{participant.reference} is {participant.status.label.lower()}; "
            "no interview can be booked."
        )
    if participant.status != S.INTERVIEWED:
        _change_status(participant, S.SCHEDULED, actor, "interview booked")


def mark_unscheduled(participant: Participant, actor: User | None) -> None:
    """Their only booking was cancelled: Scheduled goes back to Agreed. No commit."""
    if participant.status == S.SCHEDULED:
        _change_status(participant, S.AGREED, actor, "interview cancelled")


def mark_interviewed(participant: Participant, actor: User | None) -> None:
    """The interview was held. Refused without recorded consent to take part. No commit."""
    if participant.status == S.WITHDRAWN:
        raise RecruitmentError(f"{participant.reference} has withdrawn.")
    if not has_consent_to_take_part(participant):
        raise ConsentRequired(
            f"Record {participant.reference}'s consent to take part before the interview "
            "can be marked as held."
        )
    _change_status(participant, S.INTERVIEWED, actor, "interview held")


def has_consent_to_take_part(participant: Participant) -> bool:
    """True when a consent not withdrawn has the take-part item agreed (one query)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Consent.participant_id == participant.id,
                    Consent.withdrawn_at.is_(None),
                    ConsentAnswer.consent_id == Consent.id,
                    ConsentAnswer.is_agreed.is_(True),
                    ConsentItem.id == ConsentAnswer.item_id,
                    ConsentItem.key == TAKE_PART,
                )
            )
        )
    )


# --- Contact attempts ------------------------------------------------------------------------


def access_of(organisation_id: int) -> OrganisationAccess | None:
    return db.session.scalar(
        select(OrganisationAccess)
        .where(OrganisationAccess.organisation_id == organisation_id)
        .options(joinedload(OrganisationAccess.organisation))
    )


def gatekeeper_warning(participant: Participant) -> str | None:
    """The reason to think twice before contacting this person, or None."""
    access = access_of(participant.organisation_id)
    if access is None or not access.needs_warning:
        return None
    if access.is_do_not_contact:
        return (
            f"{access.organisation.name} is marked do not contact. "
            "Make sure this contact is allowed before you log it."
        )
    return (
        f"{access.organisation.name} has refused to let its staff be approached"
        + (f" (on {access.agreed_on:%-d %B %Y})" if access.agreed_on else "")
        + ". Make sure this contact is allowed before you log it."
    )


def log_contact_attempt(
    participant: Participant,
    actor: User | None,
    *,
    attempted_at: dt.datetime,
    channel: ContactChannel,
    disposition: Disposition,
    note: str = "",
    next_action_on: dt.date | None = None,
) -> ContactAttempt:
    """Record an attempt and move the status by the disposition's rule. Commits.

    A call back always has a date: without one it is due on the next working day after the
    attempt (in the study's zone), so the person never drops off the follow-ups.
    """
    if attempted_at.tzinfo is None:
        raise RecruitmentError("The time of the attempt needs a time zone.")
    if attempted_at > now_utc() + dt.timedelta(minutes=5):
        raise RecruitmentError("A contact attempt cannot be in the future.")
    disposition = Disposition(disposition)
    if disposition == Disposition.CALL_BACK and next_action_on is None:
        zone = ZoneInfo(db.session.get(Study, participant.study_id).timezone)
        next_action_on = next_working_day(attempted_at.astimezone(zone).date())
    attempt = ContactAttempt(
        participant_id=participant.id,
        recorded_by_id=actor.id if actor else None,
        attempted_at=attempted_at,
        channel=ContactChannel(channel),
        disposition=disposition,
        note=(note or "").strip(),
        next_action_on=next_action_on,
    )
    db.session.add(attempt)
    db.session.flush()
    audit.record_event(
        "contact_attempt.logged",
        actor=actor,
        study_id=participant.study_id,
        subject_type="contact_attempt",
        subject_id=attempt.id,
        participant_id=participant.id,
        after={
            "disposition": disposition.value,
            "channel": attempt.channel.value,
            "attempted_at": attempted_at,
            "next_action_on": next_action_on,
            "note": attempt.note,
        },
    )
    new_status = dispositions.next_status(participant.status, disposition)
    _change_status(participant, new_status, actor, f"contact attempt: {disposition.label}")
    db.session.commit()
    return attempt


def next_working_day(day: dt.date) -> dt.date:
    """The first Monday-to-Friday date after `day` (a call back's default date)."""
    following = day + dt.timedelta(days=1)
    while following.weekday() >= 5:
        following += dt.timedelta(days=1)
    return following


def contact_attempts_of(participant: Participant) -> list[ContactAttempt]:
    return list(
        db.session.scalars(
            select(ContactAttempt)
            .where(ContactAttempt.participant_id == participant.id)
            .options(joinedload(ContactAttempt.recorded_by))
            .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc())
        )
    )


def follow_ups_query(study: Study, viewer: User | None, today: dt.date) -> Select:
    """Contact attempts that are each participant's latest and whose next action is due
    (today or earlier), oldest due first, with the participant's frame loaded.

    One query for the rows. Each due attempt is checked to be its participant's latest by a
    correlated lookup on ix_contact_attempt_participant_attempted (one short index probe),
    where a window function numbered every attempt of every participant, sorting them all
    (to disk at 100,000 participants). Withdrawn participants are never followed up.
    """
    newer = aliased(ContactAttempt)
    latest_of_participant = (
        select(newer.id)
        .where(newer.participant_id == ContactAttempt.participant_id)
        .order_by(newer.attempted_at.desc(), newer.id.desc())
        .limit(1)
        .correlate(ContactAttempt)
        .scalar_subquery()
    )
    statement = (
        select(ContactAttempt)
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(
            ContactAttempt.id == latest_of_participant,
            ContactAttempt.next_action_on.is_not(None),
            ContactAttempt.next_action_on <= today,
            Participant.study_id == study.id,
            Participant.status != S.WITHDRAWN,
        )
        .options(
            joinedload(ContactAttempt.participant).joinedload(Participant.organisation),
            joinedload(ContactAttempt.participant).joinedload(Participant.role),
            joinedload(ContactAttempt.participant).joinedload(Participant.district),
            joinedload(ContactAttempt.participant).joinedload(Participant.interviewer),
        )
        .order_by(ContactAttempt.next_action_on, ContactAttempt.attempted_at, ContactAttempt.id)
    )
    if viewer is not None:  # coordinators see their studies' rows, interviewers their own
        statement = statement.where(
            or_(
                Participant.study_id.in_(viewer.coordinated_study_ids),
                Participant.interviewer_id == viewer.id,
            )
        )
    return statement


# --- Organisations as gatekeepers ------------------------------------------------------------


def save_access(organisation: Organisation, actor: User | None, **fields) -> OrganisationAccess:
    """Create or update an organisation's access record. Commits, with an audit event.

    `fields`: contact_name, contact_email, contact_phone, agreement, agreed_on,
    is_do_not_contact, notes.
    """
    access = access_of(organisation.id)
    before = _access_snapshot(access) if access else None
    if access is None:
        access = OrganisationAccess(organisation_id=organisation.id)
        db.session.add(access)
    access.contact_name = (fields.get("contact_name") or "").strip()
    access.contact_email = (fields.get("contact_email") or "").strip().lower()
    access.contact_phone = (fields.get("contact_phone") or "").strip()
    access.agreement = AccessAgreement(fields.get("agreement") or AccessAgreement.UNKNOWN)
    access.agreed_on = fields.get("agreed_on")
    access.is_do_not_contact = bool(fields.get("is_do_not_contact"))
    access.notes = (fields.get("notes") or "").strip()
    db.session.flush()
    after = _access_snapshot(access)
    if before != after:
        audit.record_event(
            "organisation_access.changed",
            actor=actor,
            study_id=organisation.study_id,
            subject_type="organisation",
            subject_id=organisation.id,
            before=before,
            after=after,
        )
    db.session.commit()
    return access


def _access_snapshot(access: OrganisationAccess) -> dict:
    """What the audit keeps of an access record: the decision, not the contact details."""
    return {
        "agreement": AccessAgreement(access.agreement).value,
        "agreed_on": access.agreed_on.isoformat() if access.agreed_on else None,
        "is_do_not_contact": bool(access.is_do_not_contact),
    }


# --- Referrals -------------------------------------------------------------------------------


def find_participant_by_reference(study: Study, reference: str) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(
            Participant.study_id == study.id,
            func.upper(Participant.reference) == reference.strip().upper(),
        )
    )


def record_referral(
    participant: Participant, referred_by: Participant | None, note: str, actor: User | None
) -> Referral:
    """Record who suggested this participant. Commits."""
    if referred_by is not None:
        if referred_by.id == participant.id:
            raise RecruitmentError("A participant cannot refer themselves.")
        if referred_by.study_id != participant.study_id:
            raise RecruitmentError("The referring participant is in another study.")
    referral = Referral(
        participant_id=participant.id,
        referred_by_participant_id=referred_by.id if referred_by else None,
        recorded_by_id=actor.id if actor else None,
        note=(note or "").strip(),
        created_at=now_utc(),
    )
    db.session.add(referral)
    db.session.flush()
    audit.record_event(
        "referral.recorded",
        actor=actor,
        study_id=participant.study_id,
        subject_type="referral",
        subject_id=referral.id,
        participant_id=participant.id,
        after={"referred_by": referred_by.reference if referred_by else None},
    )
    db.session.commit()
    return referral


# --- Consent forms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    """An item as a form or the demo gives it."""

    key: str
    text: str
    is_required: bool = False


#: The four usual items, in order, with a label for the forms.
STANDARD_ITEM_KEYS: dict[str, str] = {
    "take_part": "Take part in the interview",
    "audio_recording": "Audio recording",
    "anonymised_quotes": "Use of anonymised quotations",
    "archiving": "Deposit of the anonymised transcript in a data archive",
}


def _check_items(items: list[ItemSpec]) -> None:
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise RecruitmentError("Each item may appear only once.")
    for item in items:
        if not item.key or len(item.key) > 40:
            raise RecruitmentError("Each item needs a short key.")
        if not item.text.strip():
            raise RecruitmentError(f"The item {item.key} needs a text.")


def create_consent_form(
    study: Study, title: str, text: str, items: list[ItemSpec], actor: User | None
) -> ConsentForm:
    """A new form with a draft version 1. Commits."""
    _check_items(items)
    form = ConsentForm(study_id=study.id, title=title.strip())
    version = ConsentFormVersion(number=1, text=text.strip())
    version.items = _make_items(items)
    form.versions = [version]
    db.session.add(form)
    db.session.flush()
    audit.record_event(
        "consent_form.created",
        actor=actor,
        study_id=study.id,
        subject_type="consent_form",
        subject_id=form.id,
        after={"title": form.title},
    )
    db.session.commit()
    return get_consent_form(form.id, study)  # type: ignore[return-value]


def _make_items(items: list[ItemSpec]) -> list[ConsentItem]:
    return [
        ConsentItem(
            key=item.key, text=item.text.strip(), is_required=item.is_required, position=position
        )
        for position, item in enumerate(items)
    ]


def get_version(version_id: int, study: Study | None = None) -> ConsentFormVersion | None:
    """A version with its form and items; None if absent or of another study."""
    version = db.session.scalar(
        select(ConsentFormVersion)
        .where(ConsentFormVersion.id == version_id)
        .options(joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items))
        .execution_options(populate_existing=True)
    )
    if version is None or (study is not None and version.form.study_id != study.id):
        return None
    return version


def update_draft(
    version: ConsentFormVersion, text: str, items: list[ItemSpec], actor: User | None
) -> ConsentFormVersion:
    """Change a draft's text and items. A published version is refused. Commits."""
    if version.is_published:
        raise PublishedVersionError(
            f"Version {version.number} is published and cannot change; make a new version."
        )
    _check_items(items)
    version.text = text.strip()
    version.items.clear()
    db.session.flush()  # the old items go before new ones take their keys
    version.items.extend(_make_items(items))
    db.session.commit()
    return version


def publish_version(version: ConsentFormVersion, actor: User | None) -> None:
    """Publish a draft; from now on it is fixed. Commits."""
    if version.is_published:
        raise PublishedVersionError(f"Version {version.number} is already published.")
    if not version.text.strip():
        raise RecruitmentError("Write the information text before publishing.")
    if not any(item.key == TAKE_PART and item.is_required for item in version.items):
        raise RecruitmentError(
            "A version needs a required “take part” item before it can be published."
        )
    version.published_at = now_utc()
    study_id = db.session.scalar(
        select(ConsentForm.study_id).where(ConsentForm.id == version.form_id)
    )
    audit.record_event(
        "consent_form.version_published",
        actor=actor,
        study_id=study_id,
        subject_type="consent_form_version",
        subject_id=version.id,
        after={"version": version.number},
    )
    db.session.commit()


def new_draft_from(version: ConsentFormVersion, actor: User | None) -> ConsentFormVersion:
    """Start the next version of a form as a copy of `version`; an open draft is reused.
    Commits."""
    existing = db.session.scalar(
        select(ConsentFormVersion)
        .where(
            ConsentFormVersion.form_id == version.form_id,
            ConsentFormVersion.published_at.is_(None),
        )
        .options(joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items))
    )
    if existing is not None:
        return existing
    number = db.session.scalar(
        select(func.max(ConsentFormVersion.number)).where(
            ConsentFormVersion.form_id == version.form_id
        )
    )
    draft = ConsentFormVersion(form_id=version.form_id, number=(number or 0) + 1, text=version.text)
    draft.items = _make_items(
        [ItemSpec(item.key, item.text, item.is_required) for item in version.items]
    )
    db.session.add(draft)
    db.session.commit()
    return get_version(draft.id)  # type: ignore[return-value]


def consent_forms_of(study: Study) -> list[ConsentForm]:
    """The study's forms with their versions (two queries)."""
    return list(
        db.session.scalars(
            select(ConsentForm)
            .where(ConsentForm.study_id == study.id)
            .options(selectinload(ConsentForm.versions))
            .order_by(ConsentForm.title)
        )
    )


def get_consent_form(form_id: int, study: Study) -> ConsentForm | None:
    return db.session.scalar(
        select(ConsentForm)
        .where(ConsentForm.id == form_id, ConsentForm.study_id == study.id)
        .options(selectinload(ConsentForm.versions).selectinload(ConsentFormVersion.items))
    )


def published_versions(study: Study) -> list[ConsentFormVersion]:
    """Every published version of the study's forms, newest first, with form and items."""
    return list(
        db.session.scalars(
            select(ConsentFormVersion)
            .join(ConsentForm)
            .where(ConsentForm.study_id == study.id, ConsentFormVersion.published_at.is_not(None))
            .options(joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items))
            .order_by(ConsentForm.title, ConsentFormVersion.number.desc())
        )
    )


# --- Consents --------------------------------------------------------------------------------


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
    version = get_version(version.id)  # type: ignore[assignment]  (fresh, with form and items)
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
    given_at = given_at or now_utc()
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
        _change_status(participant, new_status, actor, "consent recorded")
    db.session.commit()
    return consent


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


def withdraw(
    participant: Participant,
    actor: User | None,
    *,
    reason: str = "",
    data_handling: DataHandling = DataHandling.KEEP_ANONYMISED,
    withdrawn_at: dt.datetime | None = None,
) -> None:
    """The participant withdraws: consents are withdrawn, unused consent links revoked, the
    status becomes Withdrawn and the `on_withdrawal` hooks run (cancelling appointments), all
    in one transaction. Commits."""
    lock_participant(participant.id)
    db.session.refresh(participant)
    if participant.status == S.WITHDRAWN:
        db.session.rollback()
        raise RecruitmentError(f"{participant.reference} has already withdrawn.")
    data_handling = DataHandling(data_handling)
    when = withdrawn_at or now_utc()
    reason = (reason or "").strip()
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
    _change_status(
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
    try:
        for hook in list(on_withdrawal):
            hook(participant)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()


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
    attempts = list(
        db.session.scalars(
            select(ContactAttempt).where(ContactAttempt.participant_id == participant.id)
        )
    )
    consents = list(
        db.session.scalars(select(Consent).where(Consent.participant_id == participant.id))
    )
    referrals = list(
        db.session.scalars(
            select(Referral).where(
                or_(
                    Referral.participant_id == participant.id,
                    Referral.referred_by_participant_id == participant.id,
                )
            )
        )
    )
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
            *(a.note for a in attempts),
            *(c.typed_name for c in consents),
            *(c.withdrawal_reason for c in consents),
            *(r.note for r in referrals),
        ),
    )
    participant.name = ERASED_NAME
    participant.email = ""
    participant.phone = ""
    participant.job_title = ""
    participant.notes = ""
    for attempt in attempts:
        attempt.note = ""
    for consent in consents:
        consent.typed_name = ""
        consent.withdrawal_reason = ""
    for referral in referrals:
        referral.note = ""
    now = now_utc()
    for link in db.session.scalars(
        select(ConsentLink).where(
            ConsentLink.participant_id == participant.id, ConsentLink.revoked_at.is_(None)
        )
    ):
        link.revoked_at = now
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
            "contact_attempt_notes": len(attempts),
            "consent_signatures": len(consents),
            "referral_notes": len(referrals),
        },
    )
    try:
        participant_erased.send(participant, person=person)
        db.session.flush()
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    compact_storage()


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


# --- Online consent links --------------------------------------------------------------------


def create_consent_link(
    participant: Participant,
    version: ConsentFormVersion,
    actor: User | None,
    valid_days: int = CONSENT_LINK_DAYS,
    *,
    commit: bool = True,
) -> tuple[ConsentLink, str]:
    """A new private link; returns it and the token, which is shown once. Commits unless
    `commit` is False (the consent request commits it with its email)."""
    version = get_version(version.id)  # type: ignore[assignment]  (fresh, with its form)
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
    if commit:
        db.session.commit()
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


def links_of(participant: Participant) -> list[ConsentLink]:
    return list(
        db.session.scalars(
            select(ConsentLink)
            .where(ConsentLink.participant_id == participant.id)
            .options(joinedload(ConsentLink.version).joinedload(ConsentFormVersion.form))
            .order_by(ConsentLink.created_at.desc(), ConsentLink.id.desc())
        )
    )


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
    db.session.commit()


def lock_participant(participant_id: int) -> None:
    """Hold the participant's row until the transaction ends (see docs/concurrency.md: after
    the interviewer's row, before appointments, links and consents). PostgreSQL: FOR UPDATE;
    SQLite: a no-op UPDATE, which takes the database's write lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Participant.id).where(Participant.id == participant_id).with_for_update()
        )
    else:
        db.session.execute(
            update(Participant).where(Participant.id == participant_id).values(id=Participant.id),
            execution_options={"synchronize_session": False},
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
    return result.rowcount == 1


def give_online_consent(link: ConsentLink, answers: Mapping[str, bool], typed_name: str) -> Consent:
    """The participant consents through their link (which must be open). Commits.

    Twenty submissions at once give one consent: the link is claimed by a conditional UPDATE
    first (the participant's row locked before it), and the others are told it is used."""
    lookup_state = _state_of(link)
    if lookup_state != "open":
        raise RecruitmentError("This link can no longer be used to give consent.")
    lock_participant(link.participant_id)
    if not _claim_consent_link(link):
        db.session.rollback()
        raise RecruitmentError("This link has just been used to give consent.")
    consent = record_consent(
        db.session.get(Participant, link.participant_id),
        get_version(link.version_id),
        method=ConsentMethod.ONLINE,
        answers=answers,
        actor=None,
        typed_name=typed_name,
    )
    link.used_at = consent.given_at
    link.consent_id = consent.id
    db.session.commit()
    return consent


def withdraw_online(link: ConsentLink, reason: str, data_handling: DataHandling) -> None:
    """The participant withdraws through their (used) link. Commits."""
    if _state_of(link) != "used":
        raise RecruitmentError("This link cannot be used to withdraw.")
    participant = db.session.get(Participant, link.participant_id)
    withdraw(participant, None, reason=reason, data_handling=data_handling)


def _state_of(link: ConsentLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now_utc():
        return "expired"
    return "open"


# --- The participant page's panel ------------------------------------------------------------


def referrals_of(participant: Participant) -> dict[str, list[Referral]]:
    """Who referred this participant, and whom they referred (one query)."""
    rows = list(
        db.session.scalars(
            select(Referral)
            .where(
                or_(
                    Referral.participant_id == participant.id,
                    Referral.referred_by_participant_id == participant.id,
                )
            )
            .options(joinedload(Referral.participant), joinedload(Referral.referred_by))
            .order_by(Referral.created_at.desc(), Referral.id.desc())
        )
    )
    return {
        "referred_by": [r for r in rows if r.participant_id == participant.id],
        "referred": [r for r in rows if r.referred_by_participant_id == participant.id],
    }


def recruitment_panel(participant: Participant) -> dict:
    """Everything the participant page's recruitment sections show, in a fixed number of
    queries whatever the history's length."""
    consents = consents_of(participant)
    return {
        "attempts": contact_attempts_of(participant),
        "consents": consents,
        "has_consent_to_take_part": any(
            not c.is_withdrawn and any(a.is_agreed and a.item.key == TAKE_PART for a in c.answers)
            for c in consents
        ),
        "links": links_of(participant),
        "referrals": referrals_of(participant),
        "events": audit.events_for_participant(participant.id),
        "access": access_of(participant.organisation_id),
        "versions": published_versions_for(participant.study_id),
        "is_erased": is_erased(participant),
    }


def published_versions_for(study_id: int) -> list[ConsentFormVersion]:
    return list(
        db.session.scalars(
            select(ConsentFormVersion)
            .join(ConsentForm)
            .where(ConsentForm.study_id == study_id, ConsentFormVersion.published_at.is_not(None))
            .options(joinedload(ConsentFormVersion.form))
            .order_by(ConsentForm.title, ConsentFormVersion.number.desc())
        )
    )
