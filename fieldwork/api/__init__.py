"""The JSON API under /api/v1/."""

from flask import Flask


def init_app(app: Flask) -> None:
    from fieldwork.api import idempotency, views

    idempotency.init_app(app)
    app.register_blueprint(views.blueprint)
