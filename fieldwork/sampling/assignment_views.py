"""A coordinator assigns one participant from their page (many at once is the participant
list's bulk action, which calls the same service)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.sampling import assignment, services
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
