"""The export page and the zip download (coordinators only)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from wtforms.fields.choices import SelectChoice

from fieldwork.accounts.access import coordinator_required
from fieldwork.exports import services
from fieldwork.exports.datapackage import DatePrecision
from fieldwork.exports.forms import ExportForm
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
        current = sampling.current_study()
        form.study.data = current.slug if current else None
    if "coarsen" in request.args and form.validate():
        return redirect(
            url_for("exports.download", slug=form.study.data, coarsen=form.coarsen.data)
        )
    return render_template("exports/page.html", form=form, studies=studies)


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
    return send_file(
        services.export_zip(study, value),
        mimetype="application/zip",
        as_attachment=True,
        download_name=services.zip_name(study, value),
    )
