"""District pages: the filtered list and a district; adding, editing and deleting one are
built by frame_views.add_record_pages.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import current_app, render_template, request

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
    RecordPages,
    add_record_pages,
    blueprint,
    is_filtered,
    page_number,
)
from fieldwork.sampling.models import District, Study


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
    found = PAGES.found_or_404(district_id)
    return render_template(
        "frame/district.html",
        district=found,
        participants=common.participant_count(found.study_id, district_id=found.id),
    )


def _district_form(current: Study, found: District | None) -> DistrictForm:
    form = DistrictForm(obj=found)
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


def _phase_from_address(form: DistrictForm, current: Study) -> None:
    """The phase page's "add a district" link names its phase."""
    if request.args.get("phase", "").isdigit():
        form.phase_id.data = int(request.args["phase"])


PAGES = RecordPages(
    noun="district",
    list_endpoint="frame.districts",
    list_label="Districts",
    get=district_services.get_district,
    make_form=_district_form,
    fields=_district_fields,
    save=district_services.save_district,
    delete=district_services.delete_district,
    why_not_delete=district_services.why_not_delete_district,
    add_heading=lambda current: "Add a district",
    add_submit="Add district",
    prefill=_phase_from_address,
    delete_consequence="Organisations that cover it will simply stop covering it.",
)
add_record_pages(PAGES)
