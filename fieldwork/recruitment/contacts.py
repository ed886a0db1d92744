"""Contact attempts, the follow-ups they leave, and organisations as gatekeepers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.orm import aliased, contains_eager, joinedload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment import dispositions
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import (
    AccessAgreement,
    ContactAttempt,
    ContactChannel,
    OrganisationAccess,
)
from fieldwork.recruitment.status import RecruitmentError, S, change_status, lock_participant
from fieldwork.sampling.models import Organisation, Participant, Study


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


@transaction()
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
    # Attempts for one person are written one at a time: a second logger waits here until the
    # first commits, then sees its attempt when it marks the latest (see mark_latest_attempts).
    lock_participant(participant.id)
    if disposition == Disposition.CALL_BACK and next_action_on is None:
        zone = ZoneInfo(db.session.get_one(Study, participant.study_id).timezone)
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
    mark_latest_attempts([participant.id])
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
    change_status(participant, new_status, actor, f"contact attempt: {disposition.label}")
    return attempt


def mark_latest_attempts(participant_ids: Iterable[int] | None = None) -> None:
    """Set `ContactAttempt.is_latest` on each participant's latest attempt and clear it on the
    others: for `participant_ids`, or for everyone (after attempts are written in bulk). No
    commit; one UPDATE.

    The caller holds the participants' rows locked (`log_contact_attempt` does), so two
    attempts logged at once cannot each take itself for the latest. Attempts already loaded
    reload the marker when next read.
    """
    newer = aliased(ContactAttempt)
    latest = (
        select(newer.id)
        .where(newer.participant_id == ContactAttempt.participant_id)
        .order_by(newer.attempted_at.desc(), newer.id.desc())
        .limit(1)
        .correlate(ContactAttempt)
        .scalar_subquery()
    )
    statement = update(ContactAttempt.__table__).values(is_latest=ContactAttempt.id == latest)
    if participant_ids is not None:
        statement = statement.where(ContactAttempt.participant_id.in_(list(participant_ids)))
    # On the session's connection, not through the ORM: the marker only restates the attempts
    # whose writes already changed their study's revision token (fieldwork.core.revisions),
    # where an ORM bulk UPDATE would change every study's token and empty every cache.
    db.session.flush()
    db.session.connection().execute(statement)
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, ContactAttempt):
            db.session.expire(loaded, ["is_latest"])


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

    One query for the rows, read in order from ix_contact_attempt_latest_due (the partial
    index on latest attempts with a next action, kept by `mark_latest_attempts`): no ranking
    or probing of every attempt. Withdrawn participants are never followed up.

    Every row is the study's by the participant it joins (`study` is the viewer's current
    study), so the per-row study guard of `fieldwork.accounts.scoping` is left out: its
    `participant_id IN (every participant of the study)` on the attempts led SQLite to read
    every participant's attempts and sort them, instead of the index in the list's order.
    """
    statement = (
        select(ContactAttempt)
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(
            ContactAttempt.is_latest,
            ContactAttempt.next_action_on.is_not(None),
            ContactAttempt.next_action_on <= today,
            Participant.study_id == study.id,
            Participant.status != S.WITHDRAWN,
        )
        .options(
            contains_eager(ContactAttempt.participant).joinedload(Participant.organisation),
            contains_eager(ContactAttempt.participant).joinedload(Participant.role),
            contains_eager(ContactAttempt.participant).joinedload(Participant.district),
            contains_eager(ContactAttempt.participant).joinedload(Participant.interviewer),
        )
        .order_by(ContactAttempt.next_action_on, ContactAttempt.attempted_at, ContactAttempt.id)
        .execution_options(all_studies=True)
    )
    # Coordinators of the study see everyone's; anyone else only the people assigned to them.
    if viewer is not None and study.id not in viewer.coordinated_study_ids:
        statement = statement.where(Participant.interviewer_id == viewer.id)
    return statement


@transaction()
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
    return access


def _access_snapshot(access: OrganisationAccess) -> dict:
    """What the audit keeps of an access record: the decision, not the contact details."""
    return {
        "agreement": AccessAgreement(access.agreement).value,
        "agreed_on": access.agreed_on.isoformat() if access.agreed_on else None,
        "is_do_not_contact": bool(access.is_do_not_contact),
    }
