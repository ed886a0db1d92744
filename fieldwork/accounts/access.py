"""Who may see what: every page needs a login except those marked public."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable)


def require_login():
    """Before every request: send anonymous visitors to the login page (or 401 for the API)."""
    if request.endpoint is None:
        return None  # 404 and 405 answer as they are
    view = current_app.view_functions.get(request.endpoint)
    if request.endpoint == "static" or getattr(view, "is_public", False):
        return None
    if current_user.is_authenticated:
        return None
    if request.path.startswith("/api/"):
        response = jsonify(error={"code": 401, "message": "Log in or send a bearer token."})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="fieldwork"'
        return response
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def coordinator_required(view: F) -> F:
    """Only coordinators may use this view; others get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_coordinator:
            abort(403, "Only coordinators can do this.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def is_safe_next(target: str | None) -> bool:
    """True for a local path only, so the login page cannot send people elsewhere."""
    return bool(target) and target.startswith("/") and not target.startswith(("//", "/\\"))
