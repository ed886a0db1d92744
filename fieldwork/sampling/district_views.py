"""District pages: the filtered list, a district, adding, editing and deleting one.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.sampling import services
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import districts as district_services
from fieldwork.sampling.frame import phases as phase_services
from fieldwork.sampling.frame_forms import (
    DistrictFilterForm,
    DistrictForm,
)
from fieldwork.sampling.frame_views import (
    blueprint,
    delete_flow,
    form_page,
    is_filtered,
    page_number,
    show_error,
)
from fieldwork.sampling.models import Study
from fieldwork.sampling.services import FrameError


def _district_or_404(district_id: int):
    found = district_services.get_district(require_study(), district_id)
    if found is None:
        abort(404)
    return found


@blueprint.get("/districts")
def districts():
    current = require_study()
    phases = phase_services.phase_rows(current)
    form = DistrictFilterForm(request.args)
    form.phase.choices = [("", "Any phase")] + [(row.phase.id, row.phase.name) for row in phases]
    search, phase_id = "", None
    if form.validate():
        search, phase_id = form.q.data or "", form.phase.data
    page = district_services.district_page(
        current, page_number(), current_app.config["PAGE_SIZE"], search=search, phase_id=phase_id
    )
    return render_template(
        "frame/districts.html",
        study=current,
        phases=phases,
        form=form,
        page=page,
        is_filtered=is_filtered(form),
    )


@blueprint.get("/districts/<int:district_id>")
def district(district_id: int):
    found = _district_or_404(district_id)
    return render_template(
        "frame/district.html",
        district=found,
        participants=common.participant_count(found.study_id, district_id=found.id),
    )


def _district_form(current: Study, **kwargs) -> DistrictForm:
    form = DistrictForm(**kwargs)
    form.phase_id.choices = [("", "Choose a phase")] + [
        (p.id, p.name) for p in services.phases_of(current)
    ]
    return form


def _district_fields(form: DistrictForm) -> dict:
    return {
        "name": form.name.data,
        "phase_id": form.phase_id.data,
        "is_placeholder": form.is_placeholder.data,
        "source": form.source.data,
    }


@blueprint.route("/districts/new", methods=["GET", "POST"])
@coordinator_required
def new_district():
    current = require_study()
    form = _district_form(current)
    if request.method == "GET" and request.args.get("phase", "").isdigit():
        form.phase_id.data = int(request.args["phase"])
    if form.validate_on_submit():
        try:
            created = district_services.save_district(current, None, **_district_fields(form))
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.district", district_id=created.id))
    return form_page(
        form,
        heading="Add a district",
        submit="Add district",
        crumbs=[("Districts", url_for("frame.districts"))],
        cancel_url=url_for("frame.districts"),
    )


@blueprint.route("/districts/<int:district_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_district(district_id: int):
    found = _district_or_404(district_id)
    current = require_study()
    form = _district_form(current, obj=found)
    if form.validate_on_submit():
        try:
            saved = district_services.save_district(current, found, **_district_fields(form))
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.district", district_id=saved.id))
    return form_page(
        form,
        heading=f"Edit {found.name}",
        submit="Save",
        crumbs=[
            ("Districts", url_for("frame.districts")),
            (found.name, url_for("frame.district", district_id=found.id)),
        ],
        cancel_url=url_for("frame.district", district_id=found.id),
    )


@blueprint.route("/districts/<int:district_id>/delete", methods=["GET", "POST"])
@coordinator_required
def delete_district(district_id: int):
    found = _district_or_404(district_id)
    return delete_flow(
        found,
        district_services.delete_district,
        district_services.why_not_delete_district,
        url_for("frame.district", district_id=found.id),
        url_for("frame.districts"),
        consequence="Organisations that cover it will simply stop covering it.",
    )
