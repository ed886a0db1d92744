"""`flask create-token` (`flask create-user`, which also names studies, is in fieldwork/cli.py)."""

from __future__ import annotations

import click
from flask import Flask

from fieldwork.accounts import services
from fieldwork.accounts.models import TokenScope


def init_app(app: Flask) -> None:
    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--label", default="command line", help="What the token is for.")
    @click.option(
        "--scope",
        type=click.Choice([scope.value for scope in TokenScope]),
        default=TokenScope.WRITE.value,
        show_default=True,
        help="read: the token only reads; write: it reads and changes.",
    )
    def create_token(email: str, label: str, scope: str) -> None:
        """Print a new personal API token for EMAIL (use as `Authorization: Bearer TOKEN`).

        The default scope is write, what this command has always issued: scripts that create
        a token here and then change data keep working. Use --scope read for a reader."""
        user = services.find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with the email {email}.")
        _, token = services.create_api_token(user, label, scope)
        click.echo(token)
