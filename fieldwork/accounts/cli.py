"""`flask create-user` and `flask create-token`."""

from __future__ import annotations

import click
from flask import Flask

from fieldwork.accounts import services
from fieldwork.accounts.models import UserRole


def init_app(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", required=True, help="The person's full name.")
    @click.option("--role", required=True, type=click.Choice([r.value for r in UserRole]))
    @click.option("--password", required=True, help="At least 8 characters.")
    def create_user(email: str, name: str, role: str, password: str) -> None:
        """Create a user who can log in."""
        try:
            user = services.create_user(email, name, role, password)
        except services.AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Created {user.role.value} {user.name} <{user.email}>.")

    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--label", default="command line", help="What the token is for.")
    def create_token(email: str, label: str) -> None:
        """Print a new personal API token for EMAIL (use as `Authorization: Bearer TOKEN`)."""
        user = services.find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with the email {email}.")
        _, token = services.create_api_token(user, label)
        click.echo(token)
