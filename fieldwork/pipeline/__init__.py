"""After the interview: each held interview's steps (recording, transcription, anonymising,
checking, archiving), their due dates in working days, the board, and what consent undoes."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pipeline's blueprint and listen for withdrawals."""
    from fieldwork import home
    from fieldwork.pipeline import (
        erasure,
        models,  # noqa: F401  (the pipeline's tables join the metadata)
        services,
        views,
    )
    from fieldwork.recruitment.signals import participant_erased, participant_withdrawn

    app.register_blueprint(views.blueprint)
    participant_withdrawn.connect(services.on_participant_withdrawn)
    participant_erased.connect(erasure.on_participant_erased)
    home.register_panel("pipeline_due", 45, ("coordinator", "interviewer"), due_panel)


#: How many due steps the home page lists (the board has them all).
HOME_LIMIT = 8


def due_panel(user, study):
    """The home page's panel: steps overdue or due within five working days, soonest first,
    and the steps a withdrawal asks to undo (interviewers: their own interviews)."""
    from fieldwork import home
    from fieldwork.pipeline import services

    board = services.board(study, user)
    due = services.due_items(board)
    if not due and not board.to_undo:
        return None
    return home.Panel(
        "pipeline/_home_due.html",
        {"due": due[:HOME_LIMIT], "due_total": len(due), "to_undo": board.to_undo},
    )
