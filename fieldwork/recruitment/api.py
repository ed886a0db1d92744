"""JSON API of recruitment, for coordinators: contact attempts, consents and audit events of a
study, under /api/v1/studies/{slug}/..., in the page envelope. Interviewers get 403."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from fieldwork.api.blueprint import ApiBlueprint, page_of
from fieldwork.recruitment import queries, schemas
from fieldwork.sampling.api import study_or_404

blueprint = ApiBlueprint(
    "recruitment_api", __name__, description="Recruitment records of a study, for coordinators."
)


@blueprint.before_request
def coordinators_only() -> None:
    """Anonymous callers were answered 401 already; interviewers are refused here."""
    if current_user.is_authenticated and not current_user.is_coordinator:
        abort(403, "Only coordinators can read recruitment records.")


@blueprint.get("/studies/<slug>/contact-attempts")
@blueprint.arguments(schemas.ContactAttemptArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ContactAttemptPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_contact_attempts(slug: str, **arguments: Any) -> dict:
    """List a study's contact attempts

    Newest first. Coordinators only.
    """
    return page_of(queries.contact_attempt_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/consents")
@blueprint.arguments(schemas.ConsentArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ConsentPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_consents(slug: str, **arguments: Any) -> dict:
    """List a study's consents

    Newest first, with each item's answer. Coordinators only.
    """
    return page_of(queries.consent_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/audit-events")
@blueprint.arguments(schemas.AuditEventArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.AuditEventPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_audit_events(slug: str, **arguments: Any) -> dict:
    """List a study's audit events

    Newest first: who changed what, when. Coordinators only.
    """
    return page_of(queries.audit_event_query(study_or_404(slug), arguments), arguments)
