"""Error pages: HTML for people, JSON under /api/."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            response = jsonify(error={"code": error.code, "message": error.description})
            response.status_code = error.code or 500
            for name, value in error.get_headers():  # e.g. Allow on a 405
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        try:
            return render_template("errors/error.html", error=error), error.code
        except Exception:  # the error page itself failed: answer plainly rather than loop
            app.logger.exception("Error page failed")
            return f"{error.code} {error.name}", error.code, {"Content-Type": "text/plain"}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("Unhandled error")
        return http_error(InternalServerError())
