"""A coordinator assigns one participant from their page, or many at once with the participant
list's "Assign" bulk action (the same service)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from fieldwork.accounts import services as accounts
from fieldwork.accounts.access import coordinator_required
from fieldwork.core.forms import coerce_optional_int
from fieldwork.sampling import assignment, bulk, services
from fieldwork.sampling.models import Participant, Study
from fieldwork.sampling.views import blueprint


@blueprint.post("/participants/<int:participant_id>/interviewer")
@coordinator_required
def assign_participant(participant_id: int):
    person = services.get_participant(participant_id, current_user)
    if person is None:
        abort(404)
    raw = request.form.get("interviewer_id", "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        flash("Choose an interviewer from the list.", "error")
        return redirect(url_for("sampling.participant", participant_id=person.id))
    try:
        changed = assignment.assign_interviewer(
            [person.id], int(raw) if raw else None, current_user, study_id=person.study_id
        )
    except assignment.AssignmentError as error:
        flash(str(error), "error")
    else:
        person = services.get_participant(participant_id, current_user)
        if person is None:
            abort(404)
        who = person.interviewer.name if person.interviewer else "nobody"
        if changed:
            flash(f"{person.reference} is now assigned to {who}.", "success")
        else:
            flash(f"{person.reference} was already assigned to {who}.", "info")
    return redirect(url_for("sampling.participant", participant_id=participant_id))


def _fill_assign(form: FlaskForm, study: Study) -> None:
    form.assign_to.choices = [SelectChoice("", "Nobody (remove the assignment)")] + [
        SelectChoice(str(u.id), u.name) for u in bulk.bookable_people()
    ]


def _bulk_assign(study: Study, form: FlaskForm, chosen: list[Participant]) -> bulk.BulkOutcome:
    interviewer = accounts.get_user(form.assign_to.data or 0)
    if form.assign_to.data and (interviewer is None or not interviewer.is_enabled):
        return "Choose who to assign them to.", None, ""
    result = bulk.assign(chosen, interviewer, current_user)
    return (
        None,
        result,
        (f"Assigned to {interviewer.name}" if interviewer else "Assignment removed"),
    )


#: The participant list's "Assign" button (sampling's own bulk action).
ASSIGN = bulk.BulkAction(
    name="assign",
    legend="Assign an interviewer",
    button="Assign",
    order=10,
    fields={
        "assign_to": SelectField("Assign to", coerce=coerce_optional_int, validators=[Optional()]),
    },
    fill=_fill_assign,
    handle=_bulk_assign,
)
