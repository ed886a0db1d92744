"""`flask import-frame FILE.csv [--study SLUG] [--dry-run]`."""

from __future__ import annotations

import click
from flask import Flask

from fieldwork.sampling import services
from fieldwork.sampling.imports import checks, reader, writer
from fieldwork.sampling.imports.plan import FrameImportError
from fieldwork.sampling.models import Study


def choose_study(slug: str | None) -> Study:
    """The study named by --study, else the only one; a ClickException says what to do."""
    studies = services.list_studies()
    slugs = ", ".join(study.slug for study in studies)
    if slug:
        study = services.get_study_by_slug(slug)
        if study is None:
            raise click.ClickException(
                f"There is no study {slug!r}. Studies: {slugs or 'none yet'}."
            )
        return study
    if not studies:
        raise click.ClickException("There is no study yet: create one, or run `flask demo`.")
    if len(studies) > 1:
        raise click.ClickException(
            f"There are several studies; choose one with --study. Studies: {slugs}."
        )
    return studies[0]


def init_app(app: Flask) -> None:
    """Register the import command."""

    @app.cli.command("import-frame")
    @click.argument(
        "path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, readable=True)
    )
    @click.option(
        "--study",
        "slug",
        metavar="SLUG",
        help="The study to import into (needed when there are several).",
    )
    @click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
    def import_frame(path: str, slug: str | None, dry_run: bool) -> None:
        """Import participants (with their districts and organisations) from a CSV file.

        The columns are described in docs/import-format.md. A file with any problem imports
        nothing: every problem is printed as "line N, column C: message".
        """
        study = choose_study(slug)
        frame = reader.CsvFrame.from_path(path)
        try:
            plan = (
                checks.check_frame(study, frame) if dry_run else writer.import_frame(study, frame)
            )
        except FrameImportError as error:
            raise click.ClickException(str(error)) from error
        if plan.problems:
            for problem in plan.problems:
                click.echo(str(problem), err=True)
            count = len(plan.problems)
            raise click.ClickException(
                f"{click.format_filename(path)} has {count} problem{'s' if count != 1 else ''}; "
                "nothing was imported."
            )
        if dry_run:
            click.echo(
                f"{click.format_filename(path)} is ready to import into {study.slug}: "
                f"{plan.participants_created} new and {plan.participants_updated} updated "
                f"participants, {plan.organisations_created} new organisations, "
                f"{plan.districts_created} new districts. Nothing was imported (--dry-run)."
            )
            return
        result = plan.result
        assert result is not None  # import_frame writes a plan without problems
        click.echo(
            f"Imported {result.total} participants into {study.slug} ({result.created} new, "
            f"{result.updated} updated); {result.organisations_created} new organisations, "
            f"{result.districts_created} new districts."
        )
