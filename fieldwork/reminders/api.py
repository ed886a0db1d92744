"""JSON API of reminders: a study's list at /api/v1/studies/{slug}/reminders, one reminder at
/api/v1/reminders/{id}; the old list (/reminders, every study or ?study=) is deprecated. (The
outbox's messages are fieldwork/outbox/api.py.)

Read-only and for coordinators only: a reminder names participants and their addresses, so an
interviewer's token answers 403.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from fieldwork.api.blueprint import ApiBlueprint, found, page_of
from fieldwork.core.studies import study_of_query_argument, study_or_404
from fieldwork.reminders import queries, schemas
from fieldwork.reminders.models import Reminder

blueprint = ApiBlueprint("reminders_api", __name__, description="Reminders, for coordinators.")


@blueprint.before_request
def coordinators_only() -> None:
    """Anonymous callers were answered 401 already; interviewers are refused here."""
    if current_user.is_authenticated and not current_user.is_coordinator:
        abort(403, "Only coordinators can read reminders and outbox messages.")


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
    return page_of(queries.reminder_query(study_of_query_argument(arguments), arguments), arguments)


@blueprint.get("/reminders/<id:reminder_id>")
@blueprint.response(200, schemas.Reminder)
@blueprint.alt_response(403, response="FORBIDDEN")
def get_reminder(reminder_id: int) -> Reminder:
    """Get a reminder

    Coordinators only.
    """
    return found(queries.get_reminder(reminder_id), "reminder")
