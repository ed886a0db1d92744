"""Health check and favicon."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_from_directory
from flask_login import current_user
from sqlalchemy import text

from fieldwork.core.time import now_utc
from fieldwork.core.web import public
from fieldwork.extensions import db

blueprint = Blueprint("core", __name__)

#: app.extensions key: name -> callable returning a JSON-able dict for /healthz.
HEALTH_CHECKS = "fieldwork.health_checks"


def register_health_check(app, name: str, check) -> None:
    """Add a section to /healthz; `check()` runs inside the request (a query or two at most)
    and returns a dict; its "problems" (sentences) are what anonymous callers see."""
    app.extensions.setdefault(HEALTH_CHECKS, {})[name] = check


def may_see_health_details() -> bool:
    """Details (dialect, scheduler host and pid, counts) are for a logged-in coordinator or a
    caller with a bearer token: HEALTHZ_TOKEN, or a coordinator's API token."""
    if current_user and current_user.is_authenticated:
        return bool(getattr(current_user, "is_coordinator", False))
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    token = header[len("Bearer ") :].strip()
    expected = str(current_app.config["HEALTHZ_TOKEN"])
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return True
    from fieldwork.accounts.services import user_for_api_token

    user = user_for_api_token(token)
    return user is not None and user.is_coordinator


@blueprint.get("/healthz")
@public
def healthz():
    """ "ok", or what is wrong, for anyone (503 when the database does not answer); the
    figures behind it only for those `may_see_health_details` lets in."""
    try:
        db.session.execute(text("SELECT 1"))
        database = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as error:  # the health check reports, it does not raise
        db.session.rollback()
        database = {"ok": False, "error": error.__class__.__name__}
    problems: list[str] = [] if database["ok"] else ["database: does not answer"]
    details: dict[str, Any] = {"database": database, "time": now_utc().isoformat()}
    if database["ok"]:
        # Each domain that has a state to report registers a check (the scheduler does).
        for name, check in current_app.extensions.get(HEALTH_CHECKS, {}).items():
            try:
                details[name] = check()
            except Exception as error:  # the health check reports, it does not raise
                db.session.rollback()
                details[name] = {"ok": False, "error": error.__class__.__name__}
                problems.append(f"{name}: its check failed")
                continue
            problems.extend(f"{name}: {problem}" for problem in details[name].get("problems", []))
    body: dict = {"status": "ok" if not problems else "error"}
    if problems:
        body["problems"] = problems
    if may_see_health_details():
        body.update(details)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if database["ok"] else 503


@blueprint.get("/favicon.ico")
@public
def favicon():
    return send_from_directory(
        f"{current_app.static_folder}/img", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
