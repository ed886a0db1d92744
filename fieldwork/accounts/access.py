"""Who may see what: every page needs a login except those marked public."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeGuard, TypeVar

from flask import abort, current_app, g, jsonify, redirect, request, url_for
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
        return api_error(401, "Log in or send a bearer token.")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


#: Methods that change nothing; every other method under /api/ is a write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def api_error(code: int, message: str):
    """The API's error answer: `{"error": {"code", "message"}}` (401 names the scheme)."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fieldwork"'
    return response


def require_bearer_for_api_writes():
    """Before every request: an API write acts for the owner of a valid bearer token with the
    write scope, and only for them. A session cookie never authorises a write, whatever header
    comes with it (the API is exempt from CSRF because of this rule); a read-only token is
    refused with 403."""
    if not request.path.startswith("/api/") or request.method in READ_METHODS:
        return None
    if request.endpoint is None:
        return None  # 404 and 405 answer as they are
    from fieldwork.accounts.services import live_api_token

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    row = live_api_token(token.strip()) if scheme.lower() == "bearer" else None
    if row is None:
        return api_error(
            401,
            "Changes through the API need a valid personal API token in "
            "`Authorization: Bearer <token>`; a browser session is not accepted for them.",
        )
    if not row.can_write:
        return api_error(
            403,
            "This API token may only read. Create a token that may read and write on your "
            "account page (or with `flask create-token --scope write`) to make changes.",
        )
    g._login_user = row.user  # the token's owner acts, never the cookie's
    return None


def coordinator_required(view: F) -> F:
    """Only coordinators may use this view; others get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_coordinator:
            abort(403, "Only coordinators can do this.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def administrator_required(view: F) -> F:
    """Only installation administrators (who manage studies and users) may use this view."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_administrator:
            abort(403, "Only administrators can do this.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """True for a local path only, so the login page cannot send people elsewhere."""
    return target is not None and target.startswith("/") and not target.startswith(("//", "/\\"))
