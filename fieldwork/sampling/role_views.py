"""Role pages: the list, a role, adding, editing and deleting one.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import roles as role_services
from fieldwork.sampling.frame_forms import (
    NameSearchForm,
    RoleForm,
)
from fieldwork.sampling.frame_views import (
    blueprint,
    delete_flow,
    form_page,
    is_filtered,
    show_error,
)
from fieldwork.sampling.services import FrameError


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
        is_filtered=is_filtered(form),
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
            show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.role", role_id=created.id))
    return form_page(
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
            show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.role", role_id=saved.id))
    return form_page(
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
    return delete_flow(
        found,
        role_services.delete_role,
        role_services.why_not_delete_role,
        url_for("frame.role", role_id=found.id),
        url_for("frame.roles"),
    )
