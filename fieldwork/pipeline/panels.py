"""The pipeline's panel on the home page. The home package registers it (home sits above the
pipeline, so the pipeline never imports it): a panel is a `(template, context)` pair."""

from __future__ import annotations

from fieldwork.accounts.models import User
from fieldwork.pipeline.board import board_of, due_items
from fieldwork.sampling.models import Study

#: How many due steps the home page lists (the board has them all).
HOME_LIMIT = 8


def due_panel(user: User, study: Study) -> tuple[str, dict] | None:
    """Steps overdue or due within five working days, soonest first, and the steps a
    withdrawal asks to undo (interviewers: their own interviews); None when there are none."""
    board = board_of(study, user)
    due = due_items(board)
    if not due and not board.to_undo:
        return None
    return (
        "pipeline/_home_due.html",
        {"due": due[:HOME_LIMIT], "due_total": len(due), "to_undo": board.to_undo},
    )
