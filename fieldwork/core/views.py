"""Health check and favicon."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request, send_from_directory
from flask_login import current_user

from fieldwork.core.health import health_report
from fieldwork.core.time import now_utc
from fieldwork.core.web import public

blueprint = Blueprint("core", __name__)


def may_see_health_details() -> bool:
    """Details (dialect, scheduler host and pid, counts) are for a logged-in coordinator or a
    caller with a bearer token: HEALTHZ_TOKEN, or a coordinator's API token (which the login
    manager's request loader has already made the current user)."""
    if current_user and current_user.is_authenticated:
        return bool(getattr(current_user, "is_coordinator", False))
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    token = header[len("Bearer ") :].strip()
    expected = str(current_app.config["HEALTHZ_TOKEN"])
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


@blueprint.get("/healthz")
@public
def healthz():
    """ "ok", or what is wrong, for anyone (503 when the database does not answer); the
    figures behind it only for those `may_see_health_details` lets in."""
    database_ok, problems, details = health_report()
    details["time"] = now_utc().isoformat()
    body: dict = {"status": "ok" if not problems else "error"}
    if problems:
        body["problems"] = problems
    if may_see_health_details():
        body.update(details)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if database_ok else 503


@blueprint.get("/favicon.ico")
@public
def favicon():
    return send_from_directory(
        f"{current_app.static_folder}/img", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
