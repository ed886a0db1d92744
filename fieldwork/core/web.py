"""What every page shares: template filters, security headers, the public-view marker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from flask import Flask, abort, flash, request
from flask_login import current_user
from flask_wtf import FlaskForm

from fieldwork.core.time import format_in_zone

F = TypeVar("F", bound=Callable)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def public(view: F) -> F:
    """Mark a view as reachable without logging in (login, health, participants' token links)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def viewer_timezone() -> str:
    """The zone the person looking at the page reads times in."""
    # The proxy resolved once: a list page formats a hundred times, each through this.
    user = current_user._get_current_object()
    if user is not None and user.is_authenticated:
        return user.timezone
    from flask import current_app

    return current_app.config["FIELDWORK_TIMEZONE"]


def url_with(**changes: object) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = str(value)
    return request.path + ("?" + urlencode(args) if args else "")


def refuse_nul_characters():
    """NUL cannot be stored in PostgreSQL text: refuse it up front with a 400, not a 500 later."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(
                    400,
                    f"{key.replace(chr(0), '')}: contains a NUL character, which cannot be stored.",
                )
    if "\x00" in request.path:
        abort(404)  # no record's address contains NUL
    return None


def init_app(app: Flask) -> None:
    @app.template_filter("localtime")
    def localtime(value: dt.datetime | None, zone: str | None = None) -> str:
        return format_in_zone(value, zone or viewer_timezone())

    @app.template_filter("longdate")
    def longdate(value: dt.date | None) -> str:
        return value.strftime("%-d %B %Y") if value else ""

    app.jinja_env.globals["url_with"] = url_with
    app.before_request(refuse_nul_characters)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


#: What a resend button's flash says once the message is queued again (outbox and reminders).
SENT_AGAIN_NOTE = (
    "If it was interrupted, it may already have arrived; it keeps its Message-ID, so mail "
    "programs can recognise the copy."
)


def act_on_button(
    form: FlaskForm, action: Callable[[], object], refusal: type[Exception], success: str
) -> bool:
    """A one-button form's POST: 400 when its CSRF token expired, else run `action`, flashing
    `success` or the refusal's own sentence. True when the action went through."""
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    try:
        action()
    except refusal as error:
        flash(str(error), "error")
        return False
    flash(success, "success")
    return True
