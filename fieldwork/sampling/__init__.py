"""The sample frame: studies, phases, districts, organisations, roles and participants."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from fieldwork.core.navigation import navigation
from fieldwork.core.studies import current_study, register_study_lookup


def init_app(app: Flask) -> None:
    from fieldwork.api.spec import register
    from fieldwork.sampling import (
        api,
        assignment_views,  # (adds its route to the sampling blueprint)
        bulk,
        district_views,  # noqa: F401  (adds its routes to the frame blueprint)
        frame_views,
        import_cli,
        import_views,
        organisation_views,  # noqa: F401  (adds its routes to the frame blueprint)
        phase_views,  # noqa: F401  (adds its routes to the frame blueprint)
        role_views,  # noqa: F401  (adds its routes to the frame blueprint)
        services,
        views,
    )

    register_study_lookup(services.find_study)
    bulk.register_bulk_action(app, assignment_views.ASSIGN)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(frame_views.blueprint)
    app.register_blueprint(import_views.blueprint)
    register(app, api.blueprint)
    import_cli.init_app(app)

    from fieldwork.recruitment.signals import participant_erased
    from fieldwork.sampling.imports import uploads

    participant_erased.connect(uploads.on_participant_erased)

    @app.context_processor
    def study_context() -> dict:
        if not current_user or not current_user.is_authenticated:
            return {"nav": None, "studies": [], "current_study": None}
        study = current_study()
        # Most people belong to one study, the one shown: the switcher lists it without a query.
        only_this = study is not None and list(current_user.study_roles) == [study.id]
        return {
            "nav": navigation(),
            "studies": [study] if only_this else services.list_studies(),
            "current_study": study,
        }
