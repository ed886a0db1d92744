"""The shared API toolkit (flask-smorest): the app's `Api`, which generates the OpenAPI
document at /api/v1/openapi.json (`spec`); the one page envelope and error shape, the paging
and search arguments (`schemas`); the base of every domain's API blueprint (`blueprint`);
`Idempotency-Key` on every write (`idempotency`).
Each domain's endpoints live in its own `api.py`, mounted with `spec.register(app, ...)`."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Must run before any domain registers its API blueprint."""
    from fieldwork.api import idempotency, spec, views, writes

    idempotency.init_app(app)
    writes.init_app(app)
    spec.init_app(app)
    spec.register(app, views.blueprint)
    app.register_blueprint(views.pages)
