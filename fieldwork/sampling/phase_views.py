"""Phase pages: a phase with its districts; adding, editing and deleting one are built by
frame_views.add_record_pages (phases have no list of their own: the districts page lists them).

Routes of the frame blueprint (frame_views), which holds what the frame's pages share.
"""

from __future__ import annotations

from flask import render_template

from fieldwork.sampling.frame import common
from fieldwork.sampling.frame import phases as phase_services
from fieldwork.sampling.frame_forms import PhaseForm
from fieldwork.sampling.frame_views import RecordPages, add_record_pages, blueprint
from fieldwork.sampling.models import Phase, Study


def _phase_fields(form: PhaseForm) -> dict:
    return {"number": form.number.data, "name": form.name.data, "go_live_on": form.go_live_on.data}


@blueprint.get("/phases/<int:phase_id>")
def phase(phase_id: int):
    found = PAGES.found_or_404(phase_id)
    return render_template(
        "frame/phase.html",
        phase=found,
        districts=phase_services.districts_in_phase(found),
        participants=common.participant_count(found.study_id, phase_id=found.id),
    )


def _next_phase(form: PhaseForm, current: Study) -> None:
    """Suggest the number after the study's last phase, and its name."""
    next_number = (
        max((row.phase.number for row in phase_services.phase_rows(current)), default=0) + 1
    )
    form.number.data = next_number
    form.name.data = f"Phase {next_number}"


def _phase_form(current: Study, found: Phase | None) -> PhaseForm:
    return PhaseForm(obj=found)


PAGES = RecordPages(
    noun="phase",
    list_endpoint="frame.districts",
    list_label="Districts",
    get=phase_services.get_phase,
    make_form=_phase_form,
    fields=_phase_fields,
    save=phase_services.save_phase,
    delete=phase_services.delete_phase,
    why_not_delete=phase_services.why_not_delete_phase,
    add_heading=lambda current: f"Add a phase to {current.name}",
    add_submit="Add phase",
    prefill=_next_phase,
    short_fields=("number",),
)
add_record_pages(PAGES)
