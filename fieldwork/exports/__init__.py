"""The open-data export: a study's fieldwork record as an anonymised Frictionless Data Package,
written by `flask export-datapackage DIR` or downloaded as a zip by a coordinator."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and the `export-datapackage` command."""
    from fieldwork.exports import models, services, views  # noqa: F401 - models: the table
    from fieldwork.exports.package import DatePrecision

    app.register_blueprint(views.blueprint)

    @app.cli.command("export-datapackage")
    @click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
    @click.option(
        "--study",
        "slug",
        metavar="SLUG",
        help="The study to export (needed when there are several).",
    )
    @click.option(
        "--coarsen-dates",
        "coarsen",
        type=click.Choice([DatePrecision.WEEK.value, DatePrecision.MONTH.value]),
        help="Give dates of contacts, consents and interviews to the week (its "
        "Monday) or the month (its first day) only.",
    )
    @click.option(
        "--created",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="The package's date (YYYY-MM-DD); by default the latest date in its "
        "records, so the same record always gives the same files.",
    )
    def export_datapackage(
        directory: str, slug: str | None, coarsen: str | None, created: dt.datetime | None
    ) -> None:
        """Write a study's anonymised fieldwork record as a Frictionless Data Package in DIR.

        Participants whose current consent does not agree to archiving are left out of the
        person-level files; README.md in DIR says how many, and what every code means.
        """
        try:
            study = services.study_to_export(slug)
            package = services.export_to_directory(
                study,
                directory,
                coarsen or DatePrecision.DAY,
                created.replace(tzinfo=dt.UTC) if created else None,
            )
        except services.ExportError as error:
            raise click.ClickException(str(error)) from error
        exclusions = package.exclusions
        click.echo(
            f"Wrote the {study.slug} package to {click.format_filename(directory)}: "
            f"{len(package.tables)} tables and README.md; {exclusions.included} of "
            f"{exclusions.in_frame} participants included, {exclusions.left_out} left out "
            "(no consent to archiving)."
        )
