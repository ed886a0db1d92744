"""Health check and favicon."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy import text

from fieldwork.core.time import now_utc
from fieldwork.core.web import public
from fieldwork.extensions import db

blueprint = Blueprint("core", __name__)

#: app.extensions key: name -> callable returning a JSON-able dict for /healthz.
HEALTH_CHECKS = "fieldwork.health_checks"


def register_health_check(app, name: str, check) -> None:
    """Add a section to /healthz; `check()` runs inside the request (a query or two at most)."""
    app.extensions.setdefault(HEALTH_CHECKS, {})[name] = check


@blueprint.get("/healthz")
@public
def healthz():
    """Database state as JSON; 503 when the database does not answer."""
    try:
        db.session.execute(text("SELECT 1"))
        database = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as error:  # the health check reports, it does not raise
        db.session.rollback()
        database = {"ok": False, "error": error.__class__.__name__}
    body = {
        "status": "ok" if database["ok"] else "error",
        "database": database,
        "time": now_utc().isoformat(),
    }
    if database["ok"]:
        # Each domain that has a state to report registers a check (the scheduler does).
        for name, check in current_app.extensions.get(HEALTH_CHECKS, {}).items():
            try:
                body[name] = check()
            except Exception as error:  # the health check reports, it does not raise
                db.session.rollback()
                body[name] = {"ok": False, "error": error.__class__.__name__}
    return jsonify(body), 200 if database["ok"] else 503


@blueprint.get("/favicon.ico")
@public
def favicon():
    return send_from_directory(
        current_app.static_folder + "/img", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
