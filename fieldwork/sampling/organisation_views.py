"""Organisation pages: the filtered list, one organisation, adding, editing, deleting.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.sampling import services
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import organisations as organisation_services
from fieldwork.sampling.frame_forms import (
    OrganisationFilterForm,
    OrganisationForm,
)
from fieldwork.sampling.frame_views import (
    blueprint,
    delete_flow,
    form_page,
    is_filtered,
    page_number,
    show_error,
)
from fieldwork.sampling.models import OrganisationKind, Study
from fieldwork.sampling.services import FrameError


def _organisation_or_404(organisation_id: int):
    found = organisation_services.get_organisation(require_study(), organisation_id)
    if found is None:
        abort(404)
    return found


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
    found = _organisation_or_404(organisation_id)
    return render_template(
        "frame/organisation.html",
        organisation=found,
        subcontractors=organisation_services.subcontractors_of(found),
        participants=common.participant_count(found.study_id, organisation_id=found.id),
    )


def _organisation_form(current: Study, organisation=None, **kwargs) -> OrganisationForm:
    form = OrganisationForm(**kwargs)
    form.lead_provider_id.choices = [("", "None")] + [
        (o.id, o.name)
        for o in organisation_services.lead_providers_of(current)
        if organisation is None or o.id != organisation.id
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


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@coordinator_required
def new_organisation():
    current = require_study()
    form = _organisation_form(current)
    if form.validate_on_submit():
        try:
            created = organisation_services.save_organisation(
                current, None, **_organisation_fields(form)
            )
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.organisation", organisation_id=created.id))
    return form_page(
        form,
        heading="Add an organisation",
        submit="Add organisation",
        crumbs=[("Organisations", url_for("frame.organisations"))],
        cancel_url=url_for("frame.organisations"),
    )


@blueprint.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_organisation(organisation_id: int):
    found = _organisation_or_404(organisation_id)
    current = require_study()
    form = _organisation_form(
        current, found, obj=found, district_ids=[d.id for d in found.districts]
    )
    if form.validate_on_submit():
        try:
            saved = organisation_services.save_organisation(
                current, found, **_organisation_fields(form)
            )
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.organisation", organisation_id=saved.id))
    return form_page(
        form,
        heading=f"Edit {found.name}",
        submit="Save",
        crumbs=[
            ("Organisations", url_for("frame.organisations")),
            (found.name, url_for("frame.organisation", organisation_id=found.id)),
        ],
        cancel_url=url_for("frame.organisation", organisation_id=found.id),
    )


@blueprint.route("/organisations/<int:organisation_id>/delete", methods=["GET", "POST"])
@coordinator_required
def delete_organisation(organisation_id: int):
    found = _organisation_or_404(organisation_id)
    return delete_flow(
        found,
        organisation_services.delete_organisation,
        organisation_services.why_not_delete_organisation,
        url_for("frame.organisation", organisation_id=found.id),
        url_for("frame.organisations"),
    )
