"""Shared building blocks: the UTC column type, the clock, pagination, error pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Template filters, error pages and the health check."""
    from fieldwork.core import errors, views, web

    web.init_app(app)
    errors.init_app(app)
    app.register_blueprint(views.blueprint)
