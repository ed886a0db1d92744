"""Commands that span domains: `flask demo`, and the set-up `flask run` does on a new database."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import inspect, select

from fieldwork.accounts.models import UserRole
from fieldwork.extensions import db


def launched_by_flask_run() -> bool:
    """True while `flask run` is loading the app (the only path that prepares a database)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.command is not None and context.command.name == "run"


def prepare_development_database(app: Flask) -> None:
    """For `flask run`: bring the schema up to date and give a new database the demo study.

    The one place the app touches the database at start-up; production runs
    `flask db upgrade` as a step of its own and never comes here.
    """
    from flask_migrate import upgrade

    from fieldwork.accounts.models import User
    from fieldwork.demo import DEMO_LOGINS, load_demo_study
    from fieldwork.sampling.models import Study

    with app.app_context():
        is_new = "alembic_version" not in inspect(db.engine).get_table_names()
        upgrade()
        if (
            is_new
            and db.session.scalar(select(Study.id).limit(1)) is None
            and db.session.scalar(select(User.id).limit(1)) is None
        ):
            load_demo_study()
            click.echo(" * New database: loaded the demo study. Demo logins:")
            for login in DEMO_LOGINS:
                click.echo(f"     {login.role:<12} {login.email}  password: {login.password}")


# Long by design: it registers the top-level commands, each a short nested function
# whose click options are its documentation.
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
        from fieldwork.accounts import services
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

    @app.cli.command("demo")
    def demo() -> None:
        """Load the demo study (Provider-Led Pathways to Work) into an empty database."""
        from fieldwork.demo import DEMO_LOGINS, load_demo_study
        from fieldwork.sampling.models import Study

        if db.session.scalar(select(Study.id).limit(1)) is not None:
            raise click.ClickException(
                "The database already holds a study; the demo loads into an empty database only."
            )
        study = load_demo_study()
        click.echo(f"Loaded the demo study '{study.name}'. Demo logins:")
        for login in DEMO_LOGINS:
            click.echo(f"  {login.role:<12} {login.email}  password: {login.password}")

    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    def backup(file: str) -> None:
        """Write every table to FILE (gzip JSON lines), on SQLite or PostgreSQL."""
        from fieldwork.core.backup import write_backup

        summary = write_backup(file)
        click.echo(
            f"Backed up {summary.total} rows in {len(summary.rows)} tables to {file} "
            f"(schema revision {summary.revision})."
        )

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
    def restore(file: str, yes: bool) -> None:
        """Replace ALL data in the database with the backup in FILE."""
        from fieldwork.core.backup import BackupError, restore_backup

        if not yes:
            click.confirm("This replaces every row in the database. Go on?", abort=True)
        try:
            summary = restore_backup(file)
        except BackupError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        click.echo(f"Restored {summary.total} rows in {len(summary.rows)} tables from {file}.")

    if launched_by_flask_run() and not app.testing:
        from fieldwork.reminders.scheduler import start_in_process_scheduler

        prepare_development_database(app)
        start_in_process_scheduler(app)
        say_how_mail_goes(app)


def say_how_mail_goes(app: Flask) -> None:
    """At start: say where mail goes, or that it is kept in the outbox unsent."""
    host = app.config["SMTP_HOST"].strip()
    if host:
        click.echo(f" * Mail: sent through {host}:{app.config['SMTP_PORT']} by the scheduler.")
    else:
        click.echo(
            " * Mail: no mail server configured (SMTP_HOST is empty); messages stay in the "
            'outbox marked "not sent: no mail server configured". See README, Mail settings.'
        )
