"""JSON API of outbox messages: a study's list at /api/v1/studies/{slug}/outbox, one message
at /api/v1/outbox/{id}; the old list (/outbox, every study or ?study=) is deprecated.

Read-only and for coordinators only: a message holds participants' names and addresses, so an
interviewer's token answers 403. The stored MIME text is not served; the outbox page shows it.
The outbox sits below sampling, so studies are found through fieldwork.core.studies.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from fieldwork.api.blueprint import ApiBlueprint, found, page_of
from fieldwork.core.studies import study_of_query_argument, study_or_404
from fieldwork.outbox import listing, schemas
from fieldwork.outbox.models import OutboxMessage

blueprint = ApiBlueprint("outbox_api", __name__, description="Outbox messages, for coordinators.")


@blueprint.before_request
def coordinators_only() -> None:
    """Anonymous callers were answered 401 already; interviewers are refused here."""
    if current_user.is_authenticated and not current_user.is_coordinator:
        abort(403, "Only coordinators can read reminders and outbox messages.")


@blueprint.get("/studies/<slug>/outbox")
@blueprint.arguments(schemas.OutboxArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.OutboxMessagePage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_outbox_messages(slug: str, **arguments: Any) -> dict:
    """List a study's outbox messages

    Newest first: invitations, updates, cancellations, reminders, digests. Coordinators only.
    """
    return page_of(listing.api_message_query(study_or_404(slug).id, arguments), arguments)


@blueprint.get("/outbox")
@blueprint.deprecated
@blueprint.arguments(schemas.OutboxStudyArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.OutboxMessagePage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_outbox_messages_by_query(**arguments: Any) -> dict:
    """List outbox messages (deprecated path)

    Use /studies/{slug}/outbox. Every study's, or one study's with `?study=`. Newest first.
    Coordinators only.
    """
    study = study_of_query_argument(arguments)
    statement = listing.api_message_query(study.id if study else None, arguments)
    return page_of(statement, arguments)


@blueprint.get("/outbox/<id:message_id>")
@blueprint.response(200, schemas.OutboxMessage)
@blueprint.alt_response(403, response="FORBIDDEN")
def get_outbox_message(message_id: int) -> OutboxMessage:
    """Get an outbox message

    Coordinators only.
    """
    return found(listing.get_message(message_id), "outbox message")
