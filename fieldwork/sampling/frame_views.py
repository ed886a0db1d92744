"""Pages for studies, phases, districts, organisations and roles.

Everything but the study pages belongs to the current study: a record of another study asked
for by id answers 404. Anyone logged in may read; only coordinators may change.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from fieldwork.accounts import services as accounts
from fieldwork.accounts.access import administrator_required, coordinator_required
from fieldwork.core.pagination import parse_page_number
from fieldwork.extensions import db
from fieldwork.sampling import services
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import districts as district_services
from fieldwork.sampling.frame import organisations as organisation_services
from fieldwork.sampling.frame import phases as phase_services
from fieldwork.sampling.frame import roles as role_services
from fieldwork.sampling.frame import studies as study_services
from fieldwork.sampling.frame_forms import (
    DeleteStudyForm,
    DistrictFilterForm,
    DistrictForm,
    NameSearchForm,
    OrganisationFilterForm,
    OrganisationForm,
    PhaseForm,
    RoleForm,
    StudyForm,
)
from fieldwork.sampling.models import OrganisationKind, Study
from fieldwork.sampling.services import FrameError
from fieldwork.sampling.views import require_study

blueprint = Blueprint("frame", __name__)


def _show_error(form: FlaskForm, error: FrameError) -> None:
    """Put a service's refusal beside the field it names, or above the form."""
    db.session.rollback()
    field = getattr(form, getattr(error, "field", "") or "", None)
    if field is None:
        form.form_errors.append(str(error))
    else:
        field.errors = [*field.errors, str(error)]


def _form_page(form: FlaskForm, **context):
    """The shared form page; 422 when it shows errors, as the participant pages do."""
    return render_template("frame/form.html", form=form, **context), (422 if form.errors else 200)


def _confirm_delete(
    what: str, reason: str | None, cancel_url: str, consequence: str = "", status: int = 200
):
    return render_template(
        "frame/confirm_delete.html",
        what=what,
        reason=reason,
        cancel_url=cancel_url,
        consequence=consequence,
    ), status


def _delete_flow(found, delete, why_not, cancel_url: str, done_url: str, consequence: str = ""):
    """The confirm-then-delete page of a frame record: GET asks (or says why it cannot go),
    POST deletes, or answers 409 with the reason when something still uses the record."""
    if request.method != "POST":
        return _confirm_delete(found.name, why_not(found), cancel_url, consequence)
    name = found.name
    try:
        delete(found)
    except FrameError as error:
        db.session.rollback()
        return _confirm_delete(name, str(error), cancel_url, status=409)
    flash(f"{name} has been deleted.", "success")
    return redirect(done_url)


def _page_number() -> int:
    return parse_page_number(request.args.get("page"))


def _is_filtered(form) -> bool:
    return any(request.args.get(name) for name in form.data)


# --- Studies ---------------------------------------------------------------------------------


def _study_or_404(slug: str) -> Study:
    study = services.get_study_by_slug(slug)
    if study is None:
        abort(404)
    return study


def _study_fields(form: StudyForm) -> dict:
    return {
        name: form[name].data
        for name in (
            "name",
            "slug",
            "description",
            "timezone",
            "fieldwork_starts_on",
            "fieldwork_ends_on",
            "organiser_name",
            "organiser_email",
            "interview_minutes",
        )
    }


@blueprint.get("/studies")
def studies():
    return render_template("frame/studies.html", rows=study_services.study_rows())


@blueprint.get("/studies/<slug>")
def study(slug: str):
    found = _study_or_404(slug)
    current = services.current_study()
    return render_template(
        "frame/study.html",
        study=found,
        summary=study_services.study_summary(found),
        is_current=current is not None and current.id == found.id,
    )


