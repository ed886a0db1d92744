"""Recruitment and consent: contact log, dispositions, consent forms, online consent,
withdrawal and erasure, organisations as gatekeepers, referrals."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprints and the `recruitment_panel` template global."""
    from fieldwork.api.spec import register
    from fieldwork.recruitment import (
        api,
        cli,
        consent_form_views,  # noqa: F401  (adds the consent form pages to the blueprint)
        contacts,
        list_actions,  # (adds the contact attempts download to the blueprint)
        models,  # noqa: F401  (tables join the metadata)
        panel,
        views,
    )

    app.register_blueprint(views.blueprint)
    register(app, api.blueprint)
    cli.init_app(app)
    list_actions.init_app(app)
    app.jinja_env.globals["recruitment_panel"] = panel.recruitment_panel
    app.jinja_env.globals["organisation_access"] = contacts.access_of

    from fieldwork.recruitment import subscribers

    subscribers.connect()
