"""After the interview: each held interview's steps (recording, transcription, anonymising,
checking, archiving), their due dates in working days, the board, and what consent undoes."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pipeline's blueprint and listen for withdrawals."""
    from fieldwork.pipeline import (
        models,  # noqa: F401  (the pipeline's tables join the metadata)
        services,
        views,
    )
    from fieldwork.recruitment import services as recruitment

    app.register_blueprint(views.blueprint)
    app.config.setdefault("PIPELINE_UPLOADS_ENABLED", False)
    app.config.setdefault("PIPELINE_UPLOAD_MAX_BYTES", services.DEFAULT_UPLOAD_MAX_BYTES)
    if services.on_participant_withdrawn not in recruitment.on_withdrawal:
        recruitment.on_withdrawal.append(services.on_participant_withdrawn)
