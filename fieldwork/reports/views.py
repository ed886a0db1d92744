"""The weekly report's pages: the report (any week), its PDF, and who gets it by email.

Coordinators only: it is the team's account of the study to its funder.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.downloads import private_download
from fieldwork.core.studies import require_study
from fieldwork.core.time import now_utc
from fieldwork.reports import forms, pdf, services

blueprint = Blueprint("reports", __name__)


def _week_or_redirect(study):
    """The Monday asked for (?week=YYYY-Www), or last finished week; None after a flash."""
    raw = request.args.get("week", "")
    if not raw:
        return services.last_finished_week(study)
    try:
        monday = services.parse_week(raw)
    except services.ReportError as error:
        flash(f"{error} Showing the last finished week.", "error")
        return None
    start, _ = services.week_bounds(study, monday)
    if start > now_utc():
        flash("That week has not started yet. Showing the last finished week.", "error")
        return None
    return monday


@blueprint.get("/reports/weekly")
@coordinator_required
def weekly():
    study = require_study()
    monday = _week_or_redirect(study)
    if monday is None:
        return redirect(url_for("reports.weekly"))
    report = services.weekly_report(study, monday)
    previous = services.week_label(monday - dt.timedelta(days=7))
    following = None
    if monday + dt.timedelta(days=7) <= services.last_finished_week(study) + dt.timedelta(days=7):
        following = services.week_label(monday + dt.timedelta(days=7))
    return render_template(
        "reports/weekly.html",
        study=study,
        report=report.content,
        previous=previous,
        following=following,
    )


@blueprint.get("/reports/weekly.pdf")
@coordinator_required
def weekly_pdf():
    study = require_study()
    monday = _week_or_redirect(study)
    if monday is None:
        return redirect(url_for("reports.weekly"))
    report = services.weekly_report(study, monday)
    filename = f"weekly-report-{study.slug}-{report.week}.pdf"
    return private_download(pdf.render_pdf(report.content), "application/pdf", filename)


@blueprint.route("/reports/settings", methods=["GET", "POST"])
@coordinator_required
def settings():
    study = require_study()
    setting = services.setting_of(study)
    form = forms.RecipientsForm(
        data=None
        if request.method == "POST"
        else {"recipients": setting.recipients, "is_weekly_email": setting.is_weekly_email}
    )
    if form.validate_on_submit():
        try:
            services.save_setting(
                study, form.recipients.data or "", bool(form.is_weekly_email.data), current_user
            )
        except services.ReportError as error:
            form.recipients.errors.append(str(error))
        else:
            flash("Saved who gets the weekly report.", "success")
            return redirect(url_for("reports.settings"))
    status = 422 if form.errors else 200
    return render_template("reports/settings.html", study=study, form=form), status
