"""The pipeline's panel on the home page. The home package registers it (home sits above the
pipeline, so the pipeline never imports it): a panel is a `(template, context)` pair."""

from __future__ import annotations

from fieldwork.accounts.models import User
from fieldwork.pipeline.due import due_steps, to_undo
from fieldwork.sampling.models import Study

#: How many due steps the home page lists (the board has them all).
HOME_LIMIT = 8


def due_panel(user: User, study: Study) -> tuple[str, dict] | None:
    """Steps overdue or due within five working days, soonest first, and the steps a
    withdrawal asks to undo (interviewers: their own interviews); None when there are none.
    Bounded queries: the panel never reads every held interview."""
    due = due_steps(study, user, HOME_LIMIT)
    undo = to_undo(study, user)
    if not due.total and not undo:
        return None
    return (
        "pipeline/_home_due.html",
        {"due": due.items, "due_total": due.total, "to_undo": undo},
    )
