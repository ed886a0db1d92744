"""The outbox: every message the tool sends is recorded here first, and only the outbox
talks SMTP (see sending.py for how each message is sent exactly once)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the outbox page (blueprint "outbox"), its API ("outbox_api") and the models."""
    from fieldwork.api.spec import register
    from fieldwork.outbox import api, models, smtp, wakeup  # noqa: F401 - registers the table
    from fieldwork.outbox.views import blueprint

    wakeup.install()
    app.register_blueprint(blueprint)
    register(app, api.blueprint)

    from fieldwork.outbox import erasure
    from fieldwork.recruitment.signals import participant_erased

    participant_erased.connect(erasure.on_participant_erased)

    # Coordinators see on every page what is wrong with the mail: base.html calls this once
    # per page (one query); emails and other templates never do.
    app.jinja_env.globals["mail_attention_for_viewer"] = attention_for_viewer


def attention_for_viewer():
    """The mail banner's counts for a logged-in coordinator's current study, else None."""
    import logging

    from flask import has_request_context
    from flask_login import current_user

    from fieldwork.core.studies import current_study
    from fieldwork.extensions import db
    from fieldwork.outbox.attention import mail_attention

    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return None
    if not getattr(current_user, "is_coordinator", False):
        return None
    try:
        study = current_study()
        return mail_attention([study.id] if study is not None else [])
    except Exception:  # a page must render even when this count cannot be made
        db.session.rollback()
        logging.getLogger(__name__).exception("outbox: the mail banner's query failed")
        return None
