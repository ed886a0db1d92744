"""Quota coverage: targets per cell of the sample, the dashboard, gaps, rates, progress."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the dashboard's blueprint and the coverage API's."""
    from fieldwork.api.spec import register
    from fieldwork.coverage import (
        api,
        models,  # noqa: F401  (the quota table joins the metadata)
        views,
    )

    app.register_blueprint(views.blueprint)
    register(app, api.blueprint)
