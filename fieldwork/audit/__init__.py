"""The audit trail: who changed what and when, for every domain."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the audit page."""
    from fieldwork.audit import (
        models,  # noqa: F401  (the table joins the metadata)
        views,
    )

    app.register_blueprint(views.blueprint)
