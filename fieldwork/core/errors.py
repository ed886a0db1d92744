"""Error pages: HTML for people, JSON under /api/.

Every error first rolls the request's database session back: after a failed statement
(PostgreSQL refuses every further one in that transaction) the error page, which reads the
logged-in user and the navigation, must still render in full.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def roll_back() -> None:
    """Roll the request's session back (or drop it, when its connection is dead)."""
    from fieldwork.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dead connection: drop the session, render anyway
        db.session.remove()


def http_error(error: HTTPException) -> ResponseReturnValue:
    """The answer to any HTTP error: JSON under /api/ ({"error": {"code", "message"}}), else
    the error page. The API toolkit's error handler answers through this too."""
    roll_back()
    if wants_json():
        # An API error may carry more (e.g. a booking's warnings): `details`.
        details = getattr(error, "details", {})
        response = jsonify(error={"code": error.code, "message": error.description, **details})
        response.status_code = error.code or 500
        for name, value in error.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    try:
        return render_template("errors/error.html", error=error), error.code or 500
    except Exception:  # the error page itself failed: answer plainly rather than loop
        current_app.logger.exception("Error page failed")
        return f"{error.code} {error.name}", error.code or 500, {"Content-Type": "text/plain"}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("Unhandled error")
        return http_error(InternalServerError())
