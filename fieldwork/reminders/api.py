"""JSON API of reminders and outbox messages: lists under /api/v1/studies/{slug}/reminders and
/api/v1/studies/{slug}/outbox, single items at /api/v1/reminders/{id} and /api/v1/outbox/{id};
the old lists (/reminders, /outbox, every study or ?study=) are deprecated.

Read-only and for coordinators only: a message holds participants' names and addresses, so an
interviewer's token answers 403. The stored MIME text is not served; the outbox page shows it.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from fieldwork.api.blueprint import ApiBlueprint, found, page_of
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reminders import queries, schemas
from fieldwork.reminders.models import Reminder
from fieldwork.sampling.api import study_or_404
from fieldwork.sampling.models import Study
from fieldwork.sampling.queries import get_study

blueprint = ApiBlueprint(
    "reminders_api", __name__, description="Reminders and outbox messages, for coordinators."
)


@blueprint.before_request
def coordinators_only() -> None:
    """Anonymous callers were answered 401 already; interviewers are refused here."""
    if current_user.is_authenticated and not current_user.is_coordinator:
        abort(403, "Only coordinators can read reminders and outbox messages.")


def _named_study(arguments: dict[str, Any]) -> Study | None:
    """The deprecated lists' `?study=`: None for every study; 400 for an unknown slug."""
    slug = arguments.pop("study", None)
    if slug is None:
        return None
    study = get_study(slug)
    if study is None:
        raise BadRequest("study: no study has that slug.")
    return study


@blueprint.get("/studies/<slug>/reminders")
@blueprint.arguments(schemas.ReminderArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ReminderPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_reminders(slug: str, **arguments: Any) -> dict:
    """List a study's reminders

    Latest due first. Coordinators only.
    """
    return page_of(queries.reminder_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/reminders")
@blueprint.deprecated
@blueprint.arguments(schemas.ReminderStudyArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ReminderPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_reminders_by_query(**arguments: Any) -> dict:
    """List reminders (deprecated path)

    Use /studies/{slug}/reminders. Every study's, or one study's with `?study=`. Latest due
    first. Coordinators only.
    """
    return page_of(queries.reminder_query(_named_study(arguments), arguments), arguments)


@blueprint.get("/reminders/<id:reminder_id>")
@blueprint.response(200, schemas.Reminder)
@blueprint.alt_response(403, response="FORBIDDEN")
def get_reminder(reminder_id: int) -> Reminder:
    """Get a reminder

    Coordinators only.
    """
    return found(queries.get_reminder(reminder_id), "reminder")


@blueprint.get("/studies/<slug>/outbox")
@blueprint.arguments(schemas.OutboxArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.OutboxMessagePage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_outbox_messages(slug: str, **arguments: Any) -> dict:
    """List a study's outbox messages

    Newest first: invitations, updates, cancellations, reminders, digests. Coordinators only.
    """
    return page_of(queries.outbox_query(study_or_404(slug), arguments), arguments)


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
    return page_of(queries.outbox_query(_named_study(arguments), arguments), arguments)


@blueprint.get("/outbox/<id:message_id>")
@blueprint.response(200, schemas.OutboxMessage)
@blueprint.alt_response(403, response="FORBIDDEN")
def get_outbox_message(message_id: int) -> OutboxMessage:
    """Get an outbox message

    Coordinators only.
    """
    return found(queries.get_outbox_message(message_id), "outbox message")
