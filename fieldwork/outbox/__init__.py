"""The outbox: every message the tool sends is recorded here first, and only the outbox
talks SMTP (see services.py for how each message is sent exactly once)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the outbox page (blueprint "outbox") and the models."""
    from fieldwork.outbox import models, smtp, wakeup  # noqa: F401 - registers the table
    from fieldwork.outbox.views import blueprint

    app.config.setdefault("OUTBOX_MAX_ATTEMPTS", 8)
    app.config.setdefault("SMTP_TIMEOUT", smtp.TIMEOUT_SECONDS)
    app.config.setdefault("SMTP_DATA_TIMEOUT", smtp.DATA_TIMEOUT_SECONDS)
    wakeup.install()
    app.register_blueprint(blueprint)

    from fieldwork.outbox import erasure
    from fieldwork.recruitment.signals import participant_erased

    participant_erased.connect(erasure.on_participant_erased)
