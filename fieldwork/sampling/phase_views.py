"""Phase pages: a phase with its districts, adding, editing and deleting one.

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import phases as phase_services
from fieldwork.sampling.frame_forms import PhaseForm
from fieldwork.sampling.frame_views import (
    blueprint,
    delete_flow,
    form_page,
    show_error,
)
from fieldwork.sampling.services import FrameError


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
            show_error(form, error)
        else:
            flash(f"{created.name} is added.", "success")
            return redirect(url_for("frame.phase", phase_id=created.id))
    return form_page(
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
            show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.phase", phase_id=saved.id))
    return form_page(
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
    return delete_flow(
        found,
        phase_services.delete_phase,
        phase_services.why_not_delete_phase,
        url_for("frame.phase", phase_id=found.id),
        url_for("frame.districts"),
    )
