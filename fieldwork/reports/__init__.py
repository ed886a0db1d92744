"""The funder's weekly report: a page, a PDF, a weekly email, and `flask weekly-report`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click
from flask import Flask


def _isodate(value: str | None) -> str:
    """An ISO date from the report's content as people read it: 23 November 2026."""
    if not value:
        return ""
    return dt.date.fromisoformat(value[:10]).strftime("%-d %B %Y")


def _isotime(value: str | None, zone: str) -> str:
    """An ISO moment from the report's content in the study's zone, the zone named."""
    if not value:
        return ""
    local = dt.datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
    return local.strftime("%-d %B %Y, %H:%M ") + f"{local.tzname()} ({zone})"


def init_app(app: Flask) -> None:
    """Register the pages, the template filters and the `weekly-report` command."""
    from fieldwork.reports import (
        models,  # noqa: F401  (the report tables join the metadata)
        views,
    )

    app.register_blueprint(views.blueprint)
    app.add_template_filter(_isodate, "isodate")

    from fieldwork.core.jobs import register_job
    from fieldwork.reports import jobs

    register_job(
        app, "weekly-report", jobs.send_weekly_reports, every="SCHEDULER_WEEKLY_REPORT_SECONDS"
    )
    app.add_template_filter(_isotime, "isotime")

    @app.cli.command("weekly-report")
    @click.argument("out", metavar="OUT.pdf", type=click.Path(dir_okay=False, writable=True))
    @click.option(
        "--study", "slug", metavar="SLUG", help="The study (needed when there are several)."
    )
    @click.option(
        "--week",
        metavar="YYYY-Www",
        help="The ISO week, e.g. 2026-W48; by default the last week that has ended.",
    )
    def weekly_report(out: str, slug: str | None, week: str | None) -> None:
        """Write the funder's weekly progress report of a study as a PDF."""
        from fieldwork.reports import pdf, services

        try:
            study = services.study_named(slug)
            monday = services.parse_week(week) if week else services.last_finished_week(study)
            report = services.weekly_report(study, monday)
        except services.ReportError as error:
            raise click.ClickException(str(error)) from error
        with open(out, "wb") as handle:
            handle.write(pdf.render_pdf(report.content))
        state = (
            "provisional (the week is not over)"
            if report.content["is_provisional"]
            else ("as kept when first made after the week ended")
        )
        click.echo(
            f"Wrote the {study.slug} report for {report.week} to {click.format_filename(out)}: "
            f"{report.content['overall']['achieved']} achieved of "
            f"{report.content['overall']['target'] or 0}; figures {state}."
        )
