"""Role pages: the list and a role; adding, editing and deleting one are built by
frame_views.add_record_pages.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import render_template, request

from fieldwork.core.studies import require_study
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import roles as role_services
from fieldwork.sampling.frame_forms import (
    NameSearchForm,
    RoleForm,
)
from fieldwork.sampling.frame_views import (
    RecordPages,
    add_record_pages,
    blueprint,
    is_filtered,
)
from fieldwork.sampling.models import Role, Study


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
    found = PAGES.found_or_404(role_id)
    return render_template(
        "frame/role.html",
        role=found,
        participants=common.participant_count(found.study_id, role_id=found.id),
    )


def _role_form(current: Study, found: Role | None) -> RoleForm:
    return RoleForm(obj=found)


PAGES = RecordPages(
    noun="role",
    list_endpoint="frame.roles",
    list_label="Roles",
    get=role_services.get_role,
    make_form=_role_form,
    fields=_role_fields,
    save=role_services.save_role,
    delete=role_services.delete_role,
    why_not_delete=role_services.why_not_delete_role,
    add_heading=lambda current: "Add a stakeholder role",
    add_submit="Add role",
)
add_record_pages(PAGES)
