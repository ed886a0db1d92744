"""After the interview: each held interview's steps (recording, transcription, anonymising,
checking, archiving), their due dates in working days, the board, and what consent undoes.

Modules: `steps` (the study's steps, settings and due dates), `board` (each interview's
progress and the board), `recording` (recording and undoing steps, the upload store),
`figures` (grouped counts for coverage, reports and the export), `panels` (the home page's
panel, which the home package registers).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pipeline's blueprint; mark steps to undo on a withdrawal and blank notes on
    an erasure (recruitment's signals)."""
    from fieldwork.pipeline import (
        erasure,
        models,  # noqa: F401  (the pipeline's tables join the metadata)
        views,
    )
    from fieldwork.pipeline.recording import on_participant_withdrawn
    from fieldwork.recruitment.signals import participant_erased, participant_withdrawn

    app.register_blueprint(views.blueprint)
    participant_withdrawn.connect(on_participant_withdrawn)
    participant_erased.connect(erasure.on_participant_erased)
