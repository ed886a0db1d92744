"""`flask create-user` and `flask create-token`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from fieldwork.accounts import services
from fieldwork.accounts.models import TokenScope, UserRole
from fieldwork.extensions import db


def init_app(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", required=True, help="The person's full name.")
    @click.option("--role", required=True, type=click.Choice([r.value for r in UserRole]))
    @click.option("--password", required=True, help="At least 10 characters, not a common one.")
    @click.option(
        "--study",
        "studies",
        multiple=True,
        metavar="SLUG",
        help="A study the user joins (repeatable); without it, every existing study.",
    )
    @click.option(
        "--administrator/--no-administrator",
        default=None,
        help="Manages studies and users (default: yes for a coordinator).",
    )
    def create_user(
        email: str,
        name: str,
        role: str,
        password: str,
        studies: tuple[str, ...],
        administrator: bool | None,
    ) -> None:
        """Create a user who can log in, a member of the named studies (default: all)."""
        from fieldwork.sampling.models import Study

        everything = db.session.scalars(
            select(Study).order_by(Study.name).execution_options(all_studies=True)
        ).all()
        by_slug = {study.slug: study for study in everything}
        unknown = [slug for slug in studies if slug not in by_slug]
        if unknown:
            known = ", ".join(by_slug) or "none yet"
            raise click.ClickException(
                f"No study with the short name {', '.join(unknown)} (studies: {known})."
            )
        chosen = [by_slug[slug] for slug in dict.fromkeys(studies)] if studies else everything
        try:
            user = services.create_user(
                email,
                name,
                role,
                password,
                study_ids=[study.id for study in chosen],
                is_administrator=(role == "coordinator")
                if administrator is None
                else administrator,
            )
        except services.AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Created {user.role.value} {user.name} <{user.email}>.")
        if chosen:
            scope = "the named studies" if studies else "every existing study"
            click.echo(f"Member, as {user.role.value}, of {scope}:")
            for study in chosen:
                click.echo(f"  {study.slug}  {study.name}")
        else:
            click.echo("No study exists yet, so the user belongs to none.")
        if user.is_administrator:
            click.echo("Administrator: manages studies and users.")

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
