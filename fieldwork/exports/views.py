"""The export page and the zip download (coordinators only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import current_study
from fieldwork.exports import services
from fieldwork.exports.forms import ExportForm, ExportSettingsForm
from fieldwork.exports.models import QUASI_IDENTIFIER_LABELS
from fieldwork.exports.package import DatePrecision
from fieldwork.sampling import services as sampling

blueprint = Blueprint("exports", __name__)


@blueprint.get("/exports")
@coordinator_required
def page():
    """Choose a study and the precision of its dates; a valid choice goes to the download.

    ?study=SLUG alone preselects the study (the study page links here so); the form is
    submitted once `coarsen` is in the query too.
    """
    studies = sampling.list_studies()
    form = ExportForm(request.args)
    form.study.choices = [SelectChoice(study.slug, study.name) for study in studies]
    if not form.study.data:
        current = current_study()
        form.study.data = current.slug if current else None
    if "coarsen" in request.args and form.validate():
        return redirect(
            url_for("exports.download", slug=form.study.data, coarsen=form.coarsen.data)
        )
    return _page(form, studies)


def _page(form: ExportForm, studies, settings_form: ExportSettingsForm | None = None):
    """The export page, with the disclosure settings of the study chosen in `form`."""
    study = sampling.get_study_by_slug(form.study.data) if form.study.data else None
    settings = services.current_settings(study) if study is not None else None
    if settings is not None and settings_form is None:
        settings_form = ExportSettingsForm(
            formdata=None, included=list(settings.included), min_cell_size=settings.min_cell_size
        )
    status = 422 if settings_form is not None and settings_form.errors else 200
    return render_template(
        "exports/page.html",
        form=form,
        studies=studies,
        study=study,
        settings_form=settings_form,
        settings=settings,
        labels=QUASI_IDENTIFIER_LABELS,
    ), status


@blueprint.post("/studies/<slug>/export-settings")
@coordinator_required
def save_settings(slug: str):
    """Store what the study's participants file may show and its minimum cell size."""
    study = sampling.get_study_by_slug(slug)
    if study is None:
        abort(404)
    settings_form = ExportSettingsForm()
    if settings_form.validate():
        try:
            services.save_settings(
                study,
                settings_form.included.data or [],
                settings_form.min_cell_size.data,
                current_user,
            )
        except services.ExportError as error:
            settings_form.included.errors = [str(error)]
        else:
            flash(f"Saved what the export of {study.name} may show about each person.", "success")
            return redirect(url_for("exports.page", study=study.slug))
    studies = sampling.list_studies()
    form = ExportForm(formdata=None, study=study.slug)
    form.study.choices = [SelectChoice(s.slug, s.name) for s in studies]
    return _page(form, studies, settings_form)


@blueprint.get("/studies/<slug>/export.zip")
@coordinator_required
def download(slug: str):
    """The study's Data Package as a zip; ?coarsen=week|month coarsens the dates."""
    study = sampling.get_study_by_slug(slug)
    if study is None:
        abort(404)
    value = request.args.get("coarsen", DatePrecision.DAY.value)
    if value not in {precision.value for precision in DatePrecision}:
        abort(400, "Dates can be coarsened to the week or the month only.")
    archive = services.download_zip(study, value, current_user)
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=services.zip_name(study, value),
    )
