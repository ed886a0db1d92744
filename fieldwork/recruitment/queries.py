"""The recruitment records the API lists, newest first, each query with its eager loads, and
single records loaded the same way for the answers of writes.

Filters arrive as the API's parsed arguments (absent filters are missing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.recruitment.models import Consent, ConsentAnswer, ConsentFormVersion, ContactAttempt
from fieldwork.sampling.models import Participant, Study


def _contact_attempt_loads():
    return (joinedload(ContactAttempt.participant), joinedload(ContactAttempt.recorded_by))


def _consent_loads():
    return (
        joinedload(Consent.participant),
        joinedload(Consent.recorded_by),
        joinedload(Consent.version).joinedload(ConsentFormVersion.form),
        joinedload(Consent.answers).joinedload(ConsentAnswer.item),
    )


def get_contact_attempt(attempt_id: int) -> ContactAttempt | None:
    """One attempt with what its answer names (a write answers it as the list does)."""
    return db.session.scalar(
        select(ContactAttempt)
        .where(ContactAttempt.id == attempt_id)
        .options(*_contact_attempt_loads())
    )


def get_consent(consent_id: int) -> Consent | None:
    """One consent with its form, answers and people (a write answers it as the list does)."""
    return (
        db.session.scalars(
            select(Consent).where(Consent.id == consent_id).options(*_consent_loads())
        )
        .unique()
        .one_or_none()
    )


def contact_attempt_query(study: Study, filters: Mapping[str, Any]) -> Select:
    """Filters: `participant` (id), `disposition`."""
    statement = (
        select(ContactAttempt)
        .join(Participant, Participant.id == ContactAttempt.participant_id)
        .where(Participant.study_id == study.id)
        .options(*_contact_attempt_loads())
        .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc())
    )
    if filters.get("participant"):
        statement = statement.where(ContactAttempt.participant_id == filters["participant"])
    if filters.get("disposition"):
        statement = statement.where(ContactAttempt.disposition == filters["disposition"])
    return statement


def consent_query(study: Study, filters: Mapping[str, Any]) -> Select:
    """Filters: `participant` (id), `method`."""
    statement = (
        select(Consent)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(Participant.study_id == study.id)
        .options(*_consent_loads())
        .order_by(Consent.given_at.desc(), Consent.id.desc())
    )
    if filters.get("participant"):
        statement = statement.where(Consent.participant_id == filters["participant"])
    if filters.get("method"):
        statement = statement.where(Consent.method == filters["method"])
    return statement


def audit_event_query(study: Study, filters: Mapping[str, Any]) -> Select:
    """Filters: `participant` (id), `action` (e.g. consent.recorded)."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.study_id == study.id)
        .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.participant))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if filters.get("participant"):
        statement = statement.where(AuditEvent.participant_id == filters["participant"])
    action = (filters.get("action") or "").strip()
    if action:
        statement = statement.where(AuditEvent.action == action)
    return statement