@blueprint.route("/studies/new", methods=["GET", "POST"])
@administrator_required
def new_study():
    form = StudyForm()
    if form.validate_on_submit():
        try:
            created = study_services.save_study(None, **_study_fields(form))
        except FrameError as error:
            _show_error(form, error)
        else:
            # Studies are the unit of access: whoever creates one coordinates it.
            accounts.set_membership(current_user, created.id, "coordinator")
            services.select_study(created.id)
            flash(
                f"The study {created.name} is created, and you are now working on it. "
                "Add its phases next.",
                "success",
            )
            return redirect(url_for("frame.study", slug=created.slug))
    return _form_page(
        form,
        heading="Create a study",
        submit="Create study",
        crumbs=[("Studies", url_for("frame.studies"))],
        cancel_url=url_for("frame.studies"),
        short_fields=("interview_minutes", "slug"),
    )


@blueprint.route("/studies/<slug>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_study(slug: str):
    found = _study_or_404(slug)
    form = StudyForm(obj=found)
    if form.validate_on_submit():
        try:
            saved = study_services.save_study(found, **_study_fields(form))
        except FrameError as error:
            _show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.study", slug=saved.slug))
    return _form_page(
        form,
        heading=f"Edit {found.name}",
        submit="Save",
        crumbs=[
            ("Studies", url_for("frame.studies")),
            (found.name, url_for("frame.study", slug=found.slug)),
        ],
        cancel_url=url_for("frame.study", slug=found.slug),
        short_fields=("interview_minutes", "slug"),
    )


@blueprint.route("/studies/<slug>/delete", methods=["GET", "POST"])
@administrator_required
def delete_study(slug: str):
    found = _study_or_404(slug)
    form = DeleteStudyForm()
    if form.validate_on_submit():
        name = found.name
        try:
            study_services.delete_study(found, form.confirm_name.data, current_user)
        except FrameError as error:
            _show_error(form, error)
        else:
            flash(f"The study {name} and its whole sample frame have been deleted.", "success")
            return redirect(url_for("frame.studies"))
    return render_template(
        "frame/delete_study.html",
        study=found,
        form=form,
        summary=study_services.study_summary(found),
    ), 422 if form.errors else 200


# --- Phases ----------------------------------------------------------------------------------


def _phase_or_404(phase_id: int):
    found = phase_services.get_phase(require_study(), phase_id)
    if found is None:
        abort(404)
    return found


def _phase_fields(form: PhaseForm) -> dict:
    return {"number": form.number.data, "name": form.name.data, "go_live_on": form.go_live_on.data}


@blueprint.get("/phases/<int:phase_id>")
def phase(phase_id: int):
    found = _phase_or_404(phase_id)
    return render_template(
        "frame/phase.html",
        phase=found,
        districts=phase_services.districts_in_phase(found),
        participants=common.participant_count(found.study_id, phase_id=found.id),
    )


@blueprint.route("/phases/new", methods=["GET", "POST"])
@coordinator_required
def new_phase():
    current = require_study()
    form = PhaseForm()
    if request.method == "GET":
        next_number = (
            max((row.phase.number for row in phase_services.phase_rows(current)), default=0) + 1
        )
        form.number.data = next_number
        form.name.data = f"Phase {next_number}"
    if form.validate_on_submit():
        try:
            created = phase_services.save_phase(current, None, **_phase_fields(form))
        except FrameError as error:
            _show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.phase", phase_id=created.id))
    return _form_page(
        form,
        heading=f"Add a phase to {current.name}",
        submit="Add phase",
        crumbs=[("Districts", url_for("frame.districts"))],
        cancel_url=url_for("frame.districts"),
        short_fields=("number",),
    )


@blueprint.route("/phases/<int:phase_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_phase(phase_id: int):
    found = _phase_or_404(phase_id)
    form = PhaseForm(obj=found)
    if form.validate_on_submit():
        try:
            saved = phase_services.save_phase(require_study(), found, **_phase_fields(form))
        except FrameError as error:
            _show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.phase", phase_id=saved.id))
    return _form_page(
        form,
        heading=f"Edit {found.name}",
        submit="Save",
        crumbs=[
            ("Districts", url_for("frame.districts")),
            (found.name, url_for("frame.phase", phase_id=found.id)),
        ],
        cancel_url=url_for("frame.phase", phase_id=found.id),
        short_fields=("number",),
    )


@blueprint.route("/phases/<int:phase_id>/delete", methods=["GET", "POST"])
@coordinator_required
def delete_phase(phase_id: int):
    found = _phase_or_404(phase_id)
    return _delete_flow(
        found,
        phase_services.delete_phase,
        phase_services.why_not_delete_phase,
        url_for("frame.phase", phase_id=found.id),
        url_for("frame.districts"),
    )


# --- Districts -------------------------------------------------------------------------------


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
        current, _page_number(), current_app.config["PAGE_SIZE"], search=search, phase_id=phase_id
    )
    return render_template(
        "frame/districts.html",
        study=current,
        phases=phases,
        form=form,
        page=page,
        is_filtered=_is_filtered(form),
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
            _show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.district", district_id=created.id))
    return _form_page(
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
            _show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.district", district_id=saved.id))
    return _form_page(
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
    return _delete_flow(
        found,
        district_services.delete_district,
        district_services.why_not_delete_district,
        url_for("frame.district", district_id=found.id),
        url_for("frame.districts"),
        consequence="Organisations that cover it will simply stop covering it.",
    )


# --- Organisations ---------------------------------------------------------------------------


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
        _page_number(),
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
        is_filtered=_is_filtered(form),
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
            _show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.organisation", organisation_id=created.id))
    return _form_page(
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
            _show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.organisation", organisation_id=saved.id))
    return _form_page(
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
    return _delete_flow(
        found,
        organisation_services.delete_organisation,
        organisation_services.why_not_delete_organisation,
        url_for("frame.organisation", organisation_id=found.id),
        url_for("frame.organisations"),
    )


# --- Roles -----------------------------------------------------------------------------------


def _role_or_404(role_id: int):
    found = role_services.get_role(require_study(), role_id)
    if found is None:
        abort(404)
    return found


def _role_fields(form: RoleForm) -> dict:
    return {
        "name": form.name.data,
        "organisation_kind": form.organisation_kind.data,
        "description": form.description.data,
    }


@blueprint.get("/roles")
def roles():
    current = require_study()
    form = NameSearchForm(request.args)
    search = (form.q.data or "") if form.validate() else ""
    return render_template(
        "frame/roles.html",
        study=current,
        form=form,
        rows=role_services.role_rows(current, search),
        is_filtered=_is_filtered(form),
    )


@blueprint.get("/roles/<int:role_id>")
def role(role_id: int):
    found = _role_or_404(role_id)
    return render_template(
        "frame/role.html",
        role=found,
        participants=common.participant_count(found.study_id, role_id=found.id),
    )


@blueprint.route("/roles/new", methods=["GET", "POST"])
@coordinator_required
def new_role():
    current = require_study()
    form = RoleForm()
    if form.validate_on_submit():
        try:
            created = role_services.save_role(current, None, **_role_fields(form))
        except FrameError as error:
            _show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.role", role_id=created.id))
    return _form_page(
        form,
        heading="Add a stakeholder role",
        submit="Add role",
        crumbs=[("Roles", url_for("frame.roles"))],
        cancel_url=url_for("frame.roles"),
    )


@blueprint.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_role(role_id: int):
    found = _role_or_404(role_id)
    form = RoleForm(obj=found)
    if form.validate_on_submit():
        try:
            saved = role_services.save_role(require_study(), found, **_role_fields(form))
        except FrameError as error:
            _show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.role", role_id=saved.id))
    return _form_page(
        form,
        heading=f"Edit {found.name}",
        submit="Save",
        crumbs=[
            ("Roles", url_for("frame.roles")),
            (found.name, url_for("frame.role", role_id=found.id)),
        ],
        cancel_url=url_for("frame.role", role_id=found.id),
    )


@blueprint.route("/roles/<int:role_id>/delete", methods=["GET", "POST"])
@coordinator_required
def delete_role(role_id: int):
    found = _role_or_404(role_id)
    return _delete_flow(
        found,
        role_services.delete_role,
        role_services.why_not_delete_role,
        url_for("frame.role", role_id=found.id),
        url_for("frame.roles"),
    )
