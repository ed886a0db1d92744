"""Organisation pages: the filtered list and one organisation; adding, editing and deleting
one are built by frame_views.add_record_pages.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import current_app, render_template, request

from fieldwork.core.studies import require_study
from fieldwork.sampling import services
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import organisations as organisation_services
from fieldwork.sampling.frame_forms import (
    OrganisationFilterForm,
    OrganisationForm,
)
from fieldwork.sampling.frame_views import (
    RecordPages,
    add_record_pages,
    blueprint,
    is_filtered,
    page_number,
)
from fieldwork.sampling.models import Organisation, OrganisationKind, Study


@blueprint.get("/organisations")
def organisations():
    current = require_study()
    form = OrganisationFilterForm(request.args)
    form.district.choices = [("", "Any district")] + [
        (d.id, d.name) for d in services.districts_of(current)
    ]
    search, kind, district_id = "", None, None
    if form.validate():
        search = form.q.data or ""
        kind = OrganisationKind(form.kind.data) if form.kind.data else None
        district_id = form.district.data
    page = organisation_services.organisation_page(
        current,
        page_number(),
        current_app.config["PAGE_SIZE"],
        search=search,
        kind=kind,
        district_id=district_id,
    )
    return render_template(
        "frame/organisations.html",
        study=current,
        form=form,
        page=page,
        is_filtered=is_filtered(form),
    )


@blueprint.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    found = PAGES.found_or_404(organisation_id)
    return render_template(
        "frame/organisation.html",
        organisation=found,
        subcontractors=organisation_services.subcontractors_of(found),
        participants=common.participant_count(found.study_id, organisation_id=found.id),
    )


def _organisation_form(current: Study, found: Organisation | None) -> OrganisationForm:
    if found is None:
        form = OrganisationForm()
    else:
        form = OrganisationForm(obj=found, district_ids=[d.id for d in found.districts])
    form.lead_provider_id.choices = [("", "None")] + [
        (o.id, o.name)
        for o in organisation_services.lead_providers_of(current)
        if found is None or o.id != found.id
    ]
    form.district_ids.choices = [
        (d.id, f"{d.name} ({d.phase.name}{', still to be identified' if d.is_placeholder else ''})")
        for d in services.districts_of(current)
    ]
    return form


def _organisation_fields(form: OrganisationForm) -> dict:
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "lead_provider_id": form.lead_provider_id.data,
        "district_ids": form.district_ids.data or [],
        "notes": form.notes.data,
    }


PAGES = RecordPages(
    noun="organisation",
    list_endpoint="frame.organisations",
    list_label="Organisations",
    get=organisation_services.get_organisation,
    make_form=_organisation_form,
    fields=_organisation_fields,
    save=organisation_services.save_organisation,
    delete=organisation_services.delete_organisation,
    why_not_delete=organisation_services.why_not_delete_organisation,
    add_heading=lambda current: "Add an organisation",
    add_submit="Add organisation",
)
add_record_pages(PAGES)
