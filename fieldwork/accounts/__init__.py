"""Accounts: people who log in, their roles, and their personal API tokens."""

from __future__ import annotations

from flask import Flask, Request

from fieldwork.extensions import db, login_manager


def init_app(app: Flask) -> None:
    from fieldwork.accounts import access, cli, scoping, services, views  # noqa: F401 (scoping)
    from fieldwork.accounts.models import User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version):
            return None  # password changed since: the session is over
        return user

    @login_manager.request_loader
    def load_user_from_bearer(request: Request) -> User | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return services.user_for_api_token(token.strip())

    app.before_request(access.require_bearer_for_api_writes)
    app.before_request(access.require_login)
    app.register_blueprint(views.blueprint)
    cli.init_app(app)
